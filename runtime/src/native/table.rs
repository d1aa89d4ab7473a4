//! Member tables: the methods and attributes of one type, each declared once with its name, doc
//! text and parameters. The runtime finds members by interned symbol, checks arguments from the
//! declaration, suggests the closest name for a misspelt one, and `help()` and the REPL read the
//! same entries.
//!
//! A table is a `static`; the symbols of its names are interned on first use and kept in it, so
//! finding a member compares a few integers.

use std::sync::OnceLock;

use crate::args::Args;
use crate::fault::Fault;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

use super::params::Params;

/// A method: the receiver, the VM and the arguments.
pub type MethodFn<R> = fn(&R, &mut Vm, Args<'_>) -> Result<Value, Fault>;
/// A method that changes the receiver and returns it, for chaining (`resp.with_header(..)`).
pub type ChainFn<R> = fn(&R, &mut Vm, Args<'_>) -> Result<(), Fault>;
/// An attribute's getter.
pub type GetterFn<R> = fn(&R, &mut Vm) -> Result<Value, Fault>;
/// An attribute's setter (`resp.status = 404`); it checks the value.
pub type SetterFn<R> = fn(&R, &mut Vm, Value) -> Result<(), Fault>;

/// What a member is.
pub enum MemberKind<R: 'static> {
    /// Called with arguments.
    Method(MethodFn<R>),
    /// Called with arguments; returns the receiver.
    Chained(ChainFn<R>),
    /// Read as `obj.name`.
    Attribute(GetterFn<R>),
}

/// One method or attribute of a type.
pub struct Member<R: 'static> {
    /// The name scripts use.
    pub name: &'static str,
    /// `help()`'s text: the first line is the signature, the rest says what it does.
    pub doc: &'static str,
    /// What a method accepts (unused for attributes).
    pub params: Params,
    /// What it is.
    pub kind: MemberKind<R>,
    /// For an attribute scripts may assign: how.
    pub set: Option<SetterFn<R>>,
}

impl<R: 'static> Member<R> {
    /// A method taking no arguments until `.params(..)` says otherwise.
    pub const fn method(name: &'static str, call: MethodFn<R>) -> Member<R> {
        Member {
            name,
            doc: "",
            params: Params::NONE,
            kind: MemberKind::Method(call),
            set: None,
        }
    }

    /// A method that returns its receiver.
    pub const fn chained(name: &'static str, call: ChainFn<R>) -> Member<R> {
        Member {
            name,
            doc: "",
            params: Params::NONE,
            kind: MemberKind::Chained(call),
            set: None,
        }
    }

    /// A read-only attribute.
    pub const fn attribute(name: &'static str, get: GetterFn<R>) -> Member<R> {
        Member {
            name,
            doc: "",
            params: Params::NONE,
            kind: MemberKind::Attribute(get),
            set: None,
        }
    }

    /// The doc text.
    pub const fn doc(self, doc: &'static str) -> Member<R> {
        Member { doc, ..self }
    }

    /// What the method accepts.
    pub const fn params(self, params: Params) -> Member<R> {
        Member { params, ..self }
    }

    /// Makes an attribute assignable.
    pub const fn setter(self, set: SetterFn<R>) -> Member<R> {
        Member {
            set: Some(set),
            ..self
        }
    }

    /// True for methods (chained or not).
    pub fn is_method(&self) -> bool {
        !matches!(self.kind, MemberKind::Attribute(_))
    }
}

/// The members of one type.
pub struct Table<R: 'static> {
    /// The type name scripts see (`list`, `http.Server`).
    pub type_name: &'static str,
    /// `help()`'s text for the type itself.
    pub doc: &'static str,
    /// Its members, in the order `help()` lists them.
    pub members: &'static [Member<R>],
    /// The members' names as symbols, in table order, interned on first use.
    symbols: OnceLock<Box<[Symbol]>>,
    /// `type.member`, for messages, made on first use.
    qualified: OnceLock<Box<[String]>>,
    /// What calling an object of the type does (`breaker(f)` as a decorator); `None`: objects
    /// of the type are not callable.
    pub call: Option<MethodFn<R>>,
}

impl<R: 'static> Table<R> {
    /// A table for a `static`.
    pub const fn new(
        type_name: &'static str,
        doc: &'static str,
        members: &'static [Member<R>],
    ) -> Table<R> {
        Table::make(type_name, doc, members, None)
    }

    /// A table whose objects are callable as `call` says (`breaker(f)` as a decorator).
    pub const fn callable(
        type_name: &'static str,
        doc: &'static str,
        members: &'static [Member<R>],
        call: MethodFn<R>,
    ) -> Table<R> {
        Table::make(type_name, doc, members, Some(call))
    }

    const fn make(
        type_name: &'static str,
        doc: &'static str,
        members: &'static [Member<R>],
        call: Option<MethodFn<R>>,
    ) -> Table<R> {
        Table {
            type_name,
            doc,
            members,
            symbols: OnceLock::new(),
            qualified: OnceLock::new(),
            call,
        }
    }

    /// `type.member` for member `index` (`list.append`), as messages name it.
    pub fn qualified_name(&'static self, index: usize) -> &'static str {
        let names = self.qualified.get_or_init(|| {
            self.members
                .iter()
                .map(|m| format!("{}.{}", self.type_name, m.name))
                .collect()
        });
        names.get(index).map_or("?", String::as_str)
    }

    /// The member called `name`.
    #[inline]
    pub fn find(&self, name: Symbol) -> Option<&'static Member<R>> {
        let members = self.members;
        members.get(self.index_of(name)?)
    }

    /// The position of the member called `name`.
    #[inline]
    pub fn index_of(&self, name: Symbol) -> Option<usize> {
        let symbols = self.symbols.get_or_init(|| {
            self.members
                .iter()
                .map(|m| Symbol::intern(m.name))
                .collect()
        });
        symbols.iter().position(|s| *s == name)
    }

    /// Calls method `member` on `receiver`: checks the arguments against its declaration first.
    /// `this` makes the receiver as a value, for chained methods.
    pub fn call(
        &self,
        member: &Member<R>,
        receiver: &R,
        this: impl FnOnce() -> Value,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault> {
        match member.kind {
            MemberKind::Method(call) => {
                member.params.check(&args)?;
                call(receiver, vm, args)
            }
            MemberKind::Chained(call) => {
                member.params.check(&args)?;
                call(receiver, vm, args)?;
                Ok(this())
            }
            MemberKind::Attribute(get) => Err(Fault::new(format!(
                "{}.{} is an attribute, not a method ({})",
                self.type_name,
                member.name,
                describe_value(get(receiver, vm))
            ))),
        }
    }

    /// The fault for a name the type does not have, with the closest one suggested.
    pub fn unknown(&self, name: Symbol, what: &str) -> Fault {
        unknown_member(self.type_name, name, what, self.names())
    }

    /// Member names in table order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.members.iter().map(|m| m.name)
    }

    /// The table as `help()` and completion read it.
    pub fn docs(&self) -> TypeDoc {
        TypeDoc {
            type_name: self.type_name,
            doc: self.doc,
            members: self
                .members
                .iter()
                .map(|m| MemberDoc {
                    name: m.name,
                    doc: m.doc,
                    is_method: m.is_method(),
                })
                .collect(),
        }
    }
}

fn describe_value(value: Result<Value, Fault>) -> String {
    match value {
        Ok(v) => format!("its value is {}", v.type_name()),
        Err(f) => f.message,
    }
}

/// "T has no method 'x'; did you mean 'y'?"
pub fn unknown_member<'a>(
    type_name: &str,
    name: Symbol,
    what: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Fault {
    let text = name.name();
    let mut message = format!("{type_name} has no {what} '{text}'");
    if let Some(close) = cn_compiler::diagnostic::closest_name(text, candidates) {
        message.push_str(&format!("; did you mean '{close}'?"));
    }
    Fault::new(message)
}

/// A type's documentation: what `help()` prints and the REPL completes.
#[derive(Clone, Debug)]
pub struct TypeDoc {
    /// The type name.
    pub type_name: &'static str,
    /// The type's doc text.
    pub doc: &'static str,
    /// Its members in table order.
    pub members: Vec<MemberDoc>,
}

/// One member's documentation.
#[derive(Clone, Copy, Debug)]
pub struct MemberDoc {
    /// Its name.
    pub name: &'static str,
    /// Its doc text (signature line first).
    pub doc: &'static str,
    /// Method or attribute.
    pub is_method: bool,
}
