//! Calling, every way but the dispatch loop's inlined fast path: pushing a script frame (with
//! keyword and default binding), natives, bound methods, record construction, method calls on
//! every kind of receiver, and natives calling back into scripts (`call_value`).

use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::fiber::{Fiber, FrameKind, MAX_FRAMES};
use crate::native::Found;
use crate::object::{BoundMethod, Closure, Record, RecordType};
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

/// Rearranges `argc` positional and `keywords.len()` keyword arguments at `stack[base..]` into
/// the function's parameter slots, filling defaults; faults name the function and parameter.
/// Positional arguments past the plain parameters go to `*args` as a tuple, keywords no
/// parameter takes to `**kwargs` as a dict (in the order given), when the function has them.
pub(crate) fn bind_arguments(
    fiber: &mut Fiber,
    closure: &Closure,
    base: usize,
    argc: usize,
    keywords: &[Symbol],
) -> Result<(), Fault> {
    let params = &closure.code.params;
    let proto = &closure.code.proto;
    let name = closure.name();
    let n = params.len();
    if argc > n && !proto.rest {
        return Err(Fault::new(format!(
            "{name}() takes {n} argument{} but {argc} were given",
            plural(n)
        )));
    }
    let keyword_values = fiber.stack.split_off(base + argc);
    let extra = if argc > n {
        fiber.stack.split_off(base + n)
    } else {
        Vec::new()
    };
    fiber.stack.resize(base + n, Value::Undefined);
    let mut leftover = proto.rest_keywords.then(crate::dict::new_dict);
    for (keyword, value) in keywords.iter().zip(keyword_values) {
        let Some(i) = params.iter().position(|p| p == keyword) else {
            if let Some(leftover) = &mut leftover {
                leftover.insert(crate::dict::Key::str(keyword.name()), value);
                continue;
            }
            let mut message = format!("{name}() got an unexpected keyword argument '{keyword}'");
            let names: Vec<Rc<str>> = params.iter().map(|p| Rc::from(p.name())).collect();
            if let Some(close) =
                cn_compiler::diagnostic::closest_name(keyword.name(), names.iter().map(|n| &**n))
            {
                message.push_str(&format!("; did you mean '{close}'?"));
            }
            return Err(Fault::new(message));
        };
        if !matches!(fiber.stack[base + i], Value::Undefined) {
            return Err(Fault::new(format!(
                "{name}() got multiple values for argument '{keyword}'"
            )));
        }
        fiber.stack[base + i] = value;
    }
    let first_default = n - closure.defaults.len();
    for i in argc.min(n)..n {
        if matches!(fiber.stack[base + i], Value::Undefined) {
            if i < first_default {
                return Err(Fault::new(format!(
                    "{name}() missing argument '{}'",
                    params[i]
                )));
            }
            fiber.stack[base + i] = closure.defaults[i - first_default].clone();
        }
    }
    if proto.rest {
        fiber.stack.push(Value::tuple(extra));
    }
    if let Some(leftover) = leftover {
        fiber.stack.push(Value::dict(leftover));
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How deeply natives may call back into scripts that call natives again (`sorted` with a key
/// that sorts): each level uses the Rust stack.
const MAX_NESTED_CALLS: usize = 200;

impl Vm {
    /// Calls any callable value from native code and returns its result.
    ///
    /// Script functions run in a fresh fiber to completion; this is for natives that need a
    /// synchronous answer (a sort key, a retry attempt). The fault of a failed call carries the
    /// script's stack trace.
    pub fn call_value(&mut self, callee: &Value, args: &[Value]) -> Result<Value, Fault> {
        self.call_value_within(callee, args, u32::MAX)
    }

    /// [`Vm::call_value`] for a callback that must answer at once and must not hold everything
    /// else up (an http server's rate-limit key): past `slices` instruction budgets (the slice a
    /// task runs before it yields) it faults.
    pub fn call_value_within(
        &mut self,
        callee: &Value,
        args: &[Value],
        slices: u32,
    ) -> Result<Value, Fault> {
        match callee {
            Value::Function(closure) => {
                if self.nested_calls >= MAX_NESTED_CALLS {
                    return Err(Fault::new("stack overflow: callbacks nested too deeply"));
                }
                let mut fiber = Fiber::new();
                // A bounded callback stops at its budgets to count them.
                fiber.yieldable = slices != u32::MAX;
                fiber.stack.push(callee.clone());
                fiber.stack.extend_from_slice(args);
                self.push_frame(
                    &mut fiber,
                    closure.clone(),
                    args.len(),
                    &[],
                    0,
                    FrameKind::Call,
                )?;
                self.nested_calls += 1;
                let result = self.run(&mut fiber, 0, slices);
                self.nested_calls -= 1;
                result
            }
            _ => {
                let mut fiber = Fiber::new();
                // A bounded callback stops at its budgets to count them.
                fiber.yieldable = slices != u32::MAX;
                fiber.stack.push(callee.clone());
                fiber.stack.extend_from_slice(args);
                self.call_general(&mut fiber, 0, args.len(), &[])?;
                if fiber.frames.is_empty() {
                    Ok(fiber.stack.pop().unwrap_or_default())
                } else {
                    self.nested_calls += 1;
                    let result = self.run(&mut fiber, 0, slices);
                    self.nested_calls -= 1;
                    result
                }
            }
        }
    }

    /// Pushes a frame for `closure` whose callee sits at `stack[ret]` and whose `argc` positional
    /// arguments (then `keywords.len()` keyword values) follow it.
    pub(crate) fn push_frame(
        &mut self,
        fiber: &mut Fiber,
        closure: Rc<Closure>,
        argc: usize,
        keywords: &[Symbol],
        ret: usize,
        kind: FrameKind,
    ) -> Result<(), Fault> {
        self.push_frame_at(fiber, closure, argc, keywords, ret + 1, ret, kind)
    }

    /// Like [`Vm::push_frame`] with the arguments starting at `base` (for method calls the
    /// receiver is argument 0 and there is no callee slot, so `base == ret`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_frame_at(
        &mut self,
        fiber: &mut Fiber,
        closure: Rc<Closure>,
        argc: usize,
        keywords: &[Symbol],
        base: usize,
        ret: usize,
        kind: FrameKind,
    ) -> Result<(), Fault> {
        if fiber.frames.len() >= MAX_FRAMES {
            return Err(Fault::new(format!(
                "stack overflow: more than {MAX_FRAMES} nested calls"
            )));
        }
        // `arity` is the parameter count, or `u32::MAX` for a function with `*args` or
        // `**kwargs`, which always binds.
        if keywords.is_empty() && argc == closure.code.arity as usize {
            // Fast path: exactly the parameters, positionally.
        } else {
            crate::call::bind_arguments(fiber, &closure, base, argc, keywords)?;
        }
        let locals = closure.code.proto.locals as usize;
        // Locals start undefined so that reading one before assigning it faults.
        fiber.stack.resize(base + locals, Value::Undefined);
        fiber.push_frame(closure, base, ret, kind);
        Ok(())
    }

    /// Calls a native function with positional arguments (used by builtins that take callables).
    pub fn call_native(
        &mut self,
        f: &crate::object::NativeFunction,
        args: &[Value],
    ) -> Result<Value, Fault> {
        f.call(self, Args::new(&f.name, args))
    }

    /// Calls the value at `stack[ret]` with `argc` positional arguments followed by keyword
    /// values. Returns `true` when a script frame was pushed, `false` when the result is already
    /// on the stack in place of the callee.
    pub(crate) fn call_general(
        &mut self,
        fiber: &mut Fiber,
        ret: usize,
        argc: usize,
        keywords: &[Symbol],
    ) -> Result<bool, Fault> {
        let callee = fiber.stack[ret].clone();
        let result = match &callee {
            Value::Function(closure) => {
                self.push_frame(fiber, closure.clone(), argc, keywords, ret, FrameKind::Call)?;
                return Ok(true);
            }
            Value::Native(native) => {
                native.call(self, stack_args(fiber, ret, argc, keywords, &native.name))?
            }
            Value::Bound(bound) => match &**bound {
                BoundMethod::Script { receiver, func } => {
                    fiber.stack[ret] = func.clone();
                    fiber.stack.insert(ret + 1, receiver.clone());
                    return self.call_general(fiber, ret, argc + 1, keywords);
                }
                BoundMethod::Builtin { receiver, name } => {
                    // The table names the method in messages.
                    let args = stack_args(fiber, ret, argc, keywords, "");
                    crate::methods::call_method(self, receiver, *name, args)?
                }
            },
            Value::Type(ty) => {
                let args = &fiber.stack[ret + 1..];
                let (positional, named) = args.split_at(argc);
                construct_record(ty, positional, keywords, named)?
            }
            Value::Object(object) if object.inner.members().is_callable() => {
                let args = stack_args(fiber, ret, argc, keywords, "");
                object.inner.members().invoke(object, self, args)?
            }
            other => return Err(Fault::new(format!("{} is not callable", describe(other)))),
        };
        fiber.stack.truncate(ret);
        fiber.stack.push(result);
        Ok(false)
    }

    /// `receiver.name(args)` with positional arguments; `receiver` is the stack index of the
    /// receiver, followed by `argc` arguments. Returns whether a frame was pushed.
    pub(crate) fn call_method(
        &mut self,
        fiber: &mut Fiber,
        receiver: usize,
        name: Symbol,
        argc: usize,
    ) -> Result<bool, Fault> {
        let object = fiber.stack[receiver].clone();
        match &object {
            Value::Record(record) => {
                if let Some(method) = record.ty.method(name) {
                    if let Value::Function(closure) = method {
                        let closure = closure.clone();
                        self.push_frame_at(
                            fiber,
                            closure,
                            argc + 1,
                            &[],
                            receiver,
                            receiver,
                            FrameKind::Call,
                        )?;
                        return Ok(true);
                    }
                    fiber.stack.insert(receiver, method.clone());
                    return self.call_general(fiber, receiver, argc + 1, &[]);
                }
                let field = self.get_attr(&object, name)?;
                fiber.stack[receiver] = field;
                self.call_general(fiber, receiver, argc, &[])
            }
            Value::Object(native) => {
                let members = native.inner.members();
                match members.lookup(name) {
                    Some(Found::Method(i)) => {
                        let args = Args::new("", &fiber.stack[receiver + 1..]);
                        let value = members.call(i, native, self, args)?;
                        fiber.stack.truncate(receiver);
                        fiber.stack.push(value);
                        Ok(false)
                    }
                    Some(Found::Attribute(i)) => {
                        // An attribute holding a function, called.
                        fiber.stack[receiver] = members.get(i, native, self)?;
                        self.call_general(fiber, receiver, argc, &[])
                    }
                    None => Err(members.unknown(name, "method")),
                }
            }
            Value::Module(_) | Value::Type(_) | Value::Enum(_) | Value::Variant(_)
                if !is_result(&object) =>
            {
                let member = self.get_attr(&object, name)?;
                fiber.stack[receiver] = member;
                self.call_general(fiber, receiver, argc, &[])
            }
            _ => {
                let args = Args::new("", &fiber.stack[receiver + 1..]);
                let value = crate::methods::call_method(self, &object, name, args)?;
                fiber.stack.truncate(receiver);
                fiber.stack.push(value);
                Ok(false)
            }
        }
    }
}

/// The `argc` positional arguments and the keyword values after the callee at `stack[ret]`.
fn stack_args<'a>(
    fiber: &'a Fiber,
    ret: usize,
    argc: usize,
    keywords: &'a [Symbol],
    function: &'a str,
) -> Args<'a> {
    let (positional, named) = fiber.stack[ret + 1..].split_at(argc);
    Args {
        function,
        positional,
        names: keywords,
        named,
    }
}

fn is_result(value: &Value) -> bool {
    matches!(value, Value::Variant(v) if v.is_ok() || v.is_err())
}

/// How a value is named in "is not callable" faults.
fn describe(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        other => format!("a value of type {}", other.type_name()),
    }
}

/// `Type(a, b, field=c)`: positional values fill fields in order, keywords by name, then defaults.
pub(crate) fn construct_record(
    ty: &Rc<RecordType>,
    positional: &[Value],
    names: &[Symbol],
    named: &[Value],
) -> Result<Value, Fault> {
    let n = ty.fields.len();
    if positional.len() > n {
        return Err(Fault::new(format!(
            "{}() takes {n} field{} but {} were given",
            ty.name,
            plural(n),
            positional.len()
        )));
    }
    let mut values: Vec<Value> = positional.to_vec();
    values.resize(n, Value::Undefined);
    for (name, value) in names.iter().zip(named) {
        let Some(i) = ty.field_index(*name) else {
            let mut message = format!("{} has no field '{name}'", ty.name);
            let fields: Vec<Rc<str>> = ty.fields.iter().map(|f| Rc::from(f.name.name())).collect();
            if let Some(close) =
                cn_compiler::diagnostic::closest_name(name.name(), fields.iter().map(|f| &**f))
            {
                message.push_str(&format!("; did you mean '{close}'?"));
            }
            return Err(Fault::new(message));
        };
        if !matches!(values[i], Value::Undefined) {
            return Err(Fault::new(format!(
                "{}() got field '{name}' twice",
                ty.name
            )));
        }
        values[i] = value.clone();
    }
    for (i, field) in ty.fields.iter().enumerate() {
        if matches!(values[i], Value::Undefined) {
            values[i] = match &field.default {
                // Fresh copies of container defaults, so instances never share a list by accident.
                Some(Value::List(items)) => Value::list(items.borrow().clone()),
                Some(Value::Dict(d)) => Value::dict(d.borrow().clone()),
                Some(v) => v.clone(),
                None => {
                    return Err(Fault::new(format!(
                        "{}() missing field '{}'",
                        ty.name, field.name
                    )))
                }
            };
        }
    }
    Ok(Record::value(ty.clone(), values))
}
