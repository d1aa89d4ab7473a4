//! `random`: pseudo-random numbers for simulations, jitter, sampling and tests, as Python's
//! `random` module offers them. The generator (wyrand, from the `fastrand` crate) is fast and
//! seedable: `random.seed(42)` makes every later call repeat exactly, run after run. It is not
//! for secrets: tokens and keys come from `crypto`, which reads the operating system's CSPRNG.

use std::cell::RefCell;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

thread_local! {
    /// The module's generator, seeded from the system at first use.
    static RNG: RefCell<fastrand::Rng> = RefCell::new(fastrand::Rng::new());
}

fn with_rng<T>(f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
    RNG.with(|rng| f(&mut rng.borrow_mut()))
}

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("seed", seed)
        .doc("seed(n)\nRestarts the generator from the int `n`: the same seed gives the same numbers.")
        .params(Params::exactly(1)),
    Function::new("random", |_, _| Ok(Value::Float(with_rng(|r| r.f64()))))
        .doc("random()\nA float in [0, 1).")
        .params(Params::NONE),
    Function::new("uniform", uniform)
        .doc("uniform(a, b)\nA float between `a` and `b`.")
        .params(Params::exactly(2)),
    Function::new("randint", randint)
        .doc("randint(a, b)\nAn int from `a` to `b`, both included.")
        .params(Params::exactly(2)),
    Function::new("choice", choice)
        .doc("choice(seq)\nOne item of a non-empty list, tuple, str or range.")
        .params(Params::exactly(1)),
    Function::new("shuffle", shuffle)
        .doc("shuffle(xs)\nShuffles the list `xs` in place; returns nil.")
        .params(Params::exactly(1)),
    Function::new("sample", sample)
        .doc("sample(seq, k)\n`k` distinct items of `seq` (by position), in random order.")
        .params(Params::exactly(2)),
    Function::new("gauss", gauss)
        .doc("gauss(mu=0.0, sigma=1.0)\nA float from the normal distribution.")
        .params(Params::between(0, 2).keywords(&["mu", "sigma"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Seedable pseudo-random numbers (not for secrets: see crypto): random, uniform, randint, choice, shuffle, sample, gauss, seed.")
        .functions(FUNCTIONS);
}

fn seed(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let n = args.int(0)?;
    with_rng(|r| r.seed(n as u64));
    Ok(Value::Nil)
}

fn uniform(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (a, b) = (args.float(0)?, args.float(1)?);
    Ok(Value::Float(a + (b - a) * with_rng(|r| r.f64())))
}

fn randint(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (a, b) = (args.int(0)?, args.int(1)?);
    if a > b {
        return Err(Fault::new(format!(
            "random.randint: empty range: {a} is above {b}"
        )));
    }
    Ok(Value::Int(with_rng(|r| r.i64(a..=b))))
}

/// The items of a sequence argument.
fn items(args: &Args<'_>, i: usize) -> Result<Vec<Value>, Fault> {
    let value = args.value(i)?;
    match value {
        Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Range(_) => {
            cn_runtime::iter::collect(value)
        }
        other => Err(args.wrong_type(i, "list, tuple, str or range", other)),
    }
}

fn choice(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let items = items(&args, 0)?;
    if items.is_empty() {
        return Err(Fault::new("random.choice: the sequence is empty"));
    }
    let i = with_rng(|r| r.usize(..items.len()));
    Ok(items[i].clone())
}

fn shuffle(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    match args.value(0)? {
        Value::List(list) => {
            let mut items = list.borrow_mut();
            with_rng(|r| r.shuffle(&mut items));
            Ok(Value::Nil)
        }
        other => Err(args.wrong_type(0, "list", other)),
    }
}

fn sample(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let mut items = items(&args, 0)?;
    let k = args.int(1)?;
    if k < 0 || k as usize > items.len() {
        return Err(Fault::new(format!(
            "random.sample: cannot take {k} from {} items",
            items.len()
        )));
    }
    let k = k as usize;
    // A partial Fisher-Yates: the first k places get k distinct random items.
    with_rng(|r| {
        for i in 0..k {
            let j = r.usize(i..items.len());
            items.swap(i, j);
        }
    });
    items.truncate(k);
    Ok(Value::list(items))
}

fn gauss(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let number = |i: usize, name: &str, default: f64| -> Result<f64, Fault> {
        match args.get_or_named(i, name) {
            None => Ok(default),
            Some(Value::Int(n)) => Ok(*n as f64),
            Some(Value::Float(x)) => Ok(*x),
            Some(other) => Err(args.wrong_type(i, "float", other)),
        }
    };
    let (mu, sigma) = (number(0, "mu", 0.0)?, number(1, "sigma", 1.0)?);
    // Box-Muller; 1 - f64() is in (0, 1], so the logarithm is finite.
    let (u, v) = with_rng(|r| (1.0 - r.f64(), r.f64()));
    let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
    Ok(Value::Float(mu + sigma * z))
}
