//! Indexing and slicing: `o[i]`, `o[i] = v`, `o[lo:hi:step]`, with Python's negative indexes.

use crate::dict::Key;
use crate::fault::Fault;
use crate::format::repr;
use crate::value::Value;

/// Resolves a possibly negative index against a length.
fn position(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { index + len as i64 } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn out_of_range(kind: &str, index: i64, len: usize) -> Fault {
    Fault::new(format!("{kind} index {index} out of range (length {len})"))
}

fn int_index(kind: &str, index: &Value) -> Result<i64, Fault> {
    match index {
        Value::Int(i) => Ok(*i),
        other => Err(Fault::new(format!(
            "{kind} indices must be int, not {}",
            other.type_name()
        ))),
    }
}

/// `object[index]`.
pub fn get(object: &Value, index: &Value) -> Result<Value, Fault> {
    match object {
        Value::List(items) => {
            let i = int_index("list", index)?;
            let items = items.borrow();
            position(i, items.len())
                .map(|p| items[p].clone())
                .ok_or_else(|| out_of_range("list", i, items.len()))
        }
        Value::Tuple(items) => {
            let i = int_index("tuple", index)?;
            position(i, items.len())
                .map(|p| items[p].clone())
                .ok_or_else(|| out_of_range("tuple", i, items.len()))
        }
        Value::Str(s) => {
            let i = int_index("str", index)?;
            if crate::ascii_cache::is_ascii(s) {
                return position(i, s.len())
                    .map(|p| crate::ascii_cache::ascii_char(s.as_bytes()[p]))
                    .ok_or_else(|| out_of_range("str", i, s.len()));
            }
            let count = s.chars().count();
            position(i, count)
                .and_then(|p| s.chars().nth(p))
                .map(|c| Value::str(c.to_string()))
                .ok_or_else(|| out_of_range("str", i, count))
        }
        Value::Bytes(data) => {
            let i = int_index("bytes", index)?;
            position(i, data.len())
                .map(|p| Value::Int(i64::from(data[p])))
                .ok_or_else(|| out_of_range("bytes", i, data.len()))
        }
        Value::Dict(d) => {
            let key = Key::new(index.clone())?;
            d.lookup(&key)
                .ok_or_else(|| Fault::new(format!("key not found: {}", repr(index))))
        }
        Value::Range(r) => {
            let i = int_index("range", index)?;
            position(i, r.len())
                .and_then(|p| r.get(p))
                .map(Value::Int)
                .ok_or_else(|| out_of_range("range", i, r.len()))
        }
        Value::Record(record) if record.ty.keyed => keyed_field(record, index),
        other => Err(Fault::new(format!(
            "{} is not subscriptable",
            other.type_name()
        ))),
    }
}

/// `row["name"]` on a record whose type allows it ([`crate::object::RecordType::keyed`]): the
/// first field of that name.
fn keyed_field(record: &crate::object::RecordRef, index: &Value) -> Result<Value, Fault> {
    let Value::Str(name) = index else {
        return Err(Fault::new(format!(
            "{} keys are field names (str), not {}",
            record.ty.name,
            index.type_name()
        )));
    };
    let position = record
        .ty
        .fields
        .iter()
        .position(|f| f.name.name() == name.as_str());
    match position.and_then(|p| record.fields().get(p).cloned()) {
        Some(value) => Ok(value),
        None => {
            let names: Vec<String> = record
                .ty
                .fields
                .iter()
                .map(|f| format!("{:?}", f.name.name()))
                .collect();
            Err(Fault::new(format!(
                "{} has no field {:?}; it has {}",
                record.ty.name,
                name.as_str(),
                names.join(", ")
            )))
        }
    }
}

/// `object[index] = value`.
pub fn set(object: &Value, index: &Value, value: Value) -> Result<(), Fault> {
    match object {
        Value::List(items) => {
            let i = int_index("list", index)?;
            let mut items = items.borrow_mut();
            let len = items.len();
            let p = position(i, len).ok_or_else(|| out_of_range("list", i, len))?;
            items[p] = value;
            Ok(())
        }
        Value::Dict(d) => {
            let key = Key::new(index.clone())?;
            d.store(key, value);
            Ok(())
        }
        other => Err(Fault::new(format!(
            "{} does not support item assignment",
            other.type_name()
        ))),
    }
}

/// The positions `lo:hi:step` selects in a sequence of `len`, as Python computes them.
fn slice_positions(len: usize, lo: &Value, hi: &Value, step: &Value) -> Result<Vec<usize>, Fault> {
    let bound = |v: &Value, name: &str| -> Result<Option<i64>, Fault> {
        match v {
            Value::Nil => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            other => Err(Fault::new(format!(
                "slice {name} must be int or nil, not {}",
                other.type_name()
            ))),
        }
    };
    let step = bound(step, "step")?.unwrap_or(1);
    if step == 0 {
        return Err(Fault::new("slice step cannot be zero"));
    }
    let len = len as i64;
    let clamp = |i: i64, low: i64, high: i64| -> i64 {
        let i = if i < 0 { i + len } else { i };
        i.clamp(low, high)
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = bound(lo, "start")?.map_or(0, |i| clamp(i, 0, len));
        let stop = bound(hi, "stop")?.map_or(len, |i| clamp(i, 0, len));
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        let start = bound(lo, "start")?.map_or(len - 1, |i| clamp(i, -1, len - 1));
        let stop = bound(hi, "stop")?.map_or(-1, |i| clamp(i, -1, len - 1));
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    Ok(out)
}

/// `object[lo:hi:step]` for lists, tuples and strings.
pub fn slice(object: &Value, lo: &Value, hi: &Value, step: &Value) -> Result<Value, Fault> {
    match object {
        Value::List(items) => {
            let items = items.borrow();
            let picks = slice_positions(items.len(), lo, hi, step)?;
            Ok(Value::list(
                picks.into_iter().map(|p| items[p].clone()).collect(),
            ))
        }
        Value::Tuple(items) => {
            let picks = slice_positions(items.len(), lo, hi, step)?;
            Ok(Value::tuple(
                picks.into_iter().map(|p| items[p].clone()).collect(),
            ))
        }
        Value::Bytes(data) => {
            let picks = slice_positions(data.len(), lo, hi, step)?;
            // A contiguous slice shares the buffer instead of copying it.
            if let (Some(&first), Some(&last)) = (picks.first(), picks.last()) {
                if first <= last && last - first + 1 == picks.len() {
                    return Ok(Value::bytes(data.slice(first..=last)));
                }
            }
            Ok(Value::bytes(
                picks.into_iter().map(|p| data[p]).collect::<Vec<u8>>(),
            ))
        }
        Value::Str(s) => {
            if crate::ascii_cache::is_ascii(s) {
                let bytes = s.as_bytes();
                let picks = slice_positions(bytes.len(), lo, hi, step)?;
                if let (Some(&first), Some(&last)) = (picks.first(), picks.last()) {
                    if first <= last && last - first + 1 == picks.len() {
                        return Ok(Value::str(&s[first..=last]));
                    }
                }
                let out: String = picks.into_iter().map(|p| bytes[p] as char).collect();
                return Ok(Value::str(out));
            }
            let chars: Vec<char> = s.chars().collect();
            let picks = slice_positions(chars.len(), lo, hi, step)?;
            Ok(Value::str(
                picks.into_iter().map(|p| chars[p]).collect::<String>(),
            ))
        }
        other => Err(Fault::new(format!(
            "{} cannot be sliced",
            other.type_name()
        ))),
    }
}
