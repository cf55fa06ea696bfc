//! Writing adapted [`Value`]s into the Bind buffer: scalars and (multi-dimensional) arrays.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::borrow::Cow;

use super::encode::{programming_error, ParamLabel, Value};
use super::hstore;
use super::oids::{self, Oid};
use super::TypeRegistry;

/// The PostgreSQL element type an array's non-NULL items share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    Bool,
    Int4,
    Int8,
    Numeric,
    Float,
    Text,
    Bytes,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    TimestampTzText,
    Interval,
    Uuid,
    Hstore,
}

fn elem_of(v: &Value) -> Option<Elem> {
    Some(match v {
        Value::Null | Value::Array(_) => return None,
        Value::Bool(_) => Elem::Bool,
        Value::Int4(_) => Elem::Int4,
        Value::Int8(_) => Elem::Int8,
        Value::Numeric(_) | Value::FloatNumeric(_) => Elem::Numeric,
        Value::Float(_) => Elem::Float,
        Value::Text(_) => Elem::Text,
        Value::Bytes(_) => Elem::Bytes,
        Value::Date(_) => Elem::Date,
        Value::Time(_) => Elem::Time,
        Value::TimeTz(..) => Elem::TimeTz,
        Value::Timestamp(_) => Elem::Timestamp,
        Value::TimestampTz(_) => Elem::TimestampTz,
        Value::TimestampTzText(_) => Elem::TimestampTzText,
        Value::Interval { .. } => Elem::Interval,
        Value::Uuid(_) => Elem::Uuid,
        Value::Hstore(_) => Elem::Hstore,
    })
}

/// The common type of two element types, as PostgreSQL resolves `ARRAY[1, 2.5]` (numeric)
/// and `ARRAY[1.5, 'NaN'::float]` (float8, the preferred type of the numeric category).
pub(crate) fn unify(a: Elem, b: Elem) -> Option<Elem> {
    use Elem::*;
    let numeric_family = |e| matches!(e, Int4 | Int8 | Numeric | Float);
    Some(match (a, b) {
        _ if a == b => a,
        (Int4, Int8) | (Int8, Int4) => Int8,
        (TimestampTz, TimestampTzText) | (TimestampTzText, TimestampTz) => TimestampTzText,
        (Float, _) | (_, Float) if numeric_family(a) && numeric_family(b) => Float,
        _ if numeric_family(a) && numeric_family(b) => Numeric,
        _ => return None,
    })
}

/// Writes one top-level value; returns its (type oid, format).
pub(crate) fn write_value(
    py: Python<'_>,
    reg: &TypeRegistry,
    v: &Value,
    buf: &mut Vec<u8>,
    label: ParamLabel<'_>,
) -> PyResult<(Oid, i16)> {
    match v {
        Value::Null => Ok((0, 0)),
        Value::Text(s) => {
            if s.contains('\0') {
                return Err(PyValueError::new_err(
                    "A string literal cannot contain NUL (0x00) characters.",
                ));
            }
            buf.extend_from_slice(s.as_bytes());
            Ok((0, 0))
        }
        Value::Array(items) => write_array(py, reg, items, buf, label),
        _ => {
            let elem = elem_of(v).unwrap_or(Elem::Text);
            let format = write_scalar(reg, v, elem, buf);
            Ok((scalar_oid(reg, elem), format))
        }
    }
}

fn scalar_oid(reg: &TypeRegistry, e: Elem) -> Oid {
    match e {
        Elem::Bool => oids::BOOL,
        Elem::Int4 => oids::INT4,
        Elem::Int8 => oids::INT8,
        Elem::Numeric => oids::NUMERIC,
        Elem::Float => oids::FLOAT8,
        Elem::Text => oids::TEXT,
        Elem::Bytes => oids::BYTEA,
        Elem::Date => oids::DATE,
        Elem::Time => oids::TIME,
        Elem::TimeTz => oids::TIMETZ,
        Elem::Timestamp => oids::TIMESTAMP,
        Elem::TimestampTz | Elem::TimestampTzText => oids::TIMESTAMPTZ,
        Elem::Interval => oids::INTERVAL,
        Elem::Uuid => oids::UUID,
        Elem::Hstore => reg.hstore_oid.unwrap_or(0),
    }
}

fn array_oid(reg: &TypeRegistry, e: Elem) -> Oid {
    match e {
        Elem::Bool => oids::BOOL_ARRAY,
        Elem::Int4 => oids::INT4_ARRAY,
        Elem::Int8 => oids::INT8_ARRAY,
        Elem::Numeric => oids::NUMERIC_ARRAY,
        Elem::Float => oids::FLOAT8_ARRAY,
        Elem::Text => oids::TEXT_ARRAY,
        Elem::Bytes => oids::BYTEA_ARRAY,
        Elem::Date => oids::DATE_ARRAY,
        Elem::Time => oids::TIME_ARRAY,
        Elem::TimeTz => oids::TIMETZ_ARRAY,
        Elem::Timestamp => oids::TIMESTAMP_ARRAY,
        Elem::TimestampTz | Elem::TimestampTzText => oids::TIMESTAMPTZ_ARRAY,
        Elem::Interval => oids::INTERVAL_ARRAY,
        Elem::Uuid => oids::UUID_ARRAY,
        Elem::Hstore => reg.hstore_array_oid.unwrap_or(0),
    }
}

/// Whether the element type is sent in text format (no binary writer, or text by nature).
fn is_text_format(e: Elem) -> bool {
    matches!(e, Elem::Numeric | Elem::TimestampTzText | Elem::Hstore)
}

/// Writes a non-NULL scalar as type `elem` (which may widen it, e.g. int4 -> numeric);
/// returns the format used.
fn write_scalar(reg: &TypeRegistry, v: &Value, elem: Elem, buf: &mut Vec<u8>) -> i16 {
    if is_text_format(elem) {
        buf.extend_from_slice(scalar_text(v).as_bytes());
        return 0;
    }
    match v {
        Value::Bool(b) => buf.push(u8::from(*b)),
        Value::Int4(i) if elem == Elem::Int4 => buf.extend_from_slice(&i.to_be_bytes()),
        Value::Int4(i) => buf.extend_from_slice(&i64::from(*i).to_be_bytes()),
        Value::Int8(i) => buf.extend_from_slice(&i.to_be_bytes()),
        Value::Float(f) => buf.extend_from_slice(&f.to_be_bytes()),
        Value::Text(s) => buf.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => buf.extend_from_slice(b),
        Value::Date(d) => buf.extend_from_slice(&d.to_be_bytes()),
        Value::Time(us) | Value::Timestamp(us) | Value::TimestampTz(us) => {
            buf.extend_from_slice(&us.to_be_bytes())
        }
        Value::TimeTz(us, east) => {
            buf.extend_from_slice(&us.to_be_bytes());
            buf.extend_from_slice(&east.wrapping_neg().to_be_bytes());
        }
        Value::Interval { usecs, days } => {
            buf.extend_from_slice(&usecs.to_be_bytes());
            buf.extend_from_slice(&days.to_be_bytes());
            buf.extend_from_slice(&0i32.to_be_bytes());
        }
        Value::Uuid(u) => buf.extend_from_slice(u),
        _ => {
            let _ = reg;
            buf.extend_from_slice(scalar_text(v).as_bytes());
        }
    }
    1
}

/// The text input form of a scalar in a text-format value.
fn scalar_text<'v>(v: &'v Value) -> Cow<'v, str> {
    match v {
        Value::Int4(i) => i.to_string().into(),
        Value::Int8(i) => i.to_string().into(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "Infinity" } else { "-Infinity" }.into(),
        Value::Float(f) | Value::FloatNumeric(f) => float_repr(*f).into(),
        Value::Numeric(s) | Value::TimestampTzText(s) | Value::Text(s) => Cow::Borrowed(s),
        Value::Hstore(pairs) => hstore::encode_text(pairs).into(),
        Value::Bool(b) => if *b { "t" } else { "f" }.into(),
        other => format!("{other:?}").into(),
    }
}

/// A finite float as numeric text with the digits and scale of Python's repr(), which
/// psycopg2 sends: the shortest digits that round-trip, and `.0` on an integral value
/// below 1e16 (repr's `1.0`, scale 1). Past that repr switches to an exponent
/// (`1e+16`), which numeric reads with scale 0, as it reads the plain digits written here.
pub(crate) fn float_repr(f: f64) -> String {
    let mut s = f.to_string();
    if f.abs() < 1e16 && !s.contains('.') {
        s.push_str(".0");
    }
    s
}

/// Shape and element type of a nested list: dimension lengths (outermost first).
fn shape(
    items: &[Value],
    dims: &mut Vec<usize>,
    depth: usize,
    elem: &mut Option<Elem>,
) -> Result<(), String> {
    match dims.get(depth) {
        Some(&n) if n != items.len() => {
            return Err("multidimensional lists must have sublists of matching sizes".into())
        }
        Some(_) => {}
        None => dims.push(items.len()),
    }
    let nested = items.iter().filter(|v| matches!(v, Value::Array(_))).count();
    if nested != 0 && nested != items.len() {
        return Err("multidimensional lists cannot mix sublists and single values".into());
    }
    for v in items {
        if let Value::Array(inner) = v {
            shape(inner, dims, depth + 1, elem)?;
        } else if let Some(e) = elem_of(v) {
            *elem = Some(match *elem {
                None => e,
                Some(prev) => unify(prev, e)
                    .ok_or_else(|| format!("list elements of incompatible types ({prev:?} and {e:?})"))?,
            });
        }
    }
    Ok(())
}

fn write_array(
    py: Python<'_>,
    reg: &TypeRegistry,
    items: &[Value],
    buf: &mut Vec<u8>,
    label: ParamLabel<'_>,
) -> PyResult<(Oid, i16)> {
    let mut dims = Vec::new();
    let mut elem = None;
    shape(items, &mut dims, 0, &mut elem).map_err(|e| programming_error(py, format!("{e}{label}")))?;
    if dims.len() > 6 {
        return Err(programming_error(
            py,
            format!("lists nested more than 6 deep cannot be arrays{label}"),
        ));
    }
    if dims.contains(&0) {
        // psycopg2 sends '{}' untyped, so `= ANY(%s)` and inserts into any array column work.
        buf.extend_from_slice(b"{}");
        return Ok((0, 0));
    }
    let Some(elem) = elem else {
        // Only NULLs, like psycopg2's '{NULL}': untyped. No scalar reaches the closure.
        text_array(items, buf, |_, _| {});
        return Ok((0, 0));
    };
    // A float8 array may hold ints and numeric text (finite floats adapt to numeric): the
    // server's float8 input converts them, and rejects out-of-range ones as the cast would.
    if is_text_format(elem) || elem == Elem::Float {
        text_array(items, buf, |v, out| push_quoted(out, &scalar_text(v)));
        return Ok((array_oid(reg, elem), 0));
    }
    buf.extend_from_slice(&(dims.len() as i32).to_be_bytes());
    let has_null = contains_null(items);
    buf.extend_from_slice(&i32::from(has_null).to_be_bytes());
    buf.extend_from_slice(&scalar_oid(reg, elem).to_be_bytes());
    for d in &dims {
        buf.extend_from_slice(&(*d as i32).to_be_bytes());
        buf.extend_from_slice(&1i32.to_be_bytes());
    }
    write_elements(reg, items, elem, buf);
    Ok((array_oid(reg, elem), 1))
}

fn contains_null(items: &[Value]) -> bool {
    items.iter().any(|v| match v {
        Value::Null => true,
        Value::Array(inner) => contains_null(inner),
        _ => false,
    })
}

fn write_elements(reg: &TypeRegistry, items: &[Value], elem: Elem, buf: &mut Vec<u8>) {
    for v in items {
        match v {
            Value::Array(inner) => write_elements(reg, inner, elem, buf),
            Value::Null => buf.extend_from_slice(&(-1i32).to_be_bytes()),
            _ => {
                let at = buf.len();
                buf.extend_from_slice(&[0; 4]);
                write_scalar(reg, v, elem, buf);
                let len = (buf.len() - at - 4) as i32;
                buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
}

/// `{a,{b,NULL}}` array text, each non-NULL scalar written by `item`.
fn text_array<F: Fn(&Value, &mut String) + Copy>(items: &[Value], buf: &mut Vec<u8>, item: F) {
    let mut out = String::new();
    text_level(items, &mut out, item);
    buf.extend_from_slice(out.as_bytes());
}

fn text_level<F: Fn(&Value, &mut String) + Copy>(items: &[Value], out: &mut String, item: F) {
    out.push('{');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match v {
            Value::Null => out.push_str("NULL"),
            Value::Array(inner) => text_level(inner, out, item),
            _ => item(v, out),
        }
    }
    out.push('}');
}

/// A double-quoted element with `"` and `\` escaped: the rule array and hstore text share.
pub(crate) fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_types_unify_as_postgresql_resolves_array_constructors() {
        use Elem::*;
        assert_eq!(unify(Int4, Int8), Some(Int8));
        assert_eq!(unify(Int8, Numeric), Some(Numeric));
        assert_eq!(unify(Numeric, Float), Some(Float));
        assert_eq!(unify(Int4, Float), Some(Float));
        assert_eq!(unify(Text, Int4), None);
    }
}
