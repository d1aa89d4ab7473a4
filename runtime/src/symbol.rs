//! Interned names: attribute, method, field and keyword names compare as integers.
//!
//! The interner is per thread because the interpreter is single-threaded. Names the runtime
//! itself dispatches on (`append`, `Ok`, `seconds`, ...) are interned first, in the order of
//! [`WELL_KNOWN`], so they have fixed ids usable as constants in `match` arms.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// An interned name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(pub u32);

struct Interner {
    ids: HashMap<Rc<str>, u32>,
    names: Vec<Rc<str>>,
}

thread_local! {
    static INTERNER: RefCell<Interner> = RefCell::new(Interner::new());
}

impl Interner {
    fn new() -> Interner {
        let mut interner = Interner {
            ids: HashMap::new(),
            names: Vec::new(),
        };
        for name in WELL_KNOWN {
            interner.intern(name);
        }
        interner
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        let name: Rc<str> = name.into();
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }
}

impl Symbol {
    /// The symbol for `name`, interning it on first use.
    pub fn intern(name: &str) -> Symbol {
        INTERNER.with(|i| Symbol(i.borrow_mut().intern(name)))
    }

    /// The symbol's text.
    pub fn name(self) -> Rc<str> {
        INTERNER.with(|i| {
            i.borrow()
                .names
                .get(self.0 as usize)
                .cloned()
                .unwrap_or_else(|| "?".into())
        })
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.name())
    }
}

macro_rules! well_known {
    ($($konst:ident = $text:literal),* $(,)?) => {
        /// Names interned at start-up, in id order.
        pub const WELL_KNOWN: &[&str] = &[$($text),*];
        well_known!(@consts 0u32, $($konst,)*);
    };
    (@consts $n:expr, $konst:ident, $($rest:ident,)*) => {
        #[allow(missing_docs)]
        pub const $konst: Symbol = Symbol($n);
        well_known!(@consts $n + 1u32, $($rest,)*);
    };
    (@consts $n:expr,) => {};
}

well_known! {
    OK = "Ok", ERR = "Err", VALUE = "value", ERROR = "error", SELF = "self",
    ENTER = "enter", EXIT = "exit", INIT = "init",
    // durations
    NS = "ns", US = "us", MS = "ms", MILLISECOND = "millisecond", MILLISECONDS = "milliseconds",
    SECOND = "second", SECONDS = "seconds", MINUTE = "minute", MINUTES = "minutes",
    HOUR = "hour", HOURS = "hours", DAY = "day", DAYS = "days",
    TOTAL_SECONDS = "total_seconds", TOTAL_MILLISECONDS = "total_milliseconds",
    // list
    APPEND = "append", POP = "pop", EXTEND = "extend", INSERT = "insert", REMOVE = "remove",
    INDEX = "index", COUNT = "count", SORT = "sort", REVERSE = "reverse", CLEAR = "clear", COPY = "copy",
    // dict
    KEYS = "keys", VALUES = "values", ITEMS = "items", GET = "get", SETDEFAULT = "setdefault",
    UPDATE = "update",
    // str
    SPLIT = "split", JOIN = "join", STRIP = "strip", LSTRIP = "lstrip", RSTRIP = "rstrip",
    REPLACE = "replace", STARTSWITH = "startswith", ENDSWITH = "endswith", UPPER = "upper",
    LOWER = "lower", FIND = "find", RFIND = "rfind", SPLITLINES = "splitlines", FORMAT = "format",
    ISDIGIT = "isdigit", ISALPHA = "isalpha", ISSPACE = "isspace", ISALNUM = "isalnum",
    ISUPPER = "isupper", ISLOWER = "islower",
    TITLE = "title", CAPITALIZE = "capitalize", ZFILL = "zfill", CENTER = "center", LJUST = "ljust",
    RJUST = "rjust", PARTITION = "partition", RSPLIT = "rsplit", ENCODE = "encode",
    // bytes
    DECODE = "decode", DECODE_LOSSY = "decode_lossy", HEX = "hex",
    // results
    IS_OK = "is_ok", IS_ERR = "is_err", UNWRAP = "unwrap", UNWRAP_OR = "unwrap_or", EXPECT = "expect",
    UNWRAP_ERR = "unwrap_err", MAP = "map", MAP_ERR = "map_err",
    KEY = "key", DEFAULT = "default", START = "start", STOP = "stop", STEP = "step", SEP = "sep",
    END = "end", NAME = "name", FIELDS = "fields",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_symbols_have_fixed_ids() {
        assert_eq!(Symbol::intern("Ok"), OK);
        assert_eq!(Symbol::intern("append"), APPEND);
        assert_eq!(&*FIELDS.name(), "fields");
        assert_eq!(
            Symbol::intern("not_well_known"),
            Symbol::intern("not_well_known")
        );
    }
}
