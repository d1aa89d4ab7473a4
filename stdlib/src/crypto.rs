//! `crypto`: digests, HMAC, constant-time comparison and secure random tokens, on `ring` (the
//! TLS stack's own primitives, already in the binary) and RustCrypto's `md-5` for the one legacy
//! digest ring leaves out. Every function takes a str (its UTF-8 bytes) or bytes.
//!
//! Tokens come from the operating system's CSPRNG (`getrandom`), never from `random`, whose
//! generator is seedable and so predictable.

use std::rc::Rc;

use base64::Engine;
use ring::rand::SecureRandom;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("sha256", |_, args| digest(&args, &ring::digest::SHA256))
        .doc("sha256(data)\nThe SHA-256 digest of a str or bytes, as 64 hex digits.")
        .params(Params::exactly(1)),
    Function::new("sha512", |_, args| digest(&args, &ring::digest::SHA512))
        .doc("sha512(data)\nThe SHA-512 digest, as 128 hex digits.")
        .params(Params::exactly(1)),
    Function::new("sha1", |_, args| {
        digest(&args, &ring::digest::SHA1_FOR_LEGACY_USE_ONLY)
    })
    .doc("sha1(data)\nThe SHA-1 digest, as 40 hex digits: for checksums and old protocols, not for security.")
    .params(Params::exactly(1)),
    Function::new("md5", md5)
        .doc("md5(data)\nThe MD5 digest, as 32 hex digits: for checksums and ETags, not for security.")
        .params(Params::exactly(1)),
    Function::new("hmac_sha256", |_, args| hmac(&args, ring::hmac::HMAC_SHA256))
        .doc("hmac_sha256(key, data)\nThe HMAC-SHA256 of `data` under `key`, as 64 hex digits (webhook signatures).")
        .params(Params::exactly(2)),
    Function::new("hmac_sha512", |_, args| hmac(&args, ring::hmac::HMAC_SHA512))
        .doc("hmac_sha512(key, data)\nThe HMAC-SHA512, as 128 hex digits.")
        .params(Params::exactly(2)),
    Function::new("compare", compare)
        .doc("compare(a, b)\nWhether `a` and `b` are equal, in time that does not depend on where they differ: compare signatures and tokens with it, never with ==.")
        .params(Params::exactly(2)),
    Function::new("token_bytes", |_, args| {
        let bytes = random_bytes(&args)?;
        Ok(Value::Bytes(Rc::new(bytes.into())))
    })
    .doc("token_bytes(n=32)\n`n` random bytes from the operating system's secure generator.")
    .params(Params::between(0, 1)),
    Function::new("token_hex", |_, args| Ok(Value::str(hex(&random_bytes(&args)?))))
        .doc("token_hex(n=32)\n`n` secure random bytes as 2n hex digits.")
        .params(Params::between(0, 1)),
    Function::new("token_urlsafe", |_, args| {
        let bytes = random_bytes(&args)?;
        Ok(Value::str(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    })
    .doc("token_urlsafe(n=32)\n`n` secure random bytes as URL-safe base64 without padding (session ids, API keys).")
    .params(Params::between(0, 1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc(
        "Digests (sha256, sha512, sha1, md5), HMAC, constant-time compare, secure random tokens.",
    )
    .functions(FUNCTIONS);
}

/// The bytes of argument `i`: a str's UTF-8, or bytes.
pub(crate) fn data<'a>(args: &Args<'a>, i: usize) -> Result<&'a [u8], Fault> {
    match args.value(i)? {
        Value::Str(s) => Ok(s.as_bytes()),
        Value::Bytes(b) => Ok(b.as_ref()),
        other => Err(args.wrong_type(i, "str or bytes", other)),
    }
}

/// Lower-case hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn digest(args: &Args<'_>, algorithm: &'static ring::digest::Algorithm) -> Result<Value, Fault> {
    Ok(Value::str(hex(ring::digest::digest(
        algorithm,
        data(args, 0)?,
    )
    .as_ref())))
}

fn md5(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    use md5::Digest;
    Ok(Value::str(hex(&md5::Md5::digest(data(&args, 0)?))))
}

fn hmac(args: &Args<'_>, algorithm: ring::hmac::Algorithm) -> Result<Value, Fault> {
    let key = ring::hmac::Key::new(algorithm, data(args, 0)?);
    Ok(Value::str(hex(
        ring::hmac::sign(&key, data(args, 1)?).as_ref()
    )))
}

fn compare(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (a, b) = (data(&args, 0)?, data(&args, 1)?);
    // Lengths are not secret (they leak through timing anyway); contents are compared in
    // constant time: every byte is visited and the differences are OR-ed, with no early exit,
    // and `black_box` keeps the compiler from adding one.
    if a.len() != b.len() {
        return Ok(Value::Bool(false));
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    Ok(Value::Bool(std::hint::black_box(difference) == 0))
}

/// The most random bytes one call gives (a token, not a stream).
const MAX_TOKEN: i64 = 1 << 16;

/// `n` (argument 0, 32 by default) bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes(args: &Args<'_>) -> Result<Vec<u8>, Fault> {
    let n = match args.get(0) {
        None => 32,
        Some(Value::Int(n)) if (0..=MAX_TOKEN).contains(n) => *n as usize,
        Some(Value::Int(n)) => {
            return Err(Fault::new(format!(
                "{}: n must be 0 to {MAX_TOKEN}, got {n}",
                args.function
            )))
        }
        Some(other) => return Err(args.wrong_type(0, "int", other)),
    };
    let mut bytes = vec![0; n];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| {
            Fault::new(format!(
                "{}: the system's random source failed",
                args.function
            ))
        })?;
    Ok(bytes)
}
