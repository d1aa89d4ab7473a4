//! The native tables as data: builtin names are unique, every declared method of every builtin
//! type is callable and `has_method` agrees, a library type's table dispatches, the general sort
//! path matches a reference sort, and no combination of arguments panics. What each builtin and
//! method returns is tested by the golden programs in `tests/programs/builtins/`.

#![allow(clippy::approx_constant, clippy::cloned_ref_to_slice_refs)]

use cn_runtime::builtins;
use cn_runtime::format::repr;
use cn_runtime::methods;
use cn_runtime::object::NativeFunction;
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

// ---- helpers ----

fn vm() -> Vm {
    Vm::new(vec![])
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn i(n: i64) -> Value {
    Value::Int(n)
}

fn f(x: f64) -> Value {
    Value::Float(x)
}

fn b(x: bool) -> Value {
    Value::Bool(x)
}

fn list(items: Vec<Value>) -> Value {
    Value::list(items)
}

fn tuple(items: Vec<Value>) -> Value {
    Value::tuple(items)
}

fn ints(items: &[i64]) -> Value {
    list(items.iter().map(|n| Value::Int(*n)).collect())
}

fn strs(items: &[&str]) -> Value {
    list(items.iter().map(|t| Value::str(*t)).collect())
}

fn seconds(n: i64) -> Value {
    Value::Duration(n * 1_000_000_000)
}

fn builtin(name: &str) -> Value {
    match builtins::all().into_iter().find(|(n, _)| *n == name) {
        Some((_, v)) => v,
        None => panic!("no builtin named {name}"),
    }
}

/// A native function value from a closure, standing in for a script lambda.
fn lambda(body: impl Fn(&[Value]) -> Result<Value, Fault> + 'static) -> Value {
    NativeFunction::closure("<lambda>", move |_vm, args| body(args.positional))
}

fn call_kw(
    vm: &mut Vm,
    name: &str,
    positional: &[Value],
    keywords: &[(&str, Value)],
) -> Result<Value, Fault> {
    let Value::Native(func) = builtin(name) else {
        panic!("{name} is not native")
    };
    let names: Vec<Symbol> = keywords.iter().map(|(n, _)| Symbol::intern(n)).collect();
    let named: Vec<Value> = keywords.iter().map(|(_, v)| v.clone()).collect();
    NativeFunction::call(
        &func,
        vm,
        Args {
            function: name,
            positional,
            names: &names,
            named: &named,
        },
    )
}

fn call(vm: &mut Vm, name: &str, positional: &[Value]) -> Result<Value, Fault> {
    let Value::Native(func) = builtin(name) else {
        panic!("{name} is not native")
    };
    NativeFunction::call(&func, vm, Args::new(name, positional))
}

fn shown(result: Result<Value, Fault>) -> String {
    match result {
        Ok(v) => repr(&v),
        Err(fault) => panic!("unexpected fault: {}", fault.message),
    }
}

fn failed(result: Result<Value, Fault>) -> String {
    match result {
        Ok(v) => panic!("expected a fault, got {}", repr(&v)),
        Err(fault) => fault.message,
    }
}

fn method_kw(
    vm: &mut Vm,
    receiver: &Value,
    name: &str,
    positional: &[Value],
    keywords: &[(&str, Value)],
) -> Result<Value, Fault> {
    let function = format!("{}.{name}", receiver.type_name());
    let names: Vec<Symbol> = keywords.iter().map(|(n, _)| Symbol::intern(n)).collect();
    let named: Vec<Value> = keywords.iter().map(|(_, v)| v.clone()).collect();
    let args = Args {
        function: &function,
        positional,
        names: &names,
        named: &named,
    };
    methods::call_method(vm, receiver, Symbol::intern(name), args)
}

/// `repr` of `receiver.name(positional...)`.
fn m(receiver: &Value, name: &str, positional: &[Value]) -> String {
    shown(method_kw(&mut vm(), receiver, name, positional, &[]))
}

/// The fault message of `receiver.name(positional...)`.
fn m_fault(receiver: &Value, name: &str, positional: &[Value]) -> String {
    failed(method_kw(&mut vm(), receiver, name, positional, &[]))
}

// ---- basic builtins ----

#[test]
fn builtin_names_are_unique() {
    let names: Vec<&str> = builtins::all().into_iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    for expected in [
        "print",
        "len",
        "range",
        "str",
        "repr",
        "args",
        "Ok",
        "Err",
        "exit",
        "int",
        "float",
        "bool",
        "type",
        "list",
        "tuple",
        "dict",
        "sorted",
        "reversed",
        "min",
        "max",
        "sum",
        "abs",
        "round",
        "enumerate",
        "zip",
        "any",
        "all",
        "ord",
        "chr",
        "hex",
        "bin",
        "oct",
        "divmod",
        "map",
        "filter",
        "format",
    ] {
        assert!(names.contains(&expected), "missing builtin {expected}");
    }
}

fn shown_value(result: Result<Value, Fault>) -> Value {
    match result {
        Ok(v) => v,
        Err(fault) => panic!("unexpected fault: {}", fault.message),
    }
}

// ---- conversions ----

// ---- numbers ----

// ---- sequences ----

#[test]
fn sorted_general_path_matches_a_reference_sort() {
    // Tuples take the merge-sort path; check it against Rust's stable sort on many sizes.
    let mut seed: u64 = 42;
    for n in [0usize, 1, 2, 15, 16, 17, 33, 100, 257, 1000] {
        let mut keys = Vec::new();
        for _ in 0..n {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            keys.push(((seed >> 33) % 10) as i64);
        }
        let items: Vec<Value> = keys
            .iter()
            .enumerate()
            .map(|(pos, k)| tuple(vec![f(*k as f64), i(pos as i64)]))
            .collect();
        // Sort by the float key only, so stability is visible in the positions.
        let key = lambda(|args| match args.first() {
            Some(Value::Tuple(t)) => Ok(t[0].clone()),
            _ => Err(Fault::new("bad")),
        });
        let got = shown(call_kw(
            &mut vm(),
            "sorted",
            &[list(items.clone())],
            &[("key", key.clone())],
        ));
        let mut expected: Vec<(i64, usize)> = keys.iter().copied().zip(0..).collect();
        expected.sort_by_key(|(k, _)| *k);
        let expected = list(
            expected
                .iter()
                .map(|(k, pos)| tuple(vec![f(*k as f64), i(*pos as i64)]))
                .collect(),
        );
        assert_eq!(got, repr(&expected), "n = {n}");
        let got = shown(call_kw(
            &mut vm(),
            "sorted",
            &[list(items)],
            &[("key", key), ("reverse", b(true))],
        ));
        let mut expected: Vec<(i64, usize)> = keys.iter().copied().zip(0..).collect();
        expected.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
        let expected = list(
            expected
                .iter()
                .map(|(k, pos)| tuple(vec![f(*k as f64), i(*pos as i64)]))
                .collect(),
        );
        assert_eq!(got, repr(&expected), "reverse, n = {n}");
    }
}

// ---- list methods ----

#[test]
fn method_names_agree_with_call_method() {
    let receivers = [
        ints(&[1]),
        Value::dict(cn_runtime::dict::new_dict()),
        s("x"),
        Value::bytes(b"x".to_vec()),
        tuple(vec![i(1)]),
        seconds(1),
        Value::ok(i(1)),
        Value::err(i(1)),
    ];
    for receiver in &receivers {
        let names = method_names(receiver);
        assert!(!names.is_empty(), "{} has no methods", receiver.type_name());
        for name in names {
            assert!(methods::has_method(receiver, Symbol::intern(name)));
            if let Err(fault) = method_kw(&mut vm(), receiver, name, &[], &[]) {
                assert!(
                    !fault.message.contains("has no method"),
                    "{}.{name}: {}",
                    receiver.type_name(),
                    fault.message
                );
            }
        }
        assert!(!methods::has_method(
            receiver,
            Symbol::intern("no_such_method")
        ));
    }
    assert!(method_names(&i(1)).is_empty());
    assert!(!methods::has_method(&i(1), Symbol::intern("append")));
    let nullary = cn_runtime::object::Variant::value("Shape", "Empty", vec![]);
    assert!(!methods::has_method(&nullary, Symbol::intern("unwrap")));
}

struct Counter;

impl cn_runtime::object::NativeType for Counter {
    fn type_name(&self) -> &str {
        "Counter"
    }

    fn members(&self) -> &'static dyn cn_runtime::native::Members {
        &COUNTER
    }
}

static COUNTER: cn_runtime::native::Table<Counter> = cn_runtime::native::Table::new(
    "Counter",
    "",
    &[cn_runtime::native::Member::method("next", |_, _, _| {
        Ok(Value::Int(1))
    })],
);

fn method_names(receiver: &Value) -> Vec<&'static str> {
    methods::table_docs(receiver)
        .map(|d| d.members.iter().map(|m| m.name).collect())
        .unwrap_or_default()
}

#[test]
fn native_object_methods_dispatch_to_the_object() {
    let counter = cn_runtime::object::NativeObject::value(Counter);
    assert_eq!(m(&counter, "next", &[]), "1");
    assert_eq!(
        m_fault(&counter, "reset", &[]),
        "Counter has no method 'reset'"
    );
}

// ---- dict methods ----

// ---- str methods ----

// ---- tuples, durations, results ----

// ---- robustness ----

fn value_pool() -> Vec<Value> {
    let mut vm = vm();
    let d = shown_value(call_kw(&mut vm, "dict", &[], &[("a", i(1))]));
    vec![
        Value::Nil,
        b(true),
        i(0),
        i(-1),
        i(2),
        i(i64::MAX),
        i(i64::MIN),
        i(1_000_000_000_000),
        f(f64::NAN),
        f(f64::INFINITY),
        f(-0.0),
        f(1.5),
        f(1e308),
        s(""),
        s("abc"),
        s("héllo wörld"),
        s(" a  b "),
        s("{}{"),
        s("}"),
        s("{0}{x}"),
        s("{:>99999}"),
        s("-"),
        ints(&[]),
        ints(&[3, 1, 2]),
        strs(&["b", "a"]),
        list(vec![Value::Nil, f(f64::NAN), s("x")]),
        list(vec![ints(&[1]), tuple(vec![i(1), i(2)])]),
        tuple(vec![]),
        tuple(vec![s("k"), i(1)]),
        d,
        shown_value(call(&mut vm, "range", &[i(5)])),
        seconds(2),
        Value::ok(i(1)),
        Value::err(s("e")),
        builtin("len"),
        builtin("abs"),
    ]
}

/// Every builtin and method, with every combination of up to two pool values (and a few
/// keyword arguments), faults or succeeds but never panics.
#[test]
fn no_input_panics() {
    let pool = value_pool();
    let mut combos: Vec<Vec<Value>> = vec![vec![]];
    for a in &pool {
        combos.push(vec![a.clone()]);
        for b in &pool {
            combos.push(vec![a.clone(), b.clone()]);
        }
    }
    // Three arguments from a smaller pool (slice bounds, counts, fill characters).
    let small = [
        Value::Nil,
        i(-1),
        i(2),
        i(i64::MAX),
        i(i64::MIN),
        s(""),
        s("a"),
        f(1.5),
    ];
    for a in &small {
        for b in &small {
            for c in &small {
                combos.push(vec![a.clone(), b.clone(), c.clone()]);
            }
        }
    }
    let keywords: Vec<Vec<(&str, Value)>> = vec![
        vec![],
        vec![("key", builtin("abs"))],
        vec![("reverse", b(true))],
        vec![("default", i(0))],
        vec![("start", i(1))],
        vec![("sep", s(","))],
    ];
    let mut vm = vm();
    for (name, _) in builtins::all() {
        if name == "print" {
            continue;
        }
        for args in &combos {
            let _ = call(&mut vm, name, args);
        }
        for kw in &keywords {
            for args in combos.iter().take(pool.len() + 1) {
                let _ = call_kw(&mut vm, name, args, kw);
            }
        }
    }
    let receivers = pool.clone();
    for receiver in &receivers {
        for name in method_names(receiver) {
            for args in &combos {
                // Methods may mutate the receiver; use a fresh copy of mutable ones.
                let receiver = match receiver {
                    Value::List(l) => list(l.borrow().clone()),
                    Value::Dict(d) => Value::dict(d.borrow().clone()),
                    other => other.clone(),
                };
                let _ = method_kw(&mut vm, &receiver, name, args, &[]);
            }
            for kw in &keywords {
                let _ = method_kw(&mut vm, receiver, name, &[], kw);
            }
        }
    }
}
