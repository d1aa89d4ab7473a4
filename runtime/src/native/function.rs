//! Native functions declared in tables: builtins and module functions, each with its name, doc
//! text and parameters written once.

use crate::object::NativeFn;

use super::params::Params;

/// One native function as declared.
pub struct Function {
    /// The name scripts use inside its module (`get`; `http.get` once qualified).
    pub name: &'static str,
    /// `help()`'s text: the first line is the signature, the rest says what it does.
    pub doc: &'static str,
    /// What it accepts; checked before `call` runs.
    pub params: Params,
    /// The implementation.
    pub call: NativeFn,
}

impl Function {
    /// A function taking no arguments until `.params(..)` says otherwise.
    pub const fn new(name: &'static str, call: NativeFn) -> Function {
        Function {
            name,
            doc: "",
            params: Params::NONE,
            call,
        }
    }

    /// The doc text.
    pub const fn doc(self, doc: &'static str) -> Function {
        Function { doc, ..self }
    }

    /// What it accepts.
    pub const fn params(self, params: Params) -> Function {
        Function { params, ..self }
    }
}

/// The part of a doc text after its signature line.
pub fn summary(doc: &str) -> &str {
    doc.split_once('\n').map_or("", |(_, rest)| rest.trim())
}

/// The signature line of a doc text.
pub fn signature(doc: &str) -> &str {
    doc.split_once('\n').map_or(doc, |(first, _)| first).trim()
}
