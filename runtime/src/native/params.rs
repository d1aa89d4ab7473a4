//! What a native function or method accepts: how many positional arguments and which keyword
//! names. The runtime checks it before the call, so every native reports a wrong call in the same
//! words and its body reads only what it was given.

use crate::args::Args;
use crate::fault::Fault;

/// The keyword arguments a native accepts.
#[derive(Clone, Copy, Debug)]
pub enum Keywords {
    /// Only these names.
    Named(&'static [&'static str]),
    /// Any name (`log.info(msg, **fields)`).
    Any,
}

/// Positional counts and keyword names of a native.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Fewest positional arguments.
    pub min: usize,
    /// Most positional arguments (`usize::MAX`: no limit).
    pub max: usize,
    /// Accepted keyword names.
    pub keywords: Keywords,
}

impl Params {
    /// No arguments at all.
    pub const NONE: Params = Params::between(0, 0);

    /// Anything: the native checks its arguments itself (closures made by library code).
    pub const ANY: Params = Params {
        min: 0,
        max: usize::MAX,
        keywords: Keywords::Any,
    };

    /// Exactly `n` positional arguments, no keywords.
    pub const fn exactly(n: usize) -> Params {
        Params::between(n, n)
    }

    /// `min` to `max` positional arguments, no keywords.
    pub const fn between(min: usize, max: usize) -> Params {
        Params {
            min,
            max,
            keywords: Keywords::Named(&[]),
        }
    }

    /// At least `min` positional arguments, no keywords.
    pub const fn at_least(min: usize) -> Params {
        Params::between(min, usize::MAX)
    }

    /// The same counts, accepting keyword arguments `names`.
    pub const fn keywords(self, names: &'static [&'static str]) -> Params {
        Params {
            keywords: Keywords::Named(names),
            ..self
        }
    }

    /// The same counts, accepting any keyword argument.
    pub const fn any_keywords(self) -> Params {
        Params {
            keywords: Keywords::Any,
            ..self
        }
    }

    /// Faults, naming the function, unless `args` fit.
    #[inline]
    pub fn check(&self, args: &Args<'_>) -> Result<(), Fault> {
        // An unknown keyword first: `xs.append(x=2)` is about `x`, not about a missing value.
        if let (Keywords::Named(allowed), false) = (self.keywords, args.names.is_empty()) {
            args.allow_named(allowed)?;
        }
        if args.positional.len() < self.min || args.positional.len() > self.max {
            args.expect_count(self.min, self.max)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::Symbol;
    use crate::value::Value;

    #[test]
    fn counts_and_keywords_are_checked_in_one_wording() {
        let params = Params::between(1, 2).keywords(&["sep"]);
        let one = [Value::Int(1)];
        assert!(params.check(&Args::new("f", &one)).is_ok());
        let none = Args::new("f", &[]);
        assert_eq!(
            params
                .check(&none)
                .map_err(|f| f.message)
                .expect_err("too few"),
            "f() takes 1 to 2 arguments, got 0"
        );
        let names = [Symbol::intern("end")];
        let named = [Value::Nil];
        let args = Args {
            names: &names,
            named: &named,
            ..Args::new("f", &one)
        };
        assert_eq!(
            params
                .check(&args)
                .map_err(|f| f.message)
                .expect_err("unknown keyword"),
            "f() got an unexpected keyword argument 'end'"
        );
        assert!(Params::ANY.check(&args).is_ok());
    }
}
