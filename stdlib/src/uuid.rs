//! `uuid`: RFC 9562 identifiers as strs: `uuid.v4()` (random) and `uuid.v7()` (a millisecond
//! Unix timestamp then random bits, so ids sort by creation time: good database keys), and
//! `uuid.parse(text)` to check and normalise one. The random bits come from the operating
//! system's CSPRNG.

use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SecureRandom;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("v4", |_, _| Ok(Value::str(format_uuid(&v4()?))))
        .doc("v4()\nA random UUID (version 4), as 36 lower-case characters.")
        .params(Params::NONE),
    Function::new("v7", |_, _| Ok(Value::str(format_uuid(&v7()?))))
        .doc("v7()\nA time-ordered UUID (version 7): later ids sort after earlier ones.")
        .params(Params::NONE),
    Function::new("parse", parse)
        .doc("parse(text)\n`Ok(uuid)` in canonical lower-case form, or `Err(message)` when `text` is not a UUID (braces and upper case are accepted).")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("UUIDs: v4 (random), v7 (time-ordered), parse.")
        .functions(FUNCTIONS);
}

fn random<const N: usize>() -> Result<[u8; N], Fault> {
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Fault::new("uuid: the system's random source failed"))?;
    Ok(bytes)
}

/// Sets the version nibble and the RFC 4122 variant bits.
fn stamp(mut bytes: [u8; 16], version: u8) -> [u8; 16] {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

fn v4() -> Result<[u8; 16], Fault> {
    Ok(stamp(random::<16>()?, 4))
}

fn v7() -> Result<[u8; 16], Fault> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut bytes = random::<16>()?;
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    Ok(stamp(bytes, 7))
}

pub(crate) fn format_uuid(b: &[u8; 16]) -> String {
    let hex = crate::crypto::hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn parse(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = args.str(0)?;
    let trimmed = text.trim_start_matches('{').trim_end_matches('}');
    let digits: String = trimmed.chars().filter(|c| *c != '-').collect();
    let dashes_ok = trimmed.len() == 32
        || (trimmed.len() == 36
            && trimmed
                .char_indices()
                .all(|(i, c)| (c == '-') == matches!(i, 8 | 13 | 18 | 23)));
    if digits.len() != 32 || !dashes_ok || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Value::err(Value::str(format!("not a UUID: {text:?}"))));
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    Ok(Value::ok(Value::str(format_uuid(&bytes))))
}
