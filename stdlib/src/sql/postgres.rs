//! PostgreSQL values both ways, in the binary format sqlx sends and receives.
//!
//! Parameters are converted to the type PostgreSQL inferred for each placeholder (the prepared
//! statement's description, cached per connection), so `WHERE id = $1` with an int, `$1` for a
//! `uuid` column with a str, or `$1` for a `jsonb` column with a dict all work without casts,
//! and a value that does not fit its parameter is an error naming the parameter, never a
//! silently different value. Columns are read by type OID; a type cn has no value for is an
//! error that says to cast it in the query.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgTypeKind, PgValueRef, Postgres};
use sqlx::types::BigDecimal;
use sqlx::{Decode, Encode, Type, TypeInfo, ValueRef};

use cn_runtime::Value;

use super::values::{self, Micros};

/// Type OIDs from PostgreSQL's `pg_type` catalog (stable for built-in types).
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// What a type is, for cn: the built-in ones by OID, enums as text, domains as their base type,
/// arrays by element.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Bytea,
    Uuid,
    Json,
    Jsonb,
    Date,
    Timestamp,
    Timestamptz,
    Interval,
}

enum Shape {
    Scalar(Scalar),
    Array(Scalar, u32),
    Unsupported,
}

fn scalar_of(oid: u32) -> Option<Scalar> {
    Some(match oid {
        oid::BOOL => Scalar::Bool,
        oid::INT2 => Scalar::Int2,
        oid::INT4 => Scalar::Int4,
        oid::INT8 => Scalar::Int8,
        // Four bytes like int4, but unsigned: `column` reads it as such.
        oid::OID => Scalar::Int4,
        oid::FLOAT4 => Scalar::Float4,
        oid::FLOAT8 => Scalar::Float8,
        oid::NUMERIC => Scalar::Numeric,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR | oid::UNKNOWN => {
            Scalar::Text
        }
        oid::BYTEA => Scalar::Bytea,
        oid::UUID => Scalar::Uuid,
        oid::JSON => Scalar::Json,
        oid::JSONB => Scalar::Jsonb,
        oid::DATE => Scalar::Date,
        oid::TIMESTAMP => Scalar::Timestamp,
        oid::TIMESTAMPTZ => Scalar::Timestamptz,
        oid::INTERVAL => Scalar::Interval,
        _ => return None,
    })
}

fn shape(ty: &PgTypeInfo) -> Shape {
    match ty.kind() {
        PgTypeKind::Enum(_) => return Shape::Scalar(Scalar::Text),
        PgTypeKind::Domain(base) => return shape(base),
        PgTypeKind::Array(element) => {
            return match (element_scalar(element), element.oid()) {
                (Some(scalar), Some(oid)) => Shape::Array(scalar, oid.0),
                _ => Shape::Unsupported,
            }
        }
        _ => {}
    }
    match ty.oid().and_then(|o| scalar_of(o.0)) {
        Some(scalar) => Shape::Scalar(scalar),
        None => Shape::Unsupported,
    }
}

fn element_scalar(element: &PgTypeInfo) -> Option<Scalar> {
    match shape(element) {
        Shape::Scalar(scalar) => Some(scalar),
        _ => None,
    }
}

/// One parameter, already in PostgreSQL's binary format for the type it was inferred as.
pub struct Param {
    ty: PgTypeInfo,
    bytes: Option<Vec<u8>>,
}

impl Type<Postgres> for Param {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("unknown")
    }

    fn compatible(_ty: &PgTypeInfo) -> bool {
        true
    }
}

impl Encode<'_, Postgres> for Param {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match &self.bytes {
            None => Ok(IsNull::Yes),
            Some(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.ty.clone())
    }
}

/// The parameter for `value` at `$n` (`n` counts from 1), whose inferred type is `ty`.
pub fn param(n: usize, value: &Value, ty: &PgTypeInfo) -> Result<Param, String> {
    let value = values::revealed(value);
    if matches!(value, Value::Nil) {
        return Ok(Param {
            ty: ty.clone(),
            bytes: None,
        });
    }
    let wrong = |why: String| format!("parameter ${n} ({}): {why}", ty.name().to_lowercase());
    let bytes = match shape(ty) {
        Shape::Scalar(scalar) => scalar_bytes(scalar, value).map_err(wrong)?,
        Shape::Array(scalar, element_oid) => {
            array_bytes(scalar, element_oid, value).map_err(wrong)?
        }
        Shape::Unsupported => {
            return Err(wrong(format!(
                "cn cannot send this type; cast the parameter in the statement (`${n}::text::{}`)",
                ty.name().to_lowercase()
            )))
        }
    };
    Ok(Param {
        ty: ty.clone(),
        bytes: Some(bytes),
    })
}

fn scalar_bytes(scalar: Scalar, value: &Value) -> Result<Vec<u8>, String> {
    let int = |min: i64, max: i64, what: &str| -> Result<i64, String> {
        match value {
            Value::Int(i) if (min..=max).contains(i) => Ok(*i),
            Value::Int(i) => Err(format!("{i} does not fit in {what}")),
            other => Err(values::wanted("an int", other)),
        }
    };
    Ok(match scalar {
        Scalar::Bool => match value {
            Value::Bool(b) => vec![u8::from(*b)],
            other => return Err(values::wanted("a bool", other)),
        },
        Scalar::Int2 => (int(i16::MIN.into(), i16::MAX.into(), "int2")? as i16)
            .to_be_bytes()
            .to_vec(),
        Scalar::Int4 => (int(i32::MIN.into(), i32::MAX.into(), "int4")? as i32)
            .to_be_bytes()
            .to_vec(),
        Scalar::Int8 => int(i64::MIN, i64::MAX, "int8")?.to_be_bytes().to_vec(),
        Scalar::Float4 => (values::float(value)? as f32).to_be_bytes().to_vec(),
        Scalar::Float8 => values::float(value)?.to_be_bytes().to_vec(),
        Scalar::Numeric => {
            let text = match value {
                Value::Int(i) => i.to_string(),
                Value::Float(f) if f.is_finite() => f.to_string(),
                Value::Str(s) => s.trim().to_string(),
                other => return Err(values::wanted("an int, a float or a decimal str", other)),
            };
            let decimal: BigDecimal = text
                .parse()
                .map_err(|_| format!("{text:?} is not a decimal number"))?;
            let mut buf = PgArgumentBuffer::default();
            let _ = <BigDecimal as Encode<Postgres>>::encode_by_ref(&decimal, &mut buf)
                .map_err(|e| e.to_string())?;
            buf.to_vec()
        }
        Scalar::Text => match value {
            Value::Str(s) => s.as_bytes().to_vec(),
            other => return Err(values::wanted("a str", other)),
        },
        Scalar::Bytea => match value {
            Value::Bytes(b) => b.to_vec(),
            Value::Str(s) => s.as_bytes().to_vec(),
            other => return Err(values::wanted("bytes", other)),
        },
        Scalar::Uuid => match value {
            Value::Str(s) => values::uuid_bytes(s)?.to_vec(),
            other => return Err(values::wanted("a uuid str", other)),
        },
        Scalar::Json => values::json_text(value)?.into_bytes(),
        Scalar::Jsonb => {
            let mut bytes = vec![1u8];
            bytes.extend_from_slice(values::json_text(value)?.as_bytes());
            bytes
        }
        Scalar::Timestamptz | Scalar::Timestamp => {
            values::micros_since_2000(value)?.to_be_bytes().to_vec()
        }
        Scalar::Date => values::days_since_2000(value)?.to_be_bytes().to_vec(),
        Scalar::Interval => {
            let micros = match value {
                Value::Duration(nanos) => nanos / 1000,
                other => return Err(values::wanted("a duration", other)),
            };
            let mut bytes = micros.to_be_bytes().to_vec();
            bytes.extend_from_slice(&0i32.to_be_bytes());
            bytes.extend_from_slice(&0i32.to_be_bytes());
            bytes
        }
    })
}

/// A one-dimensional array in the binary format: dimensions, a has-null flag, the element type,
/// the length and lower bound, then each element with its length (-1 for NULL).
fn array_bytes(scalar: Scalar, element_oid: u32, value: &Value) -> Result<Vec<u8>, String> {
    let items: Vec<Value> = match value {
        Value::List(items) => items.borrow().clone(),
        Value::Tuple(items) => items.to_vec(),
        other => return Err(values::wanted("a list", other)),
    };
    let has_null = items.iter().any(|v| matches!(v, Value::Nil));
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&1i32.to_be_bytes());
    bytes.extend_from_slice(&i32::from(has_null).to_be_bytes());
    bytes.extend_from_slice(&element_oid.to_be_bytes());
    let len = i32::try_from(items.len()).map_err(|_| "the list is too long".to_string())?;
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(&1i32.to_be_bytes());
    for (i, item) in items.iter().enumerate() {
        if matches!(values::revealed(item), Value::Nil) {
            bytes.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        }
        let element = scalar_bytes(scalar, values::revealed(item))
            .map_err(|why| format!("item {i}: {why}"))?;
        let size = i32::try_from(element.len()).map_err(|_| format!("item {i} is too large"))?;
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(&element);
    }
    Ok(bytes)
}

/// The cn value of one column of a row.
pub fn column(value: PgValueRef<'_>) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Nil);
    }
    let ty = value.type_info().into_owned();
    let is_oid = ty.oid().is_some_and(|o| o.0 == oid::OID);
    match shape(&ty) {
        Shape::Scalar(_) if is_oid => {
            let bytes = value.as_bytes().map_err(|e| e.to_string())?;
            let raw: [u8; 4] = bytes
                .try_into()
                .map_err(|_| "a malformed oid".to_string())?;
            Ok(Value::Int(u32::from_be_bytes(raw).into()))
        }
        Shape::Scalar(Scalar::Numeric) => {
            let decimal = <BigDecimal as Decode<Postgres>>::decode(value)
                .map_err(|e| format!("numeric: {e}"))?;
            Ok(Value::str(decimal.normalized().to_plain_string()))
        }
        Shape::Scalar(scalar) => {
            let bytes = value.as_bytes().map_err(|e| e.to_string())?;
            scalar_value(scalar, bytes)
        }
        Shape::Array(scalar, _) => {
            let bytes = value.as_bytes().map_err(|e| e.to_string())?;
            array_value(scalar, bytes)
        }
        Shape::Unsupported => Err(format!(
            "cn has no value for the type {}; cast the column in the query (`::text`)",
            ty.name().to_lowercase()
        )),
    }
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], String> {
    bytes.try_into().map_err(|_| format!("a malformed {what}"))
}

fn scalar_value(scalar: Scalar, bytes: &[u8]) -> Result<Value, String> {
    Ok(match scalar {
        Scalar::Bool => Value::Bool(bytes.first().is_some_and(|b| *b != 0)),
        Scalar::Int2 => Value::Int(i16::from_be_bytes(fixed(bytes, "int2")?).into()),
        Scalar::Int4 => Value::Int(i32::from_be_bytes(fixed(bytes, "int4")?).into()),
        Scalar::Int8 => Value::Int(i64::from_be_bytes(fixed(bytes, "int8")?)),
        Scalar::Float4 => Value::Float(f32::from_be_bytes(fixed(bytes, "float4")?).into()),
        Scalar::Float8 => Value::Float(f64::from_be_bytes(fixed(bytes, "float8")?)),
        // A lone numeric column is read in `column`; inside an array there is no value to
        // hand to the decimal decoder.
        Scalar::Numeric => {
            return Err("a numeric array: cast the column (`::text[]`)".into());
        }
        Scalar::Text => Value::str(String::from_utf8_lossy(bytes).into_owned()),
        Scalar::Bytea => Value::bytes(bytes.to_vec()),
        Scalar::Uuid => Value::str(values::uuid_text(&fixed::<16>(bytes, "uuid")?)),
        Scalar::Json => values::json_value(bytes)?,
        Scalar::Jsonb => match bytes.split_first() {
            Some((1, text)) => values::json_value(text)?,
            _ => return Err("a jsonb value in an unknown format".into()),
        },
        Scalar::Timestamptz | Scalar::Timestamp => {
            values::time_value(Micros(i64::from_be_bytes(fixed(bytes, "timestamp")?)))?
        }
        Scalar::Date => values::date_value(i32::from_be_bytes(fixed(bytes, "date")?))?,
        Scalar::Interval => {
            let raw: [u8; 16] = fixed(bytes, "interval")?;
            let micros = i64::from_be_bytes(fixed(&raw[..8], "interval")?);
            let days = i32::from_be_bytes(fixed(&raw[8..12], "interval")?);
            let months = i32::from_be_bytes(fixed(&raw[12..], "interval")?);
            if months != 0 {
                return Err(
                    "an interval with months has no fixed length; cast it (`::text`)".into(),
                );
            }
            let nanos = i128::from(micros) * 1000 + i128::from(days) * 86_400_000_000_000;
            Value::Duration(
                i64::try_from(nanos).map_err(|_| "the interval is too long".to_string())?,
            )
        }
    })
}

/// A one-dimensional array as a list (a multi-dimensional one is an error).
fn array_value(scalar: Scalar, bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader(bytes);
    let dimensions = reader.i32()?;
    let _has_null = reader.i32()?;
    let _element = reader.i32()?;
    if dimensions == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if dimensions != 1 {
        return Err(format!(
            "a {dimensions}-dimensional array; cn reads one dimension"
        ));
    }
    let len = reader.i32()?;
    let _lower = reader.i32()?;
    let mut items = Vec::with_capacity(len.clamp(0, 1024) as usize);
    for _ in 0..len {
        let size = reader.i32()?;
        if size < 0 {
            items.push(Value::Nil);
            continue;
        }
        let item = reader.take(size as usize)?;
        items.push(scalar_value(scalar, item)?);
    }
    Ok(Value::list(items))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("a malformed array".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(fixed(self.take(4)?, "array")?))
    }
}
