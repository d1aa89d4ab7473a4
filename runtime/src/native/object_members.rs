//! The bridge from a library type's [`Table`] to the VM, which sees library objects only as
//! `dyn NativeType`: finding a member, reading an attribute, calling a method, and the docs.

use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::object::{NativeObject, NativeType};
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

use super::table::{MemberKind, Table, TypeDoc};

/// A found member of a library object's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// A method, by index in its table.
    Method(usize),
    /// An attribute, by index in its table.
    Attribute(usize),
}

/// A library type's members, whatever the type.
pub trait Members: Sync {
    /// The member called `name`.
    fn lookup(&self, name: Symbol) -> Option<Found>;
    /// Reads attribute `index` of `this`.
    fn get(&self, index: usize, this: &Rc<NativeObject>, vm: &mut Vm) -> Result<Value, Fault>;
    /// Assigns attribute `index` of `this`; a fault if it is read-only.
    fn set(
        &self,
        index: usize,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        value: Value,
    ) -> Result<(), Fault>;
    /// Calls method `index` of `this`, checking the arguments first.
    fn call(
        &'static self,
        index: usize,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault>;
    /// Calls the object itself (`obj(args)`); a fault when its type is not callable.
    fn invoke(
        &'static self,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault>;
    /// Whether objects of the type can be called.
    fn is_callable(&self) -> bool;
    /// The fault for an unknown member, with a suggestion.
    fn unknown(&self, name: Symbol, what: &str) -> Fault;
    /// The docs, for `help()` and completion.
    fn docs(&self) -> TypeDoc;
}

impl<T: NativeType> Members for Table<T> {
    #[inline]
    fn lookup(&self, name: Symbol) -> Option<Found> {
        let index = self.index_of(name)?;
        Some(match self.members.get(index)?.kind {
            MemberKind::Attribute(_) => Found::Attribute(index),
            _ => Found::Method(index),
        })
    }

    fn get(&self, index: usize, this: &Rc<NativeObject>, vm: &mut Vm) -> Result<Value, Fault> {
        let receiver = receiver::<T>(self, this)?;
        match self.members.get(index).map(|m| &m.kind) {
            Some(MemberKind::Attribute(get)) => get(receiver, vm),
            _ => Err(mismatch(self)),
        }
    }

    fn set(
        &self,
        index: usize,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        value: Value,
    ) -> Result<(), Fault> {
        let receiver = receiver::<T>(self, this)?;
        let member = self.members.get(index).ok_or_else(|| mismatch(self))?;
        match member.set {
            Some(set) => set(receiver, vm, value),
            None => Err(Fault::new(format!(
                "cannot set attribute '{}' of {}",
                member.name, self.type_name
            ))),
        }
    }

    fn call(
        &'static self,
        index: usize,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault> {
        let receiver = receiver::<T>(self, this)?;
        let member = self.members.get(index).ok_or_else(|| mismatch(self))?;
        Table::call(
            self,
            member,
            receiver,
            || Value::Object(this.clone()),
            vm,
            Args {
                function: self.qualified_name(index),
                ..args
            },
        )
    }

    fn invoke(
        &'static self,
        this: &Rc<NativeObject>,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault> {
        let receiver = receiver::<T>(self, this)?;
        match self.call {
            Some(call) => call(
                receiver,
                vm,
                Args {
                    function: self.type_name,
                    ..args
                },
            ),
            None => Err(Fault::new(format!(
                "a value of type {} is not callable",
                self.type_name
            ))),
        }
    }

    fn is_callable(&self) -> bool {
        self.call.is_some()
    }

    fn unknown(&self, name: Symbol, what: &str) -> Fault {
        Table::unknown(self, name, what)
    }

    fn docs(&self) -> TypeDoc {
        Table::docs(self)
    }
}

/// `this` as the table's type.
fn receiver<'a, T: NativeType>(
    table: &Table<T>,
    this: &'a Rc<NativeObject>,
) -> Result<&'a T, Fault> {
    this.downcast::<T>().ok_or_else(|| mismatch(table))
}

/// A table used with an object of another type: a bug in the library, reported, not a crash.
fn mismatch<T>(table: &Table<T>) -> Fault {
    Fault::new(format!(
        "internal error: {} members used on another type",
        table.type_name
    ))
}
