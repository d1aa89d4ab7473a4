//! Whether a string is ASCII, remembered for the string asked about last.
//!
//! cn strings are UTF-8 and indexed by character, so `s[i]` and `len(s)` on a string that is not
//! known to be ASCII must walk it. A parser or tokenizer reads one long input character by
//! character (`text[i]`, `i < len(text)`), which made each step a scan of the whole input and
//! the loop quadratic. The answer for the last string is kept here, so such a loop scans its
//! input once. The entry holds a `Weak`, which keeps the string's allocation from being reused
//! while it is cached, so a different string at the same address can never be taken for it.
//! The one-character strings such a loop produces are shared, one per ASCII character.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

thread_local! {
    static LAST: RefCell<Option<(Weak<String>, bool)>> = const { RefCell::new(None) };
}

/// Strings shorter than this are scanned every time (cheaper than the cache).
const WORTH_CACHING: usize = 64;

/// Whether `s` holds only ASCII, so its characters are its bytes.
pub fn is_ascii(s: &Rc<String>) -> bool {
    if s.len() < WORTH_CACHING {
        return s.is_ascii();
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((seen, ascii)) = &*last {
            if std::ptr::eq(seen.as_ptr(), Rc::as_ptr(s)) {
                return *ascii;
            }
        }
        let ascii = s.is_ascii();
        *last = Some((Rc::downgrade(s), ascii));
        ascii
    })
}

thread_local! {
    static CHARS: Vec<Rc<String>> = (0u8..128).map(|b| Rc::new(char::from(b).to_string())).collect();
}

/// The one-character string of ASCII byte `b`, shared rather than allocated for each `s[i]`.
pub fn ascii_char(b: u8) -> crate::value::Value {
    CHARS.with(|chars| match chars.get(usize::from(b)) {
        Some(s) => crate::value::Value::Str(s.clone()),
        None => crate::value::Value::str(char::from(b)),
    })
}
