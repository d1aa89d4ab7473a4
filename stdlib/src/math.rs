//! `math`: the floating-point functions and constants of C's libm, as Python's `math` has them
//! (the AWFY suite's NBody needs `sqrt`; any numeric script needs the rest). Every function
//! takes ints or floats and returns a float, except `floor`, `ceil` and `trunc`, which return
//! ints, as in Python. A domain error (`sqrt(-1)`, `log(0)`) faults with Python's message
//! instead of returning NaN silently.

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The argument `i` as a float (ints convert; bools and the rest are wrong types).
fn float(args: &Args<'_>, i: usize) -> Result<f64, Fault> {
    match args.value(i)? {
        Value::Int(n) => Ok(*n as f64),
        Value::Float(x) => Ok(*x),
        other => Err(args.wrong_type(i, "int or float", other)),
    }
}

/// A float result, or the domain error Python reports when `f` leaves its domain.
fn checked(x: f64, result: f64) -> Result<Value, Fault> {
    if result.is_nan() && !x.is_nan() {
        return Err(Fault::new("math domain error"));
    }
    Ok(Value::Float(result))
}

/// An int from a rounded float; infinities and NaN cannot be one.
fn to_int(name: &str, x: f64) -> Result<Value, Fault> {
    if !x.is_finite() {
        return Err(Fault::new(format!(
            "math.{name}: cannot convert {x} to an int"
        )));
    }
    // i64::MIN and 2^63 are exact floats; everything in [MIN, 2^63) converts exactly.
    let bound = i64::MIN as f64;
    if !(bound..-bound).contains(&x) {
        return Err(Fault::new(format!(
            "math.{name}: {x} is out of the int range"
        )));
    }
    Ok(Value::Int(x as i64))
}

macro_rules! unary {
    ($name:literal, $doc:literal, $f:expr) => {
        Function::new($name, |_, args| {
            let x = float(&args, 0)?;
            checked(x, $f(x))
        })
        .doc($doc)
        .params(Params::exactly(1))
    };
}

static FUNCTIONS: &[Function] = &[
    Function::new("sqrt", |_, args| {
        let x = float(&args, 0)?;
        if x < 0.0 {
            return Err(Fault::new("math domain error"));
        }
        Ok(Value::Float(x.sqrt()))
    })
    .doc("sqrt(x)\nThe square root of x (correctly rounded); faults for x < 0.")
    .params(Params::exactly(1)),
    Function::new("floor", |_, args| to_int("floor", float(&args, 0)?.floor()))
        .doc("floor(x)\nThe largest int not above x.")
        .params(Params::exactly(1)),
    Function::new("ceil", |_, args| to_int("ceil", float(&args, 0)?.ceil()))
        .doc("ceil(x)\nThe smallest int not below x.")
        .params(Params::exactly(1)),
    Function::new("trunc", |_, args| to_int("trunc", float(&args, 0)?.trunc()))
        .doc("trunc(x)\nx with its fraction dropped, as an int.")
        .params(Params::exactly(1)),
    Function::new("log", |_, args| {
        let x = float(&args, 0)?;
        if x <= 0.0 {
            return Err(Fault::new("math domain error"));
        }
        match args.get(1) {
            None => Ok(Value::Float(x.ln())),
            Some(_) => {
                let base = float(&args, 1)?;
                if base <= 0.0 || base == 1.0 {
                    return Err(Fault::new("math domain error"));
                }
                Ok(Value::Float(x.ln() / base.ln()))
            }
        }
    })
    .doc("log(x, base=e)\nThe logarithm of x; faults for x <= 0.")
    .params(Params::between(1, 2)),
    unary!("exp", "exp(x)\ne raised to x.", f64::exp),
    unary!("sin", "sin(x)\nThe sine of x radians.", f64::sin),
    unary!("cos", "cos(x)\nThe cosine of x radians.", f64::cos),
    unary!("tan", "tan(x)\nThe tangent of x radians.", f64::tan),
    unary!("asin", "asin(x)\nThe arc sine of x, in radians.", f64::asin),
    unary!(
        "acos",
        "acos(x)\nThe arc cosine of x, in radians.",
        f64::acos
    ),
    unary!(
        "atan",
        "atan(x)\nThe arc tangent of x, in radians.",
        f64::atan
    ),
    Function::new("atan2", |_, args| {
        Ok(Value::Float(float(&args, 0)?.atan2(float(&args, 1)?)))
    })
    .doc("atan2(y, x)\nThe angle of the point (x, y) from the x axis, in radians.")
    .params(Params::exactly(2)),
    Function::new("hypot", |_, args| {
        Ok(Value::Float(float(&args, 0)?.hypot(float(&args, 1)?)))
    })
    .doc("hypot(x, y)\nsqrt(x*x + y*y), without overflow on the way.")
    .params(Params::exactly(2)),
    Function::new("isnan", |_, args| {
        Ok(Value::Bool(float(&args, 0)?.is_nan()))
    })
    .doc("isnan(x)\nWhether x is NaN.")
    .params(Params::exactly(1)),
    Function::new("isinf", |_, args| {
        Ok(Value::Bool(float(&args, 0)?.is_infinite()))
    })
    .doc("isinf(x)\nWhether x is an infinity.")
    .params(Params::exactly(1)),
    Function::new("isfinite", |_, args| {
        Ok(Value::Bool(float(&args, 0)?.is_finite()))
    })
    .doc("isfinite(x)\nWhether x is neither an infinity nor NaN.")
    .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Floating-point functions and constants: sqrt, floor, ceil, log, exp, trigonometry, pi, e, inf, nan.")
        .functions(FUNCTIONS)
        .value("pi", "pi\nThe ratio of a circle's circumference to its diameter.", Value::Float(std::f64::consts::PI))
        .value("e", "e\nEuler's number.", Value::Float(std::f64::consts::E))
        .value("tau", "tau\n2 * pi.", Value::Float(std::f64::consts::TAU))
        .value("inf", "inf\nPositive infinity.", Value::Float(f64::INFINITY))
        .value("nan", "nan\nNot a number.", Value::Float(f64::NAN));
}
