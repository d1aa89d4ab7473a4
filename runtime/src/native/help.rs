//! `help(x)`: the doc of a function, method, type, module or value, read from the same tables
//! the runtime dispatches through, and the member names the REPL completes.

use std::fmt::Write;

use crate::args::Args;
use crate::fault::Fault;
use crate::object::{BoundMethod, ModuleMembers};
use crate::value::Value;
use crate::vm::Vm;

use super::function::{signature, summary};
use super::table::{MemberDoc, TypeDoc};

/// help(x=nil): prints what `x` is and how to use it; with no argument, what there is.
pub(crate) fn help(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = match args.get(0) {
        None => overview(vm),
        Some(value) => describe(vm, value),
    };
    vm.print(text)
}

/// The docs of a value's type, when it has a member table.
pub fn type_docs(value: &Value) -> Option<TypeDoc> {
    match value {
        Value::Object(object) => Some(object.inner.members().docs()),
        other => crate::methods::table_docs(other),
    }
}

impl Vm {
    /// The names `value.` can be followed by, for REPL completion: module members, the members
    /// of a library or builtin type, record fields and methods, enum variants.
    pub fn member_names(&self, value: &Value) -> Vec<String> {
        match value {
            Value::Module(module) => self.module_members(&module.name),
            Value::Record(record) => record
                .ty
                .fields
                .iter()
                .map(|f| f.name.to_string())
                .chain(record.ty.methods.iter().map(|(n, _)| n.to_string()))
                .collect(),
            Value::Enum(e) => e.variants.iter().map(|(n, _)| n.to_string()).collect(),
            other => type_docs(other)
                .map(|docs| docs.members.iter().map(|m| m.name.to_string()).collect())
                .unwrap_or_default(),
        }
    }
}

/// What editors ask of the library (`cn lsp`): the same texts `help()` prints.
impl Vm {
    /// The members of the library module `name`, each with its `help()` text, in declaration
    /// order (the module is set up if it was not yet); `None` if there is no such module.
    pub fn library_members(&mut self, name: &str) -> Option<(&'static str, Vec<(String, String)>)> {
        let module = self.load_native(name)?;
        let ModuleMembers::Native(native) = &module.members else {
            return None;
        };
        let members = native
            .members
            .iter()
            .map(|m| (m.name.to_string(), describe(self, &m.value)))
            .collect();
        Some((native.doc, members))
    }

    /// The keyword arguments a call of `value` takes, for completion: a native's declared
    /// names, a script function's parameters, a record type's fields.
    pub fn keyword_names(&self, value: &Value) -> Vec<String> {
        match value {
            Value::Native(f) => match f.params.keywords {
                super::params::Keywords::Named(names) => {
                    names.iter().map(|n| n.to_string()).collect()
                }
                super::params::Keywords::Any => Vec::new(),
            },
            Value::Function(closure) => closure
                .code
                .proto
                .params
                .iter()
                .map(|p| p.to_string())
                .collect(),
            Value::Type(ty) => ty.fields.iter().map(|f| f.name.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    /// A library module's members with their values (nothing for other values).
    pub fn module_member_values(&self, value: &Value) -> Vec<(String, Value)> {
        match value {
            Value::Module(module) => match &module.members {
                ModuleMembers::Native(native) => native
                    .members
                    .iter()
                    .map(|m| (m.name.to_string(), m.value.clone()))
                    .collect(),
                ModuleMembers::Script(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The tasks running now, oldest first, each with its context's entries (`runtime.tasks()`,
    /// for looking into a service from `cn repl --attach`).
    pub fn running_tasks(&self) -> Vec<(u64, Vec<(String, Value)>)> {
        let mut tasks: Vec<(u64, Vec<(String, Value)>)> = self
            .running
            .values()
            .map(|task| {
                let context = task.context.borrow();
                let entries = context
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                (task.id, entries)
            })
            .collect();
        tasks.sort_by_key(|(id, _)| *id);
        tasks
    }

    /// `help(name)`'s text for a builtin function.
    pub fn builtin_help(&self, name: &str) -> Option<String> {
        let (_, value) = crate::builtins::all()
            .into_iter()
            .find(|(n, _)| *n == name)?;
        Some(describe(self, &value))
    }
}

fn overview(vm: &Vm) -> String {
    let mut out = String::from(
        "cn: help(x) describes a function, method, type, module or value.\n\nbuiltins:\n",
    );
    let builtins = crate::builtins::declared();
    let width = builtins
        .iter()
        .map(|f| signature(f.doc).len())
        .max()
        .unwrap_or(0);
    for f in builtins {
        let _ = writeln!(
            out,
            "    {:width$}  {}",
            signature(f.doc),
            first_line(summary(f.doc))
        );
    }
    out.push_str("\nmodules (import name):\n    ");
    out.push_str(&vm.native_module_names().join(", "));
    out.push('\n');
    out
}

fn describe(vm: &Vm, value: &Value) -> String {
    match value {
        Value::Native(f) => {
            let sig = signature(f.doc);
            let mut out = match (f.name.rsplit_once('.'), sig.is_empty()) {
                (_, true) => format!("{}(...)", f.name),
                (Some((prefix, _)), false) => format!("{prefix}.{sig}"),
                (None, false) => sig.to_string(),
            };
            out.push('\n');
            indent(&mut out, summary(f.doc));
            out
        }
        Value::Bound(bound) => match &**bound {
            BoundMethod::Builtin { receiver, name } => {
                let docs = type_docs(receiver);
                let member = docs
                    .as_ref()
                    .and_then(|d| d.members.iter().find(|m| m.name == name.name()));
                match (docs.as_ref(), member) {
                    (Some(docs), Some(member)) => {
                        let mut out = format!("{}.{}\n", docs.type_name, signature(member.doc));
                        indent(&mut out, summary(member.doc));
                        out
                    }
                    _ => format!("{}.{name}\n", receiver.type_name()),
                }
            }
            BoundMethod::Script { receiver, func } => {
                format!("method of {}: {}", receiver.type_name(), describe(vm, func))
            }
        },
        Value::Module(module) => describe_module(vm, module),
        Value::Function(closure) => {
            let proto = &closure.code.proto;
            let line = closure.code.file.line_col(proto.span).0;
            // `*args` and `**kwargs` have the slots after the plain parameters.
            let mut params: Vec<String> = proto.params.iter().map(|p| p.to_string()).collect();
            let mut slot = proto.params.len();
            for (present, stars) in [(proto.rest, "*"), (proto.rest_keywords, "**")] {
                if present {
                    let name = proto.local_names.get(slot).map_or("?", |n| &**n);
                    params.push(format!("{stars}{name}"));
                    slot += 1;
                }
            }
            format!(
                "{}({})\n    defined at {}:{line}\n",
                proto.name,
                params.join(", "),
                closure.code.file.path
            )
        }
        Value::Type(ty) => {
            let mut out = format!("type {}\n", ty.name);
            for field in &ty.fields {
                let _ = writeln!(out, "    {}: {}", field.name, field.ty);
            }
            for (name, _) in &ty.methods {
                let _ = writeln!(out, "    fn {name}(...)");
            }
            out
        }
        Value::Record(record) => describe(vm, &Value::Type(record.ty.clone())),
        Value::Enum(e) => {
            let names: Vec<String> = e.variants.iter().map(|(n, _)| n.to_string()).collect();
            format!("enum {}: {}\n", e.name, names.join(", "))
        }
        other => match type_docs(other) {
            Some(docs) => describe_type(&docs),
            None => format!("{}: a value with no members\n", other.type_name()),
        },
    }
}

fn describe_module(vm: &Vm, module: &crate::object::Module) -> String {
    let mut out = format!("module {}\n", module.name);
    match &module.members {
        ModuleMembers::Native(native) => {
            indent(&mut out, native.doc);
            out.push('\n');
            let docs: Vec<MemberDoc> = native
                .members
                .iter()
                .map(|m| MemberDoc {
                    name: "",
                    doc: m.doc,
                    is_method: true,
                })
                .collect();
            let names: Vec<String> = native.members.iter().map(|m| m.name.to_string()).collect();
            list(&mut out, &docs, &names);
        }
        ModuleMembers::Script(_) => {
            let _ = writeln!(out, "    {}", vm.module_members(&module.name).join(", "));
        }
    }
    out
}

fn describe_type(docs: &TypeDoc) -> String {
    let mut out = format!("{}\n", docs.type_name);
    indent(&mut out, docs.doc);
    for (title, methods) in [("methods", true), ("attributes", false)] {
        let members: Vec<MemberDoc> = docs
            .members
            .iter()
            .filter(|m| m.is_method == methods)
            .copied()
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        let names: Vec<String> = members.iter().map(|m| m.name.to_string()).collect();
        list(&mut out, &members, &names);
    }
    out
}

/// One line per member: its signature (or name) and the first line of its summary.
fn list(out: &mut String, members: &[MemberDoc], names: &[String]) {
    let heads: Vec<&str> = members
        .iter()
        .zip(names)
        .map(|(m, name)| match signature(m.doc) {
            "" => name.as_str(),
            sig => sig,
        })
        .collect();
    let width = heads.iter().map(|h| h.len()).max().unwrap_or(0);
    for (head, member) in heads.iter().zip(members) {
        let line = format!("    {head:width$}  {}", first_line(summary(member.doc)));
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn indent(out: &mut String, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "    {line}");
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
