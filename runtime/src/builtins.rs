//! The builtin functions every script sees without an import (`print`, `len`, `sorted`, ...).
//!
//! [`all`] makes them from the declarations in `DECLARED`; the compiler resolves builtin names to
//! indexes into it. The
//! implementations live in submodules by concept: `basic` (printing, text, program), `convert`
//! (type conversions), `numeric` (arithmetic helpers), `sequence` (iteration and sorting).
//! `params` holds the argument checks they share with `methods`; `sliced` runs the ones that walk
//! an iterable of any length in slices, so they cannot freeze the process.

mod basic;
pub mod console;
mod convert;
mod numeric;
pub(crate) mod params;
mod sequence;
mod sliced;

pub(crate) use sequence::sort_values;

use crate::native::{Function, Params};
use crate::object::NativeFunction;
use crate::value::Value;

/// Every builtin, declared once: the compiler resolves builtin names to indexes into this table.
static DECLARED: &[Function] = &[
    Function::new("print", basic::print)
        .doc("print(*values, sep=\" \", end=\"\\n\", file=io.stdout)\nWrites the values separated by `sep`, then `end`, to stdout (or `file=io.stderr`).")
        .params(Params::at_least(0).keywords(&["sep", "end", "file"])),
    Function::new("eprint", console::eprint)
        .doc("eprint(*values, sep=\" \", end=\"\\n\")\nWrites like `print`, to stderr.")
        .params(Params::at_least(0).keywords(&["sep", "end"])),
    Function::new("input", console::input)
        .doc("input(prompt=\"\")\nWrites `prompt`, then reads one line from stdin: the line without its newline, or nil at the end of input.")
        .params(Params::between(0, 1)),
    Function::new("len", basic::len)
        .doc("len(x)\nThe number of items of a list, tuple, dict or range, or of characters of a string.")
        .params(Params::exactly(1)),
    Function::new("range", basic::range)
        .doc("range(stop) / range(start, stop, step=1)\nThe ints from `start` up to (not including) `stop`.")
        .params(Params::between(1, 3)),
    Function::new("str", basic::str)
        .doc("str(x=\"\")\n`x` as text, the way `print` shows it.")
        .params(Params::between(0, 1)),
    Function::new("repr", basic::repr)
        .doc("repr(x)\n`x` as it would be written in source (strings quoted).")
        .params(Params::exactly(1)),
    Function::new("isinstance", basic::isinstance)
        .doc("isinstance(x, t)\nWhether `x` is of type `t`: `int`, `float`, `str`, `bool`, `bytes`, `list`, `tuple`, `dict`, `set`, a record type or an enum; `t` may be a tuple of types.")
        .params(Params::exactly(2)),
    Function::new("type", basic::type_of)
        .doc("type(x)\nThe name of `x`'s type as a string (\"int\", \"list\", a record type's name).")
        .params(Params::exactly(1)),
    Function::new("format", basic::format)
        .doc("format(value, spec=\"\")\n`value` formatted by a format spec such as \".2f\", \">8\" or \",\".")
        .params(Params::between(1, 2)),
    Function::new("args", basic::args)
        .doc("args()\nThe script's command-line arguments (after the script path), as strings.")
        .params(Params::exactly(0)),
    Function::new("Ok", basic::ok)
        .doc("Ok(value=nil)\nA successful result.")
        .params(Params::between(0, 1)),
    Function::new("Err", basic::err)
        .doc("Err(error)\nA failed result carrying `error`.")
        .params(Params::exactly(1)),
    Function::new("exit", basic::exit)
        .doc("exit(code=0)\nEnds the program with `code` after running pending `defer`s.")
        .params(Params::between(0, 1)),
    Function::new("int", convert::int)
        .doc("int(x=0, base=10)\n`x` as an int; strings are parsed in `base`, floats truncate.")
        .params(Params::between(0, 2).keywords(&["base"])),
    Function::new("float", convert::float)
        .doc("float(x=0.0)\n`x` as a float; strings may be \"inf\", \"-inf\" or \"nan\".")
        .params(Params::between(0, 1)),
    Function::new("bool", convert::bool)
        .doc("bool(x=false)\nWhether `x` is truthy (nil, false, 0, empty containers are not).")
        .params(Params::between(0, 1)),
    Function::new("list", convert::list)
        .doc("list(iterable=[])\nA new list of the iterable's items.")
        .params(Params::between(0, 1)),
    Function::new("bytes", convert::bytes)
        .doc("bytes(source=b\"\")\nA str's UTF-8 bytes, or an iterable of ints 0-255 as bytes.")
        .params(Params::between(0, 1)),
    Function::new("tuple", convert::tuple)
        .doc("tuple(iterable=())\nA new tuple of the iterable's items.")
        .params(Params::between(0, 1)),
    Function::new("dict", convert::dict)
        .doc("dict(pairs=nil, **items)\nA new dict from a dict or (key, value) pairs, plus keyword items.")
        .params(Params::between(0, 1).any_keywords()),
    Function::new("set", crate::methods::construct_set)
        .doc("set(iterable=[])\nA new set of the iterable's distinct items (`{1, 2}` is a set literal; `{}` is an empty dict).")
        .params(Params::between(0, 1)),
    Function::new("ord", convert::ord)
        .doc("ord(c)\nThe Unicode code point of the one-character string `c`.")
        .params(Params::exactly(1)),
    Function::new("chr", convert::chr)
        .doc("chr(i)\nThe one-character string for Unicode code point `i`.")
        .params(Params::exactly(1)),
    Function::new("hex", convert::hex)
        .doc("hex(i)\n`i` in hexadecimal with a \"0x\" prefix (\"0xff\", \"-0x1\").")
        .params(Params::exactly(1)),
    Function::new("bin", convert::bin)
        .doc("bin(i)\n`i` in binary with a \"0b\" prefix (\"0b101\").")
        .params(Params::exactly(1)),
    Function::new("oct", convert::oct)
        .doc("oct(i)\n`i` in octal with a \"0o\" prefix (\"0o17\").")
        .params(Params::exactly(1)),
    Function::new("abs", numeric::abs)
        .doc("abs(x)\nThe absolute value of an int, float or duration.")
        .params(Params::exactly(1)),
    Function::new("round", numeric::round)
        .doc("round(x, ndigits=nil)\n`x` rounded half to even; an int without `ndigits`, else like `x`.")
        .params(Params::between(1, 2).keywords(&["ndigits"])),
    Function::new("divmod", numeric::divmod)
        .doc("divmod(a, b)\nThe tuple (a // b, a % b), with Python's floor semantics.")
        .params(Params::exactly(2)),
    Function::new("sum", numeric::sum)
        .doc("sum(iterable, start=0)\n`start` plus every item (ints, floats, durations, ...).")
        .params(Params::between(1, 2).keywords(&["start"])),
    Function::new("min", numeric::min)
        .doc("min(iterable, key=nil, default=...) or min(a, b, ...)\nThe smallest item (the first of equals).")
        .params(Params::at_least(1).keywords(&["key", "default"])),
    Function::new("max", numeric::max)
        .doc("max(iterable, key=nil, default=...) or max(a, b, ...)\nThe largest item (the first of equals).")
        .params(Params::at_least(1).keywords(&["key", "default"])),
    Function::new("sorted", sequence::sorted)
        .doc("sorted(iterable, key=nil, reverse=false)\nA new sorted list (stable).")
        .params(Params::exactly(1).keywords(&["key", "reverse"])),
    Function::new("reversed", sequence::reversed)
        .doc("reversed(iterable)\nA new list of the items in reverse order.")
        .params(Params::exactly(1)),
    Function::new("enumerate", sequence::enumerate)
        .doc("enumerate(iterable, start=0)\nAn iterator of (index, item) pairs.")
        .params(Params::between(1, 2).keywords(&["start"])),
    Function::new("zip", sequence::zip)
        .doc("zip(*iterables)\nAn iterator of tuples taking one item from each, stopping at the shortest.")
        .params(Params::at_least(0)),
    Function::new("any", sequence::any)
        .doc("any(iterable)\nWhether some item is truthy (false for an empty iterable).")
        .params(Params::exactly(1)),
    Function::new("all", sequence::all)
        .doc("all(iterable)\nWhether every item is truthy (true for an empty iterable).")
        .params(Params::exactly(1)),
    Function::new("map", sequence::map)
        .doc("map(f, iterable, *more)\nA list of `f(item)`; with several iterables, `f(a, b, ...)` pairwise.")
        .params(Params::at_least(2)),
    Function::new("filter", sequence::filter)
        .doc("filter(f, iterable)\nA list of the items for which `f(item)` is truthy (`f` nil: the item).")
        .params(Params::exactly(2)),
    Function::new("help", crate::native::help::help)
        .doc("help(x=nil)\nPrints what `x` is and how to use it: a function's signature, a type's or module's members; with no argument, the builtins and modules.")
        .params(Params::between(0, 1)),
];

/// The builtin declarations, in index order.
pub fn declared() -> &'static [Function] {
    DECLARED
}

/// Every builtin, by name.
pub fn all() -> Vec<(&'static str, Value)> {
    DECLARED
        .iter()
        .map(|f| (f.name, NativeFunction::declared(f.name.into(), f)))
        .collect()
}
