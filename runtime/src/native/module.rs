//! Native modules: a builder that a library module fills once, on first import, with its
//! declared functions, stateful functions and values, each with a doc.

use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::object::{NativeFunction, NativeImpl};
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

use super::function::Function;
use super::params::Params;

/// Fills a module's builder on first import.
pub type ModuleInit = fn(&mut ModuleBuilder, &mut Vm);

/// A native module being built.
pub struct ModuleBuilder {
    name: &'static str,
    doc: &'static str,
    members: Vec<ModuleMember>,
}

/// One member of a native module.
pub struct ModuleMember {
    /// Its name.
    pub name: Symbol,
    /// `help()`'s text.
    pub doc: &'static str,
    /// Its value.
    pub value: Value,
}

/// A native module's members and doc.
pub struct NativeModule {
    /// `help()`'s text for the module.
    pub doc: &'static str,
    /// Members in declaration order.
    pub members: Vec<ModuleMember>,
}

impl ModuleBuilder {
    /// An empty module called `name`.
    pub fn new(name: &'static str) -> ModuleBuilder {
        ModuleBuilder {
            name,
            doc: "",
            members: Vec::new(),
        }
    }

    /// The module's doc text.
    pub fn doc(&mut self, doc: &'static str) -> &mut Self {
        self.doc = doc;
        self
    }

    /// Adds declared functions, named `module.name` in messages.
    pub fn functions(&mut self, table: &'static [Function]) -> &mut Self {
        for function in table {
            let value = NativeFunction::declared(self.qualified(function.name), function);
            self.push(function.name, function.doc, value);
        }
        self
    }

    /// Adds a function with state of its own (a closure over the module's shared client).
    pub fn function_with(
        &mut self,
        name: &'static str,
        doc: &'static str,
        params: Params,
        call: impl Fn(&mut Vm, Args<'_>) -> Result<Value, Fault> + 'static,
    ) -> &mut Self {
        let value = Value::Native(Rc::new(NativeFunction {
            name: self.qualified(name),
            doc,
            params,
            func: NativeImpl::Closure(Box::new(call)),
        }));
        self.push(name, doc, value)
    }

    /// Adds a value (a constant, an error variant, a constructor object).
    pub fn value(&mut self, name: &'static str, doc: &'static str, value: Value) -> &mut Self {
        self.push(name, doc, value)
    }

    /// `module.name`.
    pub fn qualified(&self, name: &str) -> Rc<str> {
        format!("{}.{name}", self.name).into()
    }

    fn push(&mut self, name: &'static str, doc: &'static str, value: Value) -> &mut Self {
        self.members.push(ModuleMember {
            name: Symbol::intern(name),
            doc,
            value,
        });
        self
    }

    /// The finished module.
    pub fn finish(self) -> NativeModule {
        NativeModule {
            doc: self.doc,
            members: self.members,
        }
    }
}
