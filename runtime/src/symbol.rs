//! Interned names: attribute, method, field and keyword names compare as integers.
//!
//! One interner serves the process, so a symbol means the same name on every thread and a
//! `static` member table can hold its names' symbols (`native::Table`). Interning takes a lock;
//! it happens when code is compiled and when a native looks up a keyword argument, never per
//! instruction. Reading a name back takes no lock: names are also published in chunks of slots
//! that are written once ([`NAMES`]). Names live as long as the process (a program has a
//! bounded set of them), so [`Symbol::name`] hands out `&'static str`. Names the runtime itself dispatches on (`append`,
//! `Ok`, `seconds`, ...) are interned first, in the order of [`WELL_KNOWN`], so they have fixed
//! ids usable as constants in `match` arms.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// An interned name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(pub u32);

struct Interner {
    ids: HashMap<&'static str, u32>,
    names: Vec<&'static str>,
}

/// Names by id, readable without the interner's lock: chunk `id / CHUNK`, slot `id % CHUNK`,
/// each written once when the name is interned. Ids past the last chunk (4M names) are read
/// under the lock instead.
static NAMES: [OnceLock<Box<[OnceLock<&'static str>]>>; CHUNKS] =
    [const { OnceLock::new() }; CHUNKS];
const CHUNK: usize = 1024;
const CHUNKS: usize = 4096;

/// The process's interner.
fn interner() -> &'static Mutex<Interner> {
    static INTERNER: OnceLock<Mutex<Interner>> = OnceLock::new();
    INTERNER.get_or_init(|| Mutex::new(Interner::new()))
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
        // Kept for the life of the process, like every interned name.
        let name: &'static str = Box::leak(name.into());
        self.names.push(name);
        self.ids.insert(name, id);
        if let Some(chunk) = NAMES.get(id as usize / CHUNK) {
            let slots = chunk.get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
            let _ = slots[id as usize % CHUNK].set(name);
        }
        id
    }
}

impl Symbol {
    /// The symbol for `name`, interning it on first use.
    pub fn intern(name: &str) -> Symbol {
        Symbol(lock().intern(name))
    }

    /// The symbol's text.
    #[inline]
    pub fn name(self) -> &'static str {
        let id = self.0 as usize;
        let published = NAMES
            .get(id / CHUNK)
            .and_then(OnceLock::get)
            .and_then(|slots| slots[id % CHUNK].get());
        match published {
            Some(name) => name,
            None => lock().names.get(id).copied().unwrap_or("?"),
        }
    }
}

/// The interner, even if a thread panicked while holding it (its maps are never left half
/// updated: an id is pushed and inserted with nothing between that can panic).
fn lock() -> std::sync::MutexGuard<'static, Interner> {
    interner()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
    ENTER = "enter", EXIT = "exit", INIT = "init", STR = "str",
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
        assert_eq!(FIELDS.name(), "fields");
        assert_eq!(
            Symbol::intern("not_well_known"),
            Symbol::intern("not_well_known")
        );
    }

    #[test]
    fn a_symbol_means_one_name_on_every_thread() {
        let here = Symbol::intern("interned_on_the_test_thread");
        let there = std::thread::spawn(move || (here.name(), Symbol::intern("interned_there")))
            .join()
            .unwrap_or_else(|_| panic!("the other thread panicked"));
        assert_eq!(there.0, "interned_on_the_test_thread");
        assert_eq!(there.1.name(), "interned_there");
        assert_eq!(Symbol::intern("interned_there"), there.1);
    }
}
