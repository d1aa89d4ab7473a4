//! `csv`: comma-separated text to rows and back (RFC 4180, with the csv crate).
//!
//! Fields are strings, as in Python's `csv` and Go's `encoding/csv`: the caller converts with
//! `int()`/`float()`, and nothing is guessed. With a header (the default), each row is a dict
//! from the header's names, and a row with a different number of fields is an error naming its
//! line; without one, rows are lists of any length. Quoted fields may hold the delimiter, quotes
//! and newlines; a UTF-8 byte-order mark at the start is skipped.

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

static FUNCTIONS: &[Function] = &[
    Function::new("decode", decode)
        .doc("decode(text, header=true, delimiter=\",\")\n`Ok(rows)`: dicts keyed by the header row, or lists with `header=false`; `Err(message)` naming the line of a malformed row.")
        .params(Params::exactly(1).keywords(&["header", "delimiter"])),
    Function::new("encode", encode)
        .doc("encode(rows, header=nil, delimiter=\",\")\nCSV text for a list of dicts (columns from `header`, else the first row's keys) or of lists; fields are quoted only where needed, lines end with \\n.")
        .params(Params::exactly(1).keywords(&["header", "delimiter"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("CSV text to rows (dicts or lists of strings) and back.")
        .functions(FUNCTIONS);
}

/// The `delimiter=` keyword: one ASCII character.
fn delimiter(args: &Args<'_>) -> Result<u8, Fault> {
    match args.str_option("delimiter")? {
        None => Ok(b','),
        Some(d) if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
        Some(d) => Err(Fault::new(format!(
            "{}: delimiter must be one ASCII character, got {d:?}",
            args.function
        ))),
    }
}

/// csv.decode(text, header=true, delimiter=","): `Ok(rows)` or `Err(message)`.
fn decode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = args.str(0)?;
    let header = match args.named("header") {
        None => true,
        Some(_) => args.flag("header")?,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&args)?)
        .from_reader(text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes());
    let mut names: Option<Vec<Key>> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => return Ok(Value::err(Value::str(describe(&error)))),
        }
        match (&names, header) {
            (None, true) => names = Some(record.iter().map(Key::str).collect()),
            (Some(names), _) => {
                if record.len() != names.len() {
                    let line = record.position().map_or(0, |p| p.line());
                    let plural = if record.len() == 1 { "" } else { "s" };
                    return Ok(Value::err(Value::str(format!(
                        "csv: line {line} has {} field{plural}, the header has {}",
                        record.len(),
                        names.len()
                    ))));
                }
                let mut row = new_dict();
                for (name, field) in names.iter().zip(record.iter()) {
                    row.insert(name.clone(), Value::str(field));
                }
                rows.push(Value::dict(row));
            }
            (None, false) => rows.push(Value::list(record.iter().map(Value::str).collect())),
        }
    }
    Ok(Value::ok(Value::list(rows)))
}

fn describe(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "csv: line {} is not UTF-8 text",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => format!("csv: {error}"),
    }
}

/// csv.encode(rows, header=nil, delimiter=","): CSV text.
fn encode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let Value::List(rows) = args.value(0)? else {
        return Err(args.wrong_type(0, "list of dicts or lists", args.value(0)?));
    };
    let rows = rows.borrow();
    let columns: Option<Vec<Value>> = match args.named("header") {
        Some(Value::List(names)) => Some(names.borrow().clone()),
        Some(Value::Nil) | None => match rows.first() {
            Some(Value::Dict(first)) => {
                Some(first.borrow().keys().map(|k| k.value().clone()).collect())
            }
            _ => None,
        },
        Some(other) => return Err(args.wrong_keyword("header", "list of column names", other)),
    };
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter(&args)?)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| Fault::new(format!("csv.encode: {e}"));
    if let Some(columns) = &columns {
        writer
            .write_record(columns.iter().map(field))
            .map_err(fail)?;
    }
    for (i, row) in rows.iter().enumerate() {
        match row {
            Value::List(items) => writer
                .write_record(items.borrow().iter().map(field))
                .map_err(fail)?,
            Value::Dict(dict) => {
                let dict = dict.borrow();
                let columns = columns.as_deref().unwrap_or_default();
                let fields = columns.iter().map(|name| {
                    Key::new(name.clone())
                        .ok()
                        .and_then(|key| dict.get(&key))
                        .map_or_else(String::new, field)
                });
                writer.write_record(fields).map_err(fail)?;
            }
            other => {
                return Err(Fault::new(format!(
                    "csv.encode: row {i} must be a dict or a list, not {}",
                    other.type_name()
                )))
            }
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Fault::new(format!("csv.encode: {e}")))?;
    Ok(Value::str(String::from_utf8_lossy(&bytes).into_owned()))
}

/// One field's text: strings as they are, `nil` empty, anything else as `str()` writes it.
fn field(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Nil => String::new(),
        other => cn_runtime::format::repr(other),
    }
}
