//! Builtin functions and methods of builtin types, called directly as natives: results are
//! checked through `repr`, failures through their fault messages.

#![allow(clippy::approx_constant, clippy::cloned_ref_to_slice_refs)]

use cn_runtime::builtins;
use cn_runtime::fault::FaultKind;
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

/// `repr` of builtin `name` applied to positional arguments.
fn run(name: &str, positional: &[Value]) -> String {
    shown(call(&mut vm(), name, positional))
}

/// `repr` of builtin `name` with keyword arguments.
fn run_kw(name: &str, positional: &[Value], keywords: &[(&str, Value)]) -> String {
    shown(call_kw(&mut vm(), name, positional, keywords))
}

/// The fault message of builtin `name`.
fn fault(name: &str, positional: &[Value]) -> String {
    failed(call(&mut vm(), name, positional))
}

fn fault_kw(name: &str, positional: &[Value], keywords: &[(&str, Value)]) -> String {
    failed(call_kw(&mut vm(), name, positional, keywords))
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

fn m_kw(receiver: &Value, name: &str, positional: &[Value], keywords: &[(&str, Value)]) -> String {
    shown(method_kw(&mut vm(), receiver, name, positional, keywords))
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

#[test]
fn print_returns_nil_and_checks_keywords() {
    assert_eq!(run_kw("print", &[], &[("end", s(""))]), "nil");
    assert_eq!(
        fault_kw("print", &[], &[("color", s("red"))]),
        "print() got an unexpected keyword argument 'color'"
    );
}

#[test]
fn len_counts_items_and_characters() {
    assert_eq!(run("len", &[s("héllo")]), "5");
    assert_eq!(run("len", &[ints(&[1, 2, 3])]), "3");
    assert_eq!(run("len", &[tuple(vec![])]), "0");
    let range = call(&mut vm(), "range", &[i(0), i(10), i(3)]);
    assert_eq!(run("len", &[shown_value(range)]), "4");
    assert_eq!(fault("len", &[i(5)]), "len() of int is not defined");
    assert_eq!(fault("len", &[]), "len() takes 1 argument, got 0");
}

fn shown_value(result: Result<Value, Fault>) -> Value {
    match result {
        Ok(v) => v,
        Err(fault) => panic!("unexpected fault: {}", fault.message),
    }
}

#[test]
fn range_str_repr_type_format() {
    assert_eq!(run("range", &[i(5)]), "range(0, 5)");
    assert_eq!(run("range", &[i(5), i(0), i(-1)]), "range(5, 0, -1)");
    assert_eq!(
        fault("range", &[i(0), i(5), i(0)]),
        "range() step must not be zero"
    );
    assert_eq!(
        fault("range", &[f(1.5)]),
        "range() argument 1 must be int, not float"
    );
    assert_eq!(run("str", &[f(1.5)]), "\"1.5\"");
    assert_eq!(run("str", &[]), "\"\"");
    assert_eq!(run("str", &[strs(&["a"])]), "\"[\\\"a\\\"]\"");
    assert_eq!(run("repr", &[s("a")]), "\"\\\"a\\\"\"");
    assert_eq!(run("type", &[i(1)]), "\"int\"");
    assert_eq!(run("type", &[Value::Nil]), "\"nil\"");
    assert_eq!(run("type", &[ints(&[])]), "\"list\"");
    assert_eq!(run("type", &[Value::ok(i(1))]), "\"Result\"");
    assert_eq!(run("format", &[f(3.14159), s(".2f")]), "\"3.14\"");
    assert_eq!(run("format", &[i(1234567), s(",")]), "\"1,234,567\"");
    assert_eq!(run("format", &[i(5)]), "\"5\"");
    assert_eq!(run("format", &[s("ab"), s("^6")]), "\"  ab  \"");
    assert_eq!(
        fault("format", &[s("x"), s("d")]),
        "format spec 'd' does not apply to str"
    );
    assert_eq!(
        fault("format", &[i(1), i(2)]),
        "format() argument 2 must be str, not int"
    );
}

#[test]
fn args_results_and_exit() {
    assert_eq!(run("args", &[]), "[]");
    let mut with_args = Vm::new(vec!["a".into(), "b".into()]);
    assert_eq!(shown(call(&mut with_args, "args", &[])), "[\"a\", \"b\"]");
    assert_eq!(run("Ok", &[i(1)]), "Ok(1)");
    assert_eq!(run("Ok", &[]), "Ok(nil)");
    assert_eq!(run("Err", &[s("boom")]), "Err(\"boom\")");
    assert_eq!(fault("Err", &[]), "Err() takes 1 argument, got 0");
    match call(&mut vm(), "exit", &[i(3)]) {
        Err(fault) => assert_eq!(fault.kind, FaultKind::Exit(3)),
        Ok(v) => panic!("exit returned {v:?}"),
    }
    assert_eq!(
        fault("exit", &[s("x")]),
        "exit() argument 1 must be int, not str"
    );
}

// ---- conversions ----

#[test]
fn int_parses_and_converts() {
    assert_eq!(run("int", &[s("42")]), "42");
    assert_eq!(run("int", &[s("  -7 ")]), "-7");
    assert_eq!(run("int", &[s("+1_000")]), "1000");
    assert_eq!(run("int", &[s("ff"), i(16)]), "255");
    assert_eq!(run("int", &[s("0x1F"), i(16)]), "31");
    assert_eq!(run_kw("int", &[s("101")], &[("base", i(2))]), "5");
    assert_eq!(run("int", &[s("0o17"), i(0)]), "15");
    assert_eq!(
        run("int", &[s("-9223372036854775808")]),
        "-9223372036854775808"
    );
    assert_eq!(run("int", &[f(3.9)]), "3");
    assert_eq!(run("int", &[f(-3.9)]), "-3");
    assert_eq!(run("int", &[i(7)]), "7");
    assert_eq!(run("int", &[]), "0");
    assert_eq!(
        fault("int", &[s("abc")]),
        "invalid literal for int(): \"abc\""
    );
    assert_eq!(fault("int", &[s("")]), "invalid literal for int(): \"\"");
    assert_eq!(
        fault("int", &[s("1__0")]),
        "invalid literal for int(): \"1__0\""
    );
    assert_eq!(
        fault("int", &[s("1.5")]),
        "invalid literal for int(): \"1.5\""
    );
    assert_eq!(
        fault("int", &[s("zz"), i(16)]),
        "invalid literal for int() with base 16: \"zz\""
    );
    assert_eq!(
        fault("int", &[s("010"), i(0)]),
        "invalid literal for int() with base 0: \"010\""
    );
    assert_eq!(
        fault("int", &[s("99999999999999999999")]),
        "integer overflow in int(): \"99999999999999999999\""
    );
    assert_eq!(
        fault("int", &[s("1"), i(37)]),
        "int() base must be >= 2 and <= 36, or 0"
    );
    assert_eq!(
        fault("int", &[b(true)]),
        "int() argument 1 must be str, int or float, not bool"
    );
    assert_eq!(
        fault("int", &[f(f64::NAN)]),
        "cannot convert float nan to int"
    );
    assert_eq!(
        fault("int", &[f(f64::NEG_INFINITY)]),
        "cannot convert float -inf to int"
    );
    assert_eq!(
        fault("int", &[f(1e30)]),
        "integer overflow: float 1e+30 does not fit in int"
    );
    assert_eq!(
        fault("int", &[i(1), i(16)]),
        "int() cannot convert int with an explicit base"
    );
}

#[test]
fn float_parses_and_converts() {
    assert_eq!(run("float", &[s("1.5")]), "1.5");
    assert_eq!(run("float", &[s(" 2 ")]), "2.0");
    assert_eq!(run("float", &[s("1e3")]), "1000.0");
    assert_eq!(run("float", &[s("1_000.5")]), "1000.5");
    assert_eq!(run("float", &[s("inf")]), "inf");
    assert_eq!(run("float", &[s("-Infinity")]), "-inf");
    assert_eq!(run("float", &[s("nan")]), "nan");
    assert_eq!(run("float", &[i(3)]), "3.0");
    assert_eq!(run("float", &[]), "0.0");
    assert_eq!(
        fault("float", &[s("abc")]),
        "could not convert string to float: \"abc\""
    );
    assert_eq!(
        fault("float", &[s("1_")]),
        "could not convert string to float: \"1_\""
    );
    assert_eq!(
        fault("float", &[s("0x10")]),
        "could not convert string to float: \"0x10\""
    );
    assert_eq!(
        fault("float", &[Value::Nil]),
        "float() argument 1 must be str, int or float, not nil"
    );
}

#[test]
fn bool_list_tuple() {
    assert_eq!(run("bool", &[i(0)]), "false");
    assert_eq!(run("bool", &[s("")]), "false");
    assert_eq!(run("bool", &[ints(&[1])]), "true");
    assert_eq!(run("bool", &[Value::Nil]), "false");
    assert_eq!(run("bool", &[]), "false");
    assert_eq!(run("list", &[s("ab")]), "[\"a\", \"b\"]");
    let r = shown_value(call(&mut vm(), "range", &[i(3)]));
    assert_eq!(run("list", &[r.clone()]), "[0, 1, 2]");
    assert_eq!(run("list", &[]), "[]");
    assert_eq!(run("tuple", &[r]), "(0, 1, 2)");
    assert_eq!(run("tuple", &[ints(&[1])]), "(1,)");
    assert_eq!(
        fault("list", &[i(5)]),
        "list() argument 1 must be iterable, not int"
    );
    let huge = shown_value(call(&mut vm(), "range", &[i(1_000_000_000_000)]));
    assert_eq!(
        fault("list", &[huge]),
        "range of 1000000000000 items is too large to collect"
    );
    // list() copies.
    let xs = ints(&[1]);
    let copy = shown_value(call(&mut vm(), "list", &[xs.clone()]));
    assert!(!copy.same(&xs));
}

#[test]
fn dict_builds_from_pairs_and_keywords() {
    assert_eq!(run("dict", &[]), "{}");
    let pairs = list(vec![tuple(vec![s("a"), i(1)]), list(vec![s("b"), i(2)])]);
    assert_eq!(run("dict", &[pairs]), "{\"a\": 1, \"b\": 2}");
    assert_eq!(
        run_kw("dict", &[], &[("x", i(1)), ("y", i(2))]),
        "{\"x\": 1, \"y\": 2}"
    );
    let base = shown_value(call_kw(&mut vm(), "dict", &[], &[("x", i(1))]));
    assert_eq!(
        run_kw("dict", &[base], &[("y", i(2))]),
        "{\"x\": 1, \"y\": 2}"
    );
    assert_eq!(
        fault("dict", &[ints(&[1])]),
        "dict() item 0 must be a (key, value) pair, not int"
    );
    assert_eq!(
        fault("dict", &[list(vec![ints(&[1, 2, 3])])]),
        "dict() item 0 has 3 elements; a (key, value) pair needs 2"
    );
    assert_eq!(
        fault("dict", &[list(vec![tuple(vec![ints(&[]), i(1)])])]),
        "unhashable type: 'list' cannot be a dict key"
    );
    assert_eq!(
        fault("dict", &[i(1)]),
        "dict() argument 1 must be iterable, not int"
    );
}

#[test]
fn ord_chr_and_radix() {
    assert_eq!(run("ord", &[s("a")]), "97");
    assert_eq!(run("ord", &[s("é")]), "233");
    assert_eq!(
        fault("ord", &[s("ab")]),
        "ord() expected a single character, got a string of length 2"
    );
    assert_eq!(
        fault("ord", &[i(1)]),
        "ord() argument 1 must be str, not int"
    );
    assert_eq!(run("chr", &[i(97)]), "\"a\"");
    assert_eq!(run("chr", &[i(0x1F600)]), "\"😀\"");
    assert_eq!(
        fault("chr", &[i(-1)]),
        "chr() argument -1 is not a valid Unicode code point"
    );
    assert_eq!(
        fault("chr", &[i(0x110000)]),
        "chr() argument 1114112 is not a valid Unicode code point"
    );
    assert_eq!(run("hex", &[i(255)]), "\"0xff\"");
    assert_eq!(run("hex", &[i(-1)]), "\"-0x1\"");
    assert_eq!(run("hex", &[i(i64::MIN)]), "\"-0x8000000000000000\"");
    assert_eq!(run("bin", &[i(5)]), "\"0b101\"");
    assert_eq!(run("bin", &[i(0)]), "\"0b0\"");
    assert_eq!(run("oct", &[i(8)]), "\"0o10\"");
    assert_eq!(
        fault("hex", &[f(1.0)]),
        "hex() argument 1 must be int, not float"
    );
}

// ---- numbers ----

#[test]
fn abs_of_numbers_and_durations() {
    assert_eq!(run("abs", &[i(-5)]), "5");
    assert_eq!(run("abs", &[f(-2.5)]), "2.5");
    assert_eq!(run("abs", &[Value::Duration(-1_500_000_000)]), "1.5s");
    assert_eq!(fault("abs", &[i(i64::MIN)]), "integer overflow in abs()");
    assert_eq!(
        fault("abs", &[s("x")]),
        "abs() argument 1 must be int, float or duration, not str"
    );
}

#[test]
fn round_is_bankers_rounding() {
    assert_eq!(run("round", &[f(2.5)]), "2");
    assert_eq!(run("round", &[f(3.5)]), "4");
    assert_eq!(run("round", &[f(-2.5)]), "-2");
    assert_eq!(run("round", &[f(2.6)]), "3");
    assert_eq!(run("round", &[i(7)]), "7");
    assert_eq!(run("round", &[f(2.675), i(2)]), "2.67");
    assert_eq!(run("round", &[f(0.125), i(2)]), "0.12");
    assert_eq!(run("round", &[f(0.375), i(2)]), "0.38");
    assert_eq!(run("round", &[f(1.5), i(0)]), "2.0");
    assert_eq!(run("round", &[f(1234.5), i(-2)]), "1200.0");
    assert_eq!(
        run_kw("round", &[f(3.14159)], &[("ndigits", i(3))]),
        "3.142"
    );
    assert_eq!(run("round", &[i(1250), i(-2)]), "1200");
    assert_eq!(run("round", &[i(1350), i(-2)]), "1400");
    assert_eq!(run("round", &[i(-1251), i(-2)]), "-1300");
    assert_eq!(run("round", &[i(17), i(3)]), "17");
    assert_eq!(run("round", &[f(1.5), i(1_000_000)]), "1.5");
    assert_eq!(run("round", &[f(1.5), i(-1_000_000)]), "0.0");
    assert_eq!(
        fault("round", &[f(f64::NAN)]),
        "cannot convert float nan to int"
    );
    assert_eq!(
        fault("round", &[s("1")]),
        "round() argument 1 must be int or float, not str"
    );
    assert_eq!(
        fault("round", &[i(i64::MAX), i(-1)]),
        "integer overflow in round()"
    );
}

#[test]
fn divmod_floors() {
    assert_eq!(run("divmod", &[i(7), i(2)]), "(3, 1)");
    assert_eq!(run("divmod", &[i(-7), i(2)]), "(-4, 1)");
    assert_eq!(run("divmod", &[f(7.5), i(2)]), "(3.0, 1.5)");
    assert_eq!(
        run("divmod", &[Value::Duration(90_000_000_000), seconds(60)]),
        "(1, 30s)"
    );
    assert_eq!(fault("divmod", &[i(1), i(0)]), "division by zero");
    assert_eq!(
        fault("divmod", &[b(true), i(1)]),
        "divmod() argument 1 must be int, float or duration, not bool"
    );
}

#[test]
fn sum_of_numbers_durations_and_lists() {
    assert_eq!(run("sum", &[ints(&[1, 2, 3])]), "6");
    assert_eq!(run("sum", &[ints(&[])]), "0");
    assert_eq!(run("sum", &[ints(&[1, 2]), i(10)]), "13");
    assert_eq!(run_kw("sum", &[ints(&[1, 2])], &[("start", i(10))]), "13");
    assert_eq!(run("sum", &[list(vec![i(1), f(2.5)])]), "3.5");
    assert_eq!(run("sum", &[list(vec![f(0.1); 10])]), "1.0");
    assert_eq!(
        run(
            "sum",
            &[list(vec![seconds(1), Value::Duration(500_000_000)])]
        ),
        "1.5s"
    );
    assert_eq!(
        run("sum", &[list(vec![ints(&[1]), ints(&[2])]), ints(&[])]),
        "[1, 2]"
    );
    assert_eq!(
        fault("sum", &[ints(&[i64::MAX, 1])]),
        "integer overflow in sum()"
    );
    assert_eq!(
        fault("sum", &[strs(&["a", "b"])]),
        "sum() cannot add strings; use \"\".join(items) instead"
    );
    assert_eq!(
        fault("sum", &[i(5)]),
        "sum() argument 1 must be iterable, not int"
    );
    assert_eq!(
        fault("sum", &[list(vec![i(1), b(true)])]),
        "unsupported operand types for +: int and bool"
    );
}

#[test]
fn min_and_max() {
    assert_eq!(run("min", &[ints(&[3, 1, 2])]), "1");
    assert_eq!(run("max", &[ints(&[3, 1, 2])]), "3");
    assert_eq!(run("max", &[i(3), f(4.5), i(2)]), "4.5");
    assert_eq!(run("min", &[s("b"), s("a")]), "\"a\"");
    assert_eq!(
        run_kw(
            "max",
            &[strs(&["a", "bb", "cc"])],
            &[("key", builtin("len"))]
        ),
        "\"bb\""
    );
    assert_eq!(
        run_kw(
            "min",
            &[strs(&["bb", "a", "c"])],
            &[("key", builtin("len"))]
        ),
        "\"a\""
    );
    assert_eq!(run_kw("min", &[ints(&[])], &[("default", i(0))]), "0");
    assert_eq!(
        run_kw(
            "max",
            &[ints(&[1])],
            &[("default", i(0)), ("key", Value::Nil)]
        ),
        "1"
    );
    assert_eq!(fault("min", &[ints(&[])]), "min() of an empty sequence");
    assert_eq!(fault("max", &[ints(&[])]), "max() of an empty sequence");
    assert_eq!(fault("min", &[]), "min() takes at least 1 argument, got 0");
    assert_eq!(fault("min", &[i(1), s("a")]), "cannot compare str with int");
    assert_eq!(
        fault("max", &[i(1)]),
        "max() argument 1 must be iterable, not int"
    );
    assert_eq!(
        fault_kw("max", &[i(1), i(2)], &[("default", i(0))]),
        "max() cannot take a default with several positional arguments"
    );
}

// ---- sequences ----

#[test]
fn sorted_is_stable_with_key_and_reverse() {
    assert_eq!(run("sorted", &[ints(&[3, 1, 2])]), "[1, 2, 3]");
    assert_eq!(
        run_kw("sorted", &[ints(&[3, 1, 2])], &[("reverse", b(true))]),
        "[3, 2, 1]"
    );
    assert_eq!(
        run("sorted", &[strs(&["b", "a", "c"])]),
        "[\"a\", \"b\", \"c\"]"
    );
    assert_eq!(
        run("sorted", &[list(vec![i(2), f(1.5), i(3), f(-0.5)])]),
        "[-0.5, 1.5, 2, 3]"
    );
    assert_eq!(
        run("sorted", &[list(vec![f(2.0), f(-0.0), f(0.0), f(-1.5)])]),
        "[-1.5, -0.0, 0.0, 2.0]"
    );
    assert_eq!(run("sorted", &[list(vec![f(0.0), f(-0.0)])]), "[0.0, -0.0]");
    let words = strs(&["bb", "a", "cc", "d"]);
    assert_eq!(
        run_kw("sorted", &[words.clone()], &[("key", builtin("len"))]),
        "[\"a\", \"d\", \"bb\", \"cc\"]"
    );
    assert_eq!(
        run_kw(
            "sorted",
            &[words],
            &[("key", builtin("len")), ("reverse", b(true))]
        ),
        "[\"bb\", \"cc\", \"a\", \"d\"]"
    );
    let pairs = list(vec![
        tuple(vec![i(2), s("a")]),
        tuple(vec![i(1), s("b")]),
        tuple(vec![i(2), s("0")]),
    ]);
    assert_eq!(
        run("sorted", &[pairs]),
        "[(1, \"b\"), (2, \"0\"), (2, \"a\")]"
    );
    assert_eq!(run("sorted", &[s("cab")]), "[\"a\", \"b\", \"c\"]");
    assert_eq!(
        fault("sorted", &[ints(&[1]), ints(&[2])]),
        "sorted() takes 1 argument, got 2"
    );
    assert_eq!(
        fault("sorted", &[list(vec![i(1), s("a")])]),
        "cannot compare int with str"
    );
    assert_eq!(
        fault("sorted", &[list(vec![f(1.0), f(f64::NAN)])]),
        "cannot compare float with float"
    );
    assert_eq!(
        fault_kw("sorted", &[ints(&[])], &[("reverse", i(1))]),
        "sorted() argument 'reverse' must be bool, not int"
    );
    assert_eq!(
        fault_kw("sorted", &[ints(&[])], &[("cmp", i(1))]),
        "sorted() got an unexpected keyword argument 'cmp'"
    );
}

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

#[test]
fn key_function_faults_propagate() {
    let key = lambda(|_| Err(Fault::new("key exploded")));
    assert_eq!(
        fault_kw("sorted", &[ints(&[2, 1])], &[("key", key.clone())]),
        "key exploded"
    );
    assert_eq!(
        fault_kw("max", &[ints(&[2, 1])], &[("key", key)]),
        "key exploded"
    );
    assert_eq!(
        fault_kw("sorted", &[ints(&[2, 1])], &[("key", i(1))]),
        "a value of type int is not callable"
    );
    // The key is called even for a single item, as in Python.
    assert_eq!(
        fault_kw("sorted", &[ints(&[2])], &[("key", i(1))]),
        "a value of type int is not callable"
    );
    assert_eq!(run_kw("sorted", &[ints(&[])], &[("key", i(1))]), "[]");
}

#[test]
fn reversed_enumerate_zip() {
    assert_eq!(run("reversed", &[ints(&[1, 2, 3])]), "[3, 2, 1]");
    assert_eq!(run("reversed", &[s("abc")]), "[\"c\", \"b\", \"a\"]");
    assert_eq!(
        fault("reversed", &[i(1)]),
        "reversed() argument 1 must be iterable, not int"
    );
    let mut vm = vm();
    let e = shown_value(call(&mut vm, "enumerate", &[strs(&["a", "b"])]));
    assert_eq!(repr(&e), "<iterator>");
    assert_eq!(
        shown(call(&mut vm, "list", &[e])),
        "[(0, \"a\"), (1, \"b\")]"
    );
    let e = shown_value(call_kw(
        &mut vm,
        "enumerate",
        &[strs(&["a", "b"])],
        &[("start", i(1))],
    ));
    assert_eq!(
        shown(call(&mut vm, "list", &[e])),
        "[(1, \"a\"), (2, \"b\")]"
    );
    let e = shown_value(call(&mut vm, "enumerate", &[s("x"), i(5)]));
    assert_eq!(shown(call(&mut vm, "list", &[e])), "[(5, \"x\")]");
    let z = shown_value(call(&mut vm, "zip", &[ints(&[1, 2, 3]), s("ab")]));
    assert_eq!(
        shown(call(&mut vm, "list", &[z])),
        "[(1, \"a\"), (2, \"b\")]"
    );
    let z = shown_value(call(&mut vm, "zip", &[]));
    assert_eq!(shown(call(&mut vm, "list", &[z])), "[]");
    assert_eq!(
        fault("zip", &[ints(&[1]), i(2)]),
        "zip() argument 2 must be iterable, not int"
    );
    assert_eq!(
        fault("enumerate", &[ints(&[1]), s("1")]),
        "enumerate() argument 2 must be int, not str"
    );
    assert_eq!(
        fault("enumerate", &[ints(&[1]), i(i64::MAX)]),
        "enumerate() start 9223372036854775807 is too large"
    );
}

#[test]
fn any_all_map_filter() {
    assert_eq!(run("any", &[list(vec![i(0), s(""), i(3)])]), "true");
    assert_eq!(run("any", &[ints(&[])]), "false");
    assert_eq!(run("all", &[list(vec![i(1), s("x")])]), "true");
    assert_eq!(run("all", &[list(vec![i(1), Value::Nil])]), "false");
    assert_eq!(run("all", &[ints(&[])]), "true");
    assert_eq!(
        fault("any", &[i(1)]),
        "any() argument 1 must be iterable, not int"
    );
    assert_eq!(
        run("map", &[builtin("str"), ints(&[1, 2])]),
        "[\"1\", \"2\"]"
    );
    let add = lambda(|args| match args {
        [Value::Int(a), Value::Int(b)] => Ok(Value::Int(a + b)),
        _ => Err(Fault::new("bad")),
    });
    assert_eq!(
        run("map", &[add, ints(&[1, 2, 3]), ints(&[10, 20])]),
        "[11, 22]"
    );
    assert_eq!(
        fault("map", &[builtin("str")]),
        "map() takes at least 2 arguments, got 1"
    );
    assert_eq!(
        run("filter", &[Value::Nil, list(vec![i(0), i(1), s(""), i(2)])]),
        "[1, 2]"
    );
    let odd = lambda(|args| match args {
        [Value::Int(n)] => Ok(Value::Bool(n % 2 == 1)),
        _ => Err(Fault::new("bad")),
    });
    assert_eq!(run("filter", &[odd, ints(&[1, 2, 3, 4, 5])]), "[1, 3, 5]");
    assert_eq!(
        fault("filter", &[Value::Nil, i(1)]),
        "filter() argument 2 must be iterable, not int"
    );
}

// ---- list methods ----

#[test]
fn list_methods() {
    let xs = ints(&[1, 2]);
    assert_eq!(m(&xs, "append", &[i(3)]), "nil");
    assert_eq!(repr(&xs), "[1, 2, 3]");
    assert_eq!(
        m_fault(&xs, "append", &[i(3), i(4)]),
        "list.append() takes 1 argument, got 2"
    );
    assert_eq!(m(&xs, "pop", &[]), "3");
    assert_eq!(m(&xs, "pop", &[i(0)]), "1");
    assert_eq!(repr(&xs), "[2]");
    assert_eq!(
        m_fault(&xs, "pop", &[i(5)]),
        "pop index 5 out of range for list of length 1"
    );
    assert_eq!(m_fault(&ints(&[]), "pop", &[]), "pop from empty list");
    assert_eq!(m(&xs, "extend", &[s("ab")]), "nil");
    assert_eq!(m(&xs, "extend", &[xs.clone()]), "nil");
    assert_eq!(repr(&xs), "[2, \"a\", \"b\", 2, \"a\", \"b\"]");
    assert_eq!(
        m_fault(&xs, "extend", &[i(1)]),
        "list.extend() argument 1 must be iterable, not int"
    );
    let ys = ints(&[1, 2, 3]);
    m(&ys, "insert", &[i(0), i(0)]);
    m(&ys, "insert", &[i(-1), i(9)]);
    m(&ys, "insert", &[i(100), i(7)]);
    m(&ys, "insert", &[i(-100), i(-1)]);
    assert_eq!(repr(&ys), "[-1, 0, 1, 2, 9, 3, 7]");
    assert_eq!(m(&ys, "remove", &[i(9)]), "nil");
    assert_eq!(
        m_fault(&ys, "remove", &[i(9)]),
        "list.remove(x): 9 not in list"
    );
    assert_eq!(
        m_fault(&ys, "remove", &[s("9")]),
        "list.remove(x): \"9\" not in list"
    );
    assert_eq!(m(&ys, "index", &[i(2)]), "3");
    assert_eq!(m(&ys, "index", &[f(2.0)]), "3");
    assert_eq!(
        m_fault(&ys, "index", &[i(2), i(4)]),
        "list.index(x): 2 not in list"
    );
    assert_eq!(m(&ints(&[1, 2, 1, 1]), "count", &[i(1)]), "3");
    m(&ys, "reverse", &[]);
    assert_eq!(repr(&ys), "[7, 3, 2, 1, 0, -1]");
    let copy = method_kw(&mut vm(), &ys, "copy", &[], &[]).unwrap_or_default();
    m(&ys, "clear", &[]);
    assert_eq!(repr(&ys), "[]");
    assert_eq!(repr(&copy), "[7, 3, 2, 1, 0, -1]");
    assert_eq!(
        m_fault(&ys, "clear", &[i(1)]),
        "list.clear() takes 0 arguments, got 1"
    );
}

#[test]
fn list_sort_in_place() {
    let xs = ints(&[3, 1, 2]);
    assert_eq!(m(&xs, "sort", &[]), "nil");
    assert_eq!(repr(&xs), "[1, 2, 3]");
    m_kw(&xs, "sort", &[], &[("reverse", b(true))]);
    assert_eq!(repr(&xs), "[3, 2, 1]");
    let words = strs(&["ccc", "a", "bb", "d"]);
    m_kw(&words, "sort", &[], &[("key", builtin("len"))]);
    assert_eq!(repr(&words), "[\"a\", \"d\", \"bb\", \"ccc\"]");
    // A key function that mutates the list does not break the sort.
    let target = ints(&[2, 1]);
    let inner = target.clone();
    let key = lambda(move |args| {
        if let Value::List(l) = &inner {
            l.borrow_mut().push(Value::Int(0));
        }
        Ok(args[0].clone())
    });
    m_kw(&target, "sort", &[], &[("key", key)]);
    assert_eq!(repr(&target), "[1, 2]");
    assert_eq!(
        m_fault(&ints(&[1]), "sort", &[i(1)]),
        "list.sort() takes 0 arguments, got 1"
    );
}

#[test]
fn unknown_methods_suggest_names() {
    assert_eq!(
        m_fault(&ints(&[]), "appendd", &[]),
        "list has no method 'appendd'; did you mean 'append'?"
    );
    assert_eq!(
        m_fault(&s("x"), "splitt", &[]),
        "str has no method 'splitt'; did you mean 'split'?"
    );
    assert_eq!(
        m_fault(&s("x"), "frobnicate", &[]),
        "str has no method 'frobnicate'"
    );
    assert_eq!(
        m_fault(&i(1), "bit_length", &[]),
        "int has no method 'bit_length'"
    );
    assert_eq!(
        m_fault(&s("x"), "decode", &[]),
        "str has no method 'decode'; did you mean 'encode'?"
    );
}

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

fn sample_dict() -> Value {
    shown_value(call_kw(&mut vm(), "dict", &[], &[("a", i(1)), ("b", i(2))]))
}

#[test]
fn dict_views_and_lookup() {
    let d = sample_dict();
    assert_eq!(m(&d, "keys", &[]), "[\"a\", \"b\"]");
    assert_eq!(m(&d, "values", &[]), "[1, 2]");
    assert_eq!(m(&d, "items", &[]), "[(\"a\", 1), (\"b\", 2)]");
    assert_eq!(m(&d, "get", &[s("a")]), "1");
    assert_eq!(m(&d, "get", &[s("z")]), "nil");
    assert_eq!(m(&d, "get", &[s("z"), i(0)]), "0");
    assert_eq!(
        m_fault(&d, "get", &[ints(&[])]),
        "unhashable type: 'list' cannot be a dict key"
    );
    assert_eq!(
        m_fault(&d, "keys", &[i(1)]),
        "dict.keys() takes 0 arguments, got 1"
    );
}

#[test]
fn dict_mutation() {
    let d = shown_value(call_kw(
        &mut vm(),
        "dict",
        &[],
        &[("a", i(1)), ("b", i(2)), ("c", i(3))],
    ));
    assert_eq!(m(&d, "pop", &[s("a")]), "1");
    assert_eq!(m(&d, "pop", &[s("a"), i(0)]), "0");
    assert_eq!(m_fault(&d, "pop", &[s("k")]), "key not found: \"k\"");
    assert_eq!(repr(&d), "{\"b\": 2, \"c\": 3}");
    assert_eq!(m(&d, "setdefault", &[s("b"), i(9)]), "2");
    assert_eq!(m(&d, "setdefault", &[s("z"), i(9)]), "9");
    assert_eq!(m(&d, "setdefault", &[s("n")]), "nil");
    assert_eq!(repr(&d), "{\"b\": 2, \"c\": 3, \"z\": 9, \"n\": nil}");
    let d = sample_dict();
    assert_eq!(m(&d, "update", &[sample_dict()]), "nil");
    assert_eq!(m(&d, "update", &[d.clone()]), "nil");
    assert_eq!(
        m(&d, "update", &[list(vec![tuple(vec![s("c"), i(3)])])]),
        "nil"
    );
    assert_eq!(m_kw(&d, "update", &[], &[("a", i(10))]), "nil");
    assert_eq!(repr(&d), "{\"a\": 10, \"b\": 2, \"c\": 3}");
    assert_eq!(
        m_fault(&d, "update", &[i(1)]),
        "dict.update() argument 1 must be dict or iterable of pairs, not int"
    );
    assert_eq!(
        m_fault(&d, "update", &[ints(&[1])]),
        "dict.update() item 0 must be a (key, value) pair, not int"
    );
    let copy = method_kw(&mut vm(), &d, "copy", &[], &[]).unwrap_or_default();
    assert_eq!(m(&d, "clear", &[]), "nil");
    assert_eq!(repr(&d), "{}");
    assert_eq!(repr(&copy), "{\"a\": 10, \"b\": 2, \"c\": 3}");
}

// ---- str methods ----

#[test]
fn str_split_and_rsplit() {
    assert_eq!(
        m(&s("a,b,,c"), "split", &[s(",")]),
        "[\"a\", \"b\", \"\", \"c\"]"
    );
    assert_eq!(m(&s("  a  b\tc\n"), "split", &[]), "[\"a\", \"b\", \"c\"]");
    assert_eq!(m(&s(""), "split", &[]), "[]");
    assert_eq!(m(&s(""), "split", &[s(",")]), "[\"\"]");
    assert_eq!(
        m(&s("a--b--c"), "split", &[s("--")]),
        "[\"a\", \"b\", \"c\"]"
    );
    assert_eq!(m(&s("a,b,c"), "split", &[s(","), i(1)]), "[\"a\", \"b,c\"]");
    assert_eq!(
        m_kw(&s(" a b c "), "split", &[], &[("maxsplit", i(1))]),
        "[\"a\", \"b c \"]"
    );
    assert_eq!(
        m(&s(" a b c "), "split", &[Value::Nil, i(0)]),
        "[\"a b c \"]"
    );
    assert_eq!(
        m(&s("a,b,c"), "rsplit", &[s(","), i(1)]),
        "[\"a,b\", \"c\"]"
    );
    assert_eq!(
        m(&s(" a b c "), "rsplit", &[Value::Nil, i(1)]),
        "[\" a b\", \"c\"]"
    );
    assert_eq!(m(&s("a b"), "rsplit", &[]), "[\"a\", \"b\"]");
    assert_eq!(m(&s("é,ü"), "split", &[s(",")]), "[\"é\", \"ü\"]");
    assert_eq!(
        m_fault(&s("a"), "split", &[s("")]),
        "str.split() empty separator"
    );
    assert_eq!(
        m_fault(&s("a"), "split", &[i(1)]),
        "str.split() argument 1 must be str or nil, not int"
    );
}

#[test]
fn str_join() {
    assert_eq!(
        m(&s(", "), "join", &[strs(&["a", "b", "c"])]),
        "\"a, b, c\""
    );
    assert_eq!(m(&s("-"), "join", &[s("abc")]), "\"a-b-c\"");
    assert_eq!(m(&s("-"), "join", &[tuple(vec![s("x")])]), "\"x\"");
    assert_eq!(m(&s("-"), "join", &[ints(&[])]), "\"\"");
    assert_eq!(
        m_fault(&s("-"), "join", &[list(vec![s("a"), i(1)])]),
        "str.join() item 1 must be str, not int"
    );
    assert_eq!(
        m_fault(&s("-"), "join", &[i(1)]),
        "str.join() argument 1 must be iterable, not int"
    );
    let big_sep = Value::str("x".repeat(1 << 20));
    let many = strs(&["a"; 2048]);
    assert_eq!(
        m_fault(&big_sep, "join", &[many]),
        "str.join() result too large (2146437120 bytes)"
    );
}

#[test]
fn str_strip_replace_affixes() {
    assert_eq!(m(&s("  hi \n"), "strip", &[]), "\"hi\"");
    assert_eq!(m(&s("  hi "), "lstrip", &[]), "\"hi \"");
    assert_eq!(m(&s("  hi "), "rstrip", &[]), "\"  hi\"");
    assert_eq!(m(&s("xxhixy"), "strip", &[s("xy")]), "\"hi\"");
    assert_eq!(m(&s("hi"), "strip", &[Value::Nil]), "\"hi\"");
    assert_eq!(m(&s("a.b.c"), "replace", &[s("."), s("::")]), "\"a::b::c\"");
    assert_eq!(
        m(&s("a.b.c"), "replace", &[s("."), s(""), i(1)]),
        "\"ab.c\""
    );
    assert_eq!(
        m_kw(&s("aaa"), "replace", &[s("a"), s("b")], &[("count", i(2))]),
        "\"bba\""
    );
    assert_eq!(m(&s("ab"), "replace", &[s(""), s("-")]), "\"-a-b-\"");
    assert_eq!(m(&s("ab"), "replace", &[s("z"), s("-")]), "\"ab\"");
    let long = Value::str("a".repeat(1000));
    let huge = Value::str("b".repeat(2_000_000));
    assert_eq!(
        m_fault(&long, "replace", &[s("a"), huge]),
        "str.replace() result too large"
    );
    assert_eq!(m(&s("hello"), "startswith", &[s("he")]), "true");
    assert_eq!(
        m(&s("hello"), "startswith", &[tuple(vec![s("x"), s("hel")])]),
        "true"
    );
    assert_eq!(m(&s("hello"), "startswith", &[s("ll"), i(2)]), "true");
    assert_eq!(m(&s("hello"), "endswith", &[s("lo")]), "true");
    assert_eq!(m(&s("hello"), "endswith", &[s("he")]), "false");
    assert_eq!(m(&s("hello"), "endswith", &[s("ell"), i(0), i(4)]), "true");
    assert_eq!(
        m_fault(&s("hello"), "startswith", &[i(1)]),
        "str.startswith() argument 1 must be str or tuple of str, not int"
    );
    assert_eq!(
        m_fault(&s("hello"), "endswith", &[tuple(vec![i(1)])]),
        "str.endswith() tuple items must be str, not int"
    );
}

#[test]
fn str_case_and_classification() {
    assert_eq!(m(&s("Hé"), "upper", &[]), "\"HÉ\"");
    assert_eq!(m(&s("Hé"), "lower", &[]), "\"hé\"");
    assert_eq!(
        m(&s("hello wORLD 1st they're"), "title", &[]),
        "\"Hello World 1St They'Re\""
    );
    assert_eq!(m(&s("hELLO"), "capitalize", &[]), "\"Hello\"");
    assert_eq!(m(&s(""), "capitalize", &[]), "\"\"");
    assert_eq!(m(&s("123"), "isdigit", &[]), "true");
    assert_eq!(m(&s("12a"), "isdigit", &[]), "false");
    assert_eq!(m(&s(""), "isdigit", &[]), "false");
    assert_eq!(m(&s("abé"), "isalpha", &[]), "true");
    assert_eq!(m(&s("ab1"), "isalpha", &[]), "false");
    assert_eq!(m(&s(" \t\n"), "isspace", &[]), "true");
    assert_eq!(m(&s(""), "isspace", &[]), "false");
    assert_eq!(m(&s("ab1"), "isalnum", &[]), "true");
    assert_eq!(m(&s("ab 1"), "isalnum", &[]), "false");
    assert_eq!(m(&s("AB1"), "isupper", &[]), "true");
    assert_eq!(m(&s("Ab"), "isupper", &[]), "false");
    assert_eq!(m(&s("123"), "isupper", &[]), "false");
    assert_eq!(m(&s("ab1"), "islower", &[]), "true");
    assert_eq!(
        m_fault(&s("a"), "upper", &[i(1)]),
        "str.upper() takes 0 arguments, got 1"
    );
}

#[test]
fn str_searching() {
    assert_eq!(m(&s("hello"), "find", &[s("l")]), "2");
    assert_eq!(m(&s("hello"), "rfind", &[s("l")]), "3");
    assert_eq!(m(&s("hello"), "find", &[s("z")]), "-1");
    assert_eq!(m(&s("héllo"), "find", &[s("l")]), "2");
    assert_eq!(m(&s("héllo"), "rfind", &[s("l")]), "3");
    assert_eq!(m(&s("hello"), "find", &[s("l"), i(3)]), "3");
    assert_eq!(m(&s("hello"), "find", &[s("l"), i(-2)]), "3");
    assert_eq!(m(&s("hello"), "find", &[s("o"), i(0), i(4)]), "-1");
    assert_eq!(m(&s("abc"), "find", &[s(""), i(3)]), "3");
    assert_eq!(m(&s("abc"), "find", &[s(""), i(4)]), "-1");
    assert_eq!(m(&s("héllo"), "index", &[s("o")]), "4");
    assert_eq!(
        m_fault(&s("hello"), "index", &[s("z")]),
        "substring not found"
    );
    assert_eq!(m(&s("banana"), "count", &[s("an")]), "2");
    assert_eq!(m(&s("aaaa"), "count", &[s("aa")]), "2");
    assert_eq!(m(&s("abc"), "count", &[s("")]), "4");
    assert_eq!(m(&s("banana"), "count", &[s("a"), i(2)]), "2");
    assert_eq!(
        m_fault(&s("a"), "find", &[i(1)]),
        "str.find() argument 1 must be str, not int"
    );
}

#[test]
fn str_lines_padding_partition() {
    assert_eq!(
        m(&s("a\nb\r\nc\rd"), "splitlines", &[]),
        "[\"a\", \"b\", \"c\", \"d\"]"
    );
    assert_eq!(m(&s("a\n\nb\n"), "splitlines", &[]), "[\"a\", \"\", \"b\"]");
    assert_eq!(
        m(&s("a\nb\r\n"), "splitlines", &[b(true)]),
        "[\"a\\n\", \"b\\r\\n\"]"
    );
    assert_eq!(
        m_kw(&s("a\n"), "splitlines", &[], &[("keepends", b(true))]),
        "[\"a\\n\"]"
    );
    assert_eq!(m(&s(""), "splitlines", &[]), "[]");
    assert_eq!(m(&s("42"), "zfill", &[i(5)]), "\"00042\"");
    assert_eq!(m(&s("-42"), "zfill", &[i(5)]), "\"-0042\"");
    assert_eq!(m(&s("abc"), "zfill", &[i(2)]), "\"abc\"");
    assert_eq!(m(&s("ab"), "ljust", &[i(5)]), "\"ab   \"");
    assert_eq!(m(&s("ab"), "rjust", &[i(5), s("*")]), "\"***ab\"");
    assert_eq!(m(&s("ab"), "center", &[i(6), s("-")]), "\"--ab--\"");
    assert_eq!(m(&s("a"), "center", &[i(4)]), "\" a  \"");
    assert_eq!(m(&s("ab"), "center", &[i(5)]), "\"  ab \"");
    assert_eq!(m(&s("abc"), "center", &[i(6)]), "\" abc  \"");
    assert_eq!(m(&s("é"), "ljust", &[i(3), s("é")]), "\"ééé\"");
    assert_eq!(m(&s("abc"), "ljust", &[i(-1)]), "\"abc\"");
    assert_eq!(
        m_fault(&s("x"), "ljust", &[i(1_000_000_000_000)]),
        "str.ljust() width too large: 1000000000000"
    );
    assert_eq!(
        m_fault(&s("x"), "zfill", &[i(i64::MAX)]),
        "str.zfill() width too large: 9223372036854775807"
    );
    assert_eq!(
        m_fault(&s("x"), "center", &[i(5), s("ab")]),
        "str.center() fill character must be exactly one character, got \"ab\""
    );
    assert_eq!(
        m(&s("k=v=w"), "partition", &[s("=")]),
        "(\"k\", \"=\", \"v=w\")"
    );
    assert_eq!(m(&s("kv"), "partition", &[s("=")]), "(\"kv\", \"\", \"\")");
    assert_eq!(
        m_fault(&s("kv"), "partition", &[s("")]),
        "str.partition() empty separator"
    );
}

#[test]
fn str_format() {
    assert_eq!(
        m_kw(&s("{} and {name}"), "format", &[i(1)], &[("name", i(2))]),
        "\"1 and 2\""
    );
    assert_eq!(m(&s("{1}{0}{1}"), "format", &[s("a"), s("b")]), "\"bab\"");
    assert_eq!(m(&s("{{x}} {}"), "format", &[i(5)]), "\"{x} 5\"");
    assert_eq!(
        m(
            &s("{:.2f}|{:>5}|{:05d}"),
            "format",
            &[f(3.14159), s("ab"), i(42)]
        ),
        "\"3.14|   ab|00042\""
    );
    assert_eq!(
        m(&s("{!r} {}"), "format", &[s("a"), s("b")]),
        "\"\\\"a\\\" b\""
    );
    assert_eq!(m(&s("{0!r:>5}"), "format", &[s("a")]), "\"  \\\"a\\\"\"");
    assert_eq!(
        m_kw(&s("{:>{w}}"), "format", &[s("x")], &[("w", i(3))]),
        "\"  x\""
    );
    assert_eq!(m(&s("[{}]"), "format", &[ints(&[1, 2])]), "\"[[1, 2]]\"");
    assert_eq!(
        m(&s("héllo {}"), "format", &[s("wörld")]),
        "\"héllo wörld\""
    );
    assert_eq!(m(&s("no fields"), "format", &[]), "\"no fields\"");
    assert_eq!(
        m_fault(&s("{} {}"), "format", &[i(1)]),
        "str.format(): replacement index 1 out of range for 1 positional arguments"
    );
    assert_eq!(
        m_fault(&s("{name}"), "format", &[]),
        "str.format(): missing argument 'name'"
    );
    assert_eq!(
        m_fault(&s("a } b"), "format", &[]),
        "str.format(): single '}' in format string"
    );
    assert_eq!(
        m_fault(&s("a { b"), "format", &[]),
        "str.format(): '{' without a matching '}' in format string"
    );
    assert_eq!(
        m_fault(&s("{} {0}"), "format", &[i(1)]),
        "str.format(): cannot switch from automatic field numbering to manual field numbering"
    );
    assert_eq!(
        m_fault(&s("{a.b}"), "format", &[]),
        "str.format(): field 'a.b' uses attribute or index lookup, which is not supported"
    );
    assert_eq!(
        m_fault(&s("{!x}"), "format", &[i(1)]),
        "str.format(): unknown conversion '!x'"
    );
    assert_eq!(
        m_fault(&s("{:d}"), "format", &[s("x")]),
        "format spec 'd' does not apply to str"
    );
}

// ---- tuples, durations, results ----

#[test]
fn tuple_methods() {
    let t = tuple(vec![i(1), s("a"), i(1)]);
    assert_eq!(m(&t, "index", &[s("a")]), "1");
    assert_eq!(m(&t, "index", &[i(1), i(1)]), "2");
    assert_eq!(m(&t, "count", &[i(1)]), "2");
    assert_eq!(
        m_fault(&t, "index", &[i(9)]),
        "tuple.index(x): 9 not in tuple"
    );
    assert_eq!(
        m_fault(&t, "append", &[i(9)]),
        "tuple has no method 'append'"
    );
}

#[test]
fn duration_methods() {
    let d = Value::Duration(1_500_000_000);
    assert_eq!(m(&d, "total_seconds", &[]), "1.5");
    assert_eq!(m(&d, "total_milliseconds", &[]), "1500.0");
    assert_eq!(
        m_fault(&d, "total_seconds", &[i(1)]),
        "duration.total_seconds() takes 0 arguments, got 1"
    );
    assert_eq!(
        m_fault(&d, "total_second", &[]),
        "duration has no method 'total_second'; did you mean 'total_seconds'?"
    );
}

#[test]
fn result_methods() {
    let ok = Value::ok(i(1));
    let err = Value::err(s("boom"));
    assert_eq!(m(&ok, "is_ok", &[]), "true");
    assert_eq!(m(&err, "is_ok", &[]), "false");
    assert_eq!(m(&ok, "is_err", &[]), "false");
    assert_eq!(m(&err, "is_err", &[]), "true");
    assert_eq!(m(&ok, "unwrap", &[]), "1");
    assert_eq!(
        m_fault(&err, "unwrap", &[]),
        "unwrap() called on Err(\"boom\")"
    );
    assert_eq!(m(&ok, "unwrap_or", &[i(0)]), "1");
    assert_eq!(m(&err, "unwrap_or", &[i(0)]), "0");
    assert_eq!(m(&ok, "expect", &[s("needed a value")]), "1");
    assert_eq!(
        m_fault(&err, "expect", &[s("needed a value")]),
        "needed a value: \"boom\""
    );
    assert_eq!(
        m_fault(&err, "expect", &[i(1)]),
        "Result.expect() argument 1 must be str, not int"
    );
    assert_eq!(m(&err, "unwrap_err", &[]), "\"boom\"");
    assert_eq!(
        m_fault(&ok, "unwrap_err", &[]),
        "unwrap_err() called on Ok(1)"
    );
    let double = lambda(|args| match args {
        [Value::Int(n)] => Ok(Value::Int(n * 2)),
        [other] => Ok(Value::str(format!("wrapped {}", repr(other)))),
        _ => Err(Fault::new("bad")),
    });
    assert_eq!(m(&ok, "map", &[double.clone()]), "Ok(2)");
    assert_eq!(m(&err, "map", &[double.clone()]), "Err(\"boom\")");
    assert_eq!(m(&ok, "map_err", &[double.clone()]), "Ok(1)");
    assert_eq!(
        m(&err, "map_err", &[double]),
        "Err(\"wrapped \\\"boom\\\"\")"
    );
    assert_eq!(
        m_fault(&ok, "unwrapp", &[]),
        "Result has no method 'unwrapp'; did you mean 'unwrap'?"
    );
}

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
