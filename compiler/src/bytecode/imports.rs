//! The modules a compiled script imports, wherever the `import` is (module body, function,
//! method, lambda): what `cn build` packages with a script, found from the code the compiler
//! produced rather than by globbing the folder.

use super::{Constant, FunctionProto, Op};

/// The module names `proto` and every function nested in it import, in first-seen order,
/// without repeats (`a.b` as written; the caller decides which are files).
pub fn imported_modules(proto: &FunctionProto) -> Vec<String> {
    let mut names = Vec::new();
    collect(proto, &mut names);
    names
}

fn collect(proto: &FunctionProto, names: &mut Vec<String>) {
    for op in &proto.code {
        if let Op::Import(k) = op {
            if let Some(Constant::Str(name)) = proto.constants.get(*k as usize) {
                if !names.iter().any(|n| n.as_str() == &**name) {
                    names.push(name.to_string());
                }
            }
        }
    }
    for constant in &proto.constants {
        if let Constant::Function(inner) = constant {
            collect(inner, names);
        }
    }
}
