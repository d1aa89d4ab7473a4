//! A human-readable listing of compiled bytecode (`cn dis`), golden-tested so that codegen
//! changes show up in review.

use std::fmt::Write;

use super::{Constant, FunctionProto, Op};

/// Lists `proto` and, after it, every nested function.
pub fn disassemble(proto: &FunctionProto) -> String {
    let mut out = String::new();
    write_function(&mut out, proto);
    out
}

fn write_function(out: &mut String, proto: &FunctionProto) {
    let _ = writeln!(
        out,
        "fn {}({}) locals={} captures={}",
        proto.name,
        proto
            .params
            .iter()
            .map(|p| &**p)
            .collect::<Vec<_>>()
            .join(", "),
        proto.locals,
        proto.captures.len()
    );
    for (i, op) in proto.code.iter().enumerate() {
        let _ = writeln!(out, "  {i:>4}  {}", describe(proto, op));
    }
    for constant in &proto.constants {
        if let Constant::Function(inner) = constant {
            out.push('\n');
            write_function(out, inner);
        }
    }
}

fn describe(proto: &FunctionProto, op: &Op) -> String {
    let name = |i: u32| {
        proto
            .names
            .get(i as usize)
            .map_or("?".to_string(), |n| n.to_string())
    };
    let constant = |k: u32| match proto.constants.get(k as usize) {
        Some(Constant::Int(i)) => i.to_string(),
        Some(Constant::Float(f)) => format!("{f:?}"),
        Some(Constant::Str(s)) => format!("{s:?}"),
        Some(Constant::Names(names)) => format!("{names:?}"),
        Some(Constant::FormatSpec(spec)) => format!("spec {spec:?}"),
        Some(Constant::Function(f)) => format!("<fn {}>", f.name),
        Some(Constant::Type(t)) => format!("<type {}>", t.name),
        Some(Constant::Enum(e)) => format!("<enum {}>", e.name),
        None => "?".to_string(),
    };
    match *op {
        Op::Const(k) => format!("Const {}", constant(k)),
        Op::GetAttr(n) => format!("GetAttr .{}", name(n)),
        Op::LoadLocalAttr(slot, n) => format!("LoadLocalAttr {slot}.{}", name(n)),
        Op::SetAttr(n) => format!("SetAttr .{}", name(n)),
        Op::CallMethod(n, argc) => format!("CallMethod .{}({argc})", name(n)),
        Op::CallKw(argc, k) => format!("CallKw {argc} {}", constant(k)),
        Op::MakeClosure(k) | Op::MakeType(k) | Op::MakeEnum(k) | Op::Import(k) | Op::Format(k) => {
            let op_name = format!("{op:?}");
            let op_name = op_name.split('(').next().unwrap_or("");
            format!("{op_name} {}", constant(k))
        }
        Op::AssertFailed(k, sides) => format!("AssertFailed {} {sides}", constant(k)),
        Op::AddLocalConst(slot, k) => format!("AddLocalConst {slot} {}", constant(k)),
        Op::MatchEnum(n) => format!("MatchEnum {}", name(n)),
        Op::MatchVariant(n, arity) if arity == u16::MAX => format!("MatchVariant {}", name(n)),
        Op::MatchVariant(n, arity) => format!("MatchVariant {}/{arity}", name(n)),
        other => format!("{other:?}")
            .replace(['(', ')'], " ")
            .trim_end()
            .to_string(),
    }
}
