//! `base64`: RFC 4648 base64, standard and URL-safe alphabets, with the `base64` crate (already
//! the k8s client's). Encoding takes a str (its UTF-8) or bytes and gives a str; decoding gives
//! `Ok(bytes)` or `Err(message)` for text that is not base64.

use std::rc::Rc;

use base64::Engine;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("encode", |_, args| encode(&args, &base64::engine::general_purpose::STANDARD))
        .doc("encode(data)\n`data` (a str or bytes) in standard base64, padded.")
        .params(Params::exactly(1)),
    Function::new("decode", |_, args| decode(&args, &base64::engine::general_purpose::STANDARD))
        .doc("decode(text)\n`Ok(bytes)` from standard base64 (padded), or `Err(message)`; `.decode()` on the bytes gives text.")
        .params(Params::exactly(1)),
    Function::new("urlsafe_encode", |_, args| {
        encode(&args, &base64::engine::general_purpose::URL_SAFE_NO_PAD)
    })
    .doc("urlsafe_encode(data)\n`data` in URL-safe base64 (`-` and `_`), without padding (JWTs, tokens in URLs).")
    .params(Params::exactly(1)),
    Function::new("urlsafe_decode", |_, args| {
        decode(&args, &URL_SAFE_ANY_PADDING)
    })
    .doc("urlsafe_decode(text)\n`Ok(bytes)` from URL-safe base64, padded or not, or `Err(message)`.")
    .params(Params::exactly(1)),
];

/// URL-safe decoding that accepts text with or without padding.
const URL_SAFE_ANY_PADDING: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Base64 (RFC 4648): encode, decode, urlsafe_encode, urlsafe_decode.")
        .functions(FUNCTIONS);
}

fn encode(args: &Args<'_>, engine: &impl Engine) -> Result<Value, Fault> {
    Ok(Value::str(engine.encode(crate::crypto::data(args, 0)?)))
}

fn decode(args: &Args<'_>, engine: &impl Engine) -> Result<Value, Fault> {
    let text = crate::crypto::data(args, 0)?;
    Ok(match engine.decode(text) {
        Ok(bytes) => Value::ok(Value::Bytes(Rc::new(bytes.into()))),
        Err(error) => Value::err(Value::str(format!("not base64: {error}"))),
    })
}
