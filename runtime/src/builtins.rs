//! The builtin functions every script sees without an import (`print`, `len`, `sorted`, ...).
//!
//! [`all`] lists them by name; the compiler resolves builtin names to indexes into it. The
//! implementations live in submodules by concept: `basic` (printing, text, program), `convert`
//! (type conversions), `numeric` (arithmetic helpers), `sequence` (iteration and sorting).
//! `params` holds the argument checks they share with `methods`; `sliced` runs the ones that walk
//! an iterable of any length in slices, so they cannot freeze the process.

mod basic;
mod convert;
mod numeric;
pub(crate) mod params;
mod sequence;
mod sliced;

pub(crate) use sequence::sort_values;

use crate::object::{NativeFn, NativeFunction};
use crate::value::Value;

/// Every builtin, by name.
pub fn all() -> Vec<(&'static str, Value)> {
    let table: &[(&'static str, NativeFn)] = &[
        // basic
        ("print", basic::print),
        ("len", basic::len),
        ("range", basic::range),
        ("str", basic::str),
        ("repr", basic::repr),
        ("type", basic::type_of),
        ("format", basic::format),
        ("args", basic::args),
        ("Ok", basic::ok),
        ("Err", basic::err),
        ("exit", basic::exit),
        // convert
        ("int", convert::int),
        ("float", convert::float),
        ("bool", convert::bool),
        ("list", convert::list),
        ("tuple", convert::tuple),
        ("dict", convert::dict),
        ("bytes", convert::bytes),
        ("ord", convert::ord),
        ("chr", convert::chr),
        ("hex", convert::hex),
        ("bin", convert::bin),
        ("oct", convert::oct),
        // numeric
        ("abs", numeric::abs),
        ("round", numeric::round),
        ("divmod", numeric::divmod),
        ("sum", numeric::sum),
        ("min", numeric::min),
        ("max", numeric::max),
        // sequence
        ("sorted", sequence::sorted),
        ("reversed", sequence::reversed),
        ("enumerate", sequence::enumerate),
        ("zip", sequence::zip),
        ("any", sequence::any),
        ("all", sequence::all),
        ("map", sequence::map),
        ("filter", sequence::filter),
    ];
    table
        .iter()
        .map(|(name, f)| (*name, NativeFunction::value(*name, *f)))
        .collect()
}
