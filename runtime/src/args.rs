//! Arguments as native functions receive them, with the checks every native needs.

use std::rc::Rc;

use crate::fault::Fault;
use crate::symbol::Symbol;
use crate::value::Value;

/// The arguments of one native call: positional values, then keyword names and values.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    /// The function's name, for error messages.
    pub function: &'a str,
    /// Positional arguments.
    pub positional: &'a [Value],
    /// Keyword argument names, parallel to `named`.
    pub names: &'a [Symbol],
    /// Keyword argument values.
    pub named: &'a [Value],
}

impl<'a> Args<'a> {
    /// Positional-only arguments.
    pub fn new(function: &'a str, positional: &'a [Value]) -> Args<'a> {
        Args {
            function,
            positional,
            names: &[],
            named: &[],
        }
    }

    /// Number of positional arguments.
    pub fn len(&self) -> usize {
        self.positional.len()
    }

    /// True when no positional arguments were given.
    pub fn is_empty(&self) -> bool {
        self.positional.is_empty()
    }

    /// Positional argument `i`.
    pub fn get(&self, i: usize) -> Option<&'a Value> {
        self.positional.get(i)
    }

    /// Keyword argument `name`.
    pub fn named(&self, name: &str) -> Option<&'a Value> {
        // Most calls pass no keywords: skip interning the name (a hash lookup) for them.
        if self.names.is_empty() {
            return None;
        }
        let sym = Symbol::intern(name);
        self.names
            .iter()
            .position(|n| *n == sym)
            .map(|i| &self.named[i])
    }

    /// Positional argument `i`, or else keyword argument `name`.
    pub fn get_or_named(&self, i: usize, name: &str) -> Option<&'a Value> {
        self.get(i).or_else(|| self.named(name))
    }

    /// Fails unless between `min` and `max` positional arguments were given.
    pub fn expect_count(&self, min: usize, max: usize) -> Result<(), Fault> {
        let n = self.positional.len();
        if n < min || n > max {
            let wanted = match (min, max) {
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, usize::MAX) => {
                    format!("at least {a} argument{}", if a == 1 { "" } else { "s" })
                }
                (a, b) => format!("{a} to {b} arguments"),
            };
            return Err(Fault::new(format!(
                "{}() takes {wanted}, got {n}",
                self.function
            )));
        }
        Ok(())
    }

    /// Fails if a keyword argument outside `allowed` was given.
    pub fn allow_named(&self, allowed: &[&str]) -> Result<(), Fault> {
        for name in self.names {
            let text = name.name();
            if !allowed.contains(&text) {
                let mut message = format!(
                    "{}() got an unexpected keyword argument '{text}'",
                    self.function
                );
                if let Some(close) =
                    cn_compiler::diagnostic::closest_name(text, allowed.iter().copied())
                {
                    message.push_str(&format!("; did you mean '{close}'?"));
                }
                return Err(Fault::new(message));
            }
        }
        Ok(())
    }

    /// Positional argument `i`, which must be present.
    pub fn value(&self, i: usize) -> Result<&'a Value, Fault> {
        self.positional
            .get(i)
            .ok_or_else(|| Fault::new(format!("{}() missing argument {}", self.function, i + 1)))
    }

    /// Positional argument `i` as an int.
    pub fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.value(i)? {
            Value::Int(n) => Ok(*n),
            other => Err(self.wrong_type(i, "int", other)),
        }
    }

    /// Positional argument `i` as a number (ints widen).
    pub fn float(&self, i: usize) -> Result<f64, Fault> {
        match self.value(i)? {
            Value::Int(n) => Ok(*n as f64),
            Value::Float(f) => Ok(*f),
            other => Err(self.wrong_type(i, "float", other)),
        }
    }

    /// Positional argument `i` as a string.
    pub fn str(&self, i: usize) -> Result<&'a Rc<String>, Fault> {
        match self.value(i)? {
            Value::Str(s) => Ok(s),
            other => Err(self.wrong_type(i, "str", other)),
        }
    }

    /// Keyword argument `name` as a bool: false when absent or nil, a fault for another type.
    pub fn flag(&self, name: &str) -> Result<bool, Fault> {
        match self.named(name) {
            None | Some(Value::Nil) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong_keyword(name, "a bool", other)),
        }
    }

    /// Keyword argument `name` as a str: `None` when absent or nil, a fault for another type.
    pub fn str_option(&self, name: &str) -> Result<Option<&'a Rc<String>>, Fault> {
        match self.named(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_keyword(name, "a str", other)),
        }
    }

    /// The fault for keyword argument `name` having the wrong type.
    pub fn wrong_keyword(&self, name: &str, expected: &str, got: &Value) -> Fault {
        Fault::new(format!(
            "{}: {name} must be {expected}, got {}",
            self.function,
            got.type_name()
        ))
    }

    /// The fault for argument `i` having the wrong type.
    pub fn wrong_type(&self, i: usize, expected: &str, got: &Value) -> Fault {
        Fault::new(format!(
            "{}() argument {} must be {expected}, not {}",
            self.function,
            i + 1,
            got.type_name()
        ))
    }
}
