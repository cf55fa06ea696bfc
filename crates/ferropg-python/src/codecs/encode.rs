//! Parameters for the server-bound path: each Python value picks its PostgreSQL type on
//! the client (as psycopg2's literals would type it) and is written in binary where the
//! type has a binary input, in text otherwise.
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat,
    PyInt, PyList, PyMemoryView, PyString, PyTime, PyTimeAccess, PyTzInfoAccess,
};

use super::datetime::{days_from_civil, PG_EPOCH_DAYS, USECS_PER_DAY, USECS_PER_SEC};
use super::oids::Oid;
use super::{cant_adapt, ferropg_error, TypeRegistry};

/// Parameters ready for Bind: values back to back in `buf`, each with its type oid
/// (0 lets the server infer), format (0 text, 1 binary) and byte range, None for NULL.
#[derive(Debug, Default)]
pub struct EncodedParams {
    pub oids: Vec<Oid>,
    pub formats: Vec<i16>,
    pub values: Vec<Option<std::ops::Range<usize>>>,
    pub buf: Vec<u8>,
}

/// One Python value as the PostgreSQL value it adapts to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int4(i32),
    Int8(i64),
    /// Decimal, or an int beyond int8: the numeric's text form.
    Numeric(String),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 2000-01-01.
    Date(i32),
    Time(i64),
    /// Microseconds, seconds east of UTC.
    TimeTz(i64, i32),
    /// Microseconds since 2000-01-01 (UTC for timestamptz).
    Timestamp(i64),
    TimestampTz(i64),
    /// An aware datetime whose tzinfo gives no offset: its ISO text, typed timestamptz.
    TimestampTzText(String),
    Interval {
        usecs: i64,
        days: i32,
    },
    Uuid([u8; 16]),
    Hstore(Vec<(String, Option<String>)>),
    Array(Vec<Value>),
}

pub fn encode_params(
    py: Python<'_>,
    reg: &TypeRegistry,
    values: &[Bound<'_, PyAny>],
    names: Option<&[String]>,
) -> PyResult<EncodedParams> {
    let mut out = EncodedParams::default();
    for (i, obj) in values.iter().enumerate() {
        let suffix = match names.and_then(|n| n.get(i)) {
            Some(name) => format!(" (parameter %({name})s)"),
            None => format!(" (parameter {})", i + 1),
        };
        let value = adapt(py, reg, obj, &suffix)?;
        let start = out.buf.len();
        let (oid, format) = write_value(py, reg, &value, &mut out.buf, &suffix)?;
        out.oids.push(oid);
        out.formats.push(format);
        out.values
            .push((value != Value::Null).then_some(start..out.buf.len()));
    }
    Ok(out)
}

/// An integer typed as PostgreSQL types the literal: int4 if it fits, else int8.
fn int_value(v: i64) -> Value {
    match i32::try_from(v) {
        Ok(small) => Value::Int4(small),
        Err(_) => Value::Int8(v),
    }
}

/// psycopg2 writes `str(d)` bare, and PostgreSQL types an integral literal (`1`, ` -0`)
/// like an int, one with '.' or an exponent (`1.5`, `1E+2`) numeric: bind the same type,
/// so `SELECT %s` gives an int for Decimal('1') on both paths.
fn adapt_decimal(text: String) -> Value {
    let integral = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    match text.parse::<i64>() {
        Ok(v) if integral => int_value(v),
        _ => Value::Numeric(text),
    }
}

/// Classifies a Python object; the error names the unadaptable object's type.
pub(crate) fn adapt(
    py: Python<'_>,
    reg: &TypeRegistry,
    obj: &Bound<'_, PyAny>,
    suffix: &str,
) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.downcast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::Text(obj.downcast::<PyString>()?.to_str()?.to_owned()));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(v) => int_value(v),
            Err(_) => Value::Numeric(obj.str()?.to_str()?.to_owned()),
        });
    }
    if let Ok(f) = obj.downcast::<PyFloat>() {
        let v = f.value();
        // psycopg2 writes a finite float as a bare literal (`1.5`), which PostgreSQL types
        // numeric; only NaN and the infinities become float8. Bind the same types.
        if v.is_finite() {
            return Ok(Value::Numeric(f.repr()?.to_str()?.to_owned()));
        }
        return Ok(Value::Float(v));
    }
    if let Ok(b) = obj.downcast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.downcast::<PyByteArray>() {
        return Ok(Value::Bytes(b.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        return Ok(Value::Bytes(
            obj.call_method0("tobytes")?
                .downcast::<PyBytes>()?
                .as_bytes()
                .to_vec(),
        ));
    }
    if let Ok(dt) = obj.downcast::<PyDateTime>() {
        return adapt_datetime(dt);
    }
    if let Ok(d) = obj.downcast::<PyDate>() {
        let days = days_from_civil(i64::from(d.get_year()), d.get_month(), d.get_day()) - PG_EPOCH_DAYS;
        return Ok(Value::Date(days as i32));
    }
    if let Ok(t) = obj.downcast::<PyTime>() {
        let us = time_usecs(t.get_hour(), t.get_minute(), t.get_second(), t.get_microsecond());
        return Ok(match offset_seconds(obj)? {
            Some(east) if t.get_tzinfo().is_some() => Value::TimeTz(us, east),
            _ => Value::Time(us),
        });
    }
    if let Ok(d) = obj.downcast::<PyDelta>() {
        let usecs = i64::from(d.get_seconds()) * USECS_PER_SEC + i64::from(d.get_microseconds());
        return Ok(Value::Interval {
            usecs,
            days: d.get_days(),
        });
    }
    if obj.is_instance(reg.decimal_cls.bind(py))? {
        return Ok(adapt_decimal(decimal_text(obj)?));
    }
    if obj.is_instance(reg.uuid_cls.bind(py))? {
        let n: u128 = obj.getattr("int")?.extract()?;
        return Ok(Value::Uuid(n.to_be_bytes()));
    }
    if let Ok(list) = obj.downcast::<PyList>() {
        let mut items = Vec::with_capacity(list.len());
        for item in list.iter() {
            items.push(adapt(py, reg, &item, suffix)?);
        }
        return Ok(Value::Array(items));
    }
    if let Some(json) = json_class(py) {
        if obj.is_instance(json.bind(py))? {
            let adapted = obj.getattr("adapted")?;
            let text = obj.call_method1("dumps", (adapted,))?;
            // psycopg2's Json is a quoted string literal: untyped, so `SELECT %s` gives str
            // and `jsonb_col = %s` works; bind it as a str is bound.
            return Ok(Value::Text(text.downcast::<PyString>()?.to_str()?.to_owned()));
        }
    }
    if let Ok(dict) = obj.downcast::<PyDict>() {
        if reg.hstore_oid.is_some() {
            return adapt_hstore(py, dict, suffix);
        }
    }
    Err(cant_adapt(py, obj, suffix))
}

/// Decimal's str in PostgreSQL's spelling. psycopg2 sends +-Infinity as NaN, silently
/// changing the value; PostgreSQL 14+ stores numeric infinities, so we send them as they are.
pub(crate) fn decimal_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let s = obj.str()?.to_str()?.to_owned();
    Ok(match s.as_str() {
        "Infinity" | "-Infinity" => s,
        _ if s.ends_with(|c: char| c.is_ascii_alphabetic()) => "NaN".to_owned(), // NaN, sNaN
        _ => s,
    })
}

/// `ferropg.extras.Json`, looked up when first needed (None while it cannot be imported).
pub(crate) fn json_class(py: Python<'_>) -> Option<Py<PyAny>> {
    static JSON: pyo3::sync::GILOnceCell<Py<PyAny>> = pyo3::sync::GILOnceCell::new();
    if let Some(cls) = JSON.get(py) {
        return Some(cls.clone_ref(py));
    }
    let cls = py
        .import("ferropg.extras")
        .and_then(|m| m.getattr("Json"))
        .ok()?
        .unbind();
    let _ = JSON.set(py, cls.clone_ref(py));
    Some(cls)
}

fn time_usecs(h: u8, m: u8, s: u8, us: u32) -> i64 {
    (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * USECS_PER_SEC + i64::from(us)
}

/// `obj.utcoffset()` in seconds east, or None when naive.
fn offset_seconds(obj: &Bound<'_, PyAny>) -> PyResult<Option<i32>> {
    let off = obj.call_method0("utcoffset")?;
    if off.is_none() {
        return Ok(None);
    }
    let d = off.downcast::<PyDelta>()?;
    Ok(Some(d.get_days() * 86_400 + d.get_seconds()))
}

fn adapt_datetime(dt: &Bound<'_, PyDateTime>) -> PyResult<Value> {
    let days = days_from_civil(i64::from(dt.get_year()), dt.get_month(), dt.get_day()) - PG_EPOCH_DAYS;
    let tod = time_usecs(
        dt.get_hour(),
        dt.get_minute(),
        dt.get_second(),
        dt.get_microsecond(),
    );
    let local = days * USECS_PER_DAY + tod;
    if dt.get_tzinfo().is_none() {
        return Ok(Value::Timestamp(local));
    }
    Ok(match offset_seconds(dt.as_any())? {
        Some(east) => Value::TimestampTz(local - i64::from(east) * USECS_PER_SEC),
        None => Value::TimestampTzText(dt.call_method0("isoformat")?.extract()?),
    })
}

fn adapt_hstore(py: Python<'_>, dict: &Bound<'_, PyDict>, suffix: &str) -> PyResult<Value> {
    let mut pairs = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        let key = k.downcast::<PyString>().map_err(|_| cant_adapt(py, &k, suffix))?;
        let value = if v.is_none() {
            None
        } else {
            Some(
                v.downcast::<PyString>()
                    .map_err(|_| cant_adapt(py, &v, suffix))?
                    .to_str()?
                    .to_owned(),
            )
        };
        pairs.push((key.to_str()?.to_owned(), value));
    }
    Ok(Value::Hstore(pairs))
}

pub(crate) fn programming_error(py: Python<'_>, msg: String) -> PyErr {
    ferropg_error::<pyo3::exceptions::PyTypeError>(py, "ProgrammingError", msg)
}

use super::encode_write::write_value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_decimals_bind_as_the_int_literal_would() {
        assert_eq!(adapt_decimal("1".into()), Value::Int4(1));
        assert_eq!(adapt_decimal("-0".into()), Value::Int4(0));
        assert_eq!(adapt_decimal("-2147483648".into()), Value::Int4(i32::MIN));
        assert_eq!(adapt_decimal("2147483648".into()), Value::Int8(1 << 31));
        assert_eq!(
            adapt_decimal("-9223372036854775808".into()),
            Value::Int8(i64::MIN)
        );
        let big = "9223372036854775808".to_owned();
        assert_eq!(adapt_decimal(big.clone()), Value::Numeric(big));
        for text in ["1.5", "-0.0", "1E+2", "0E-7", "NaN", "Infinity", "-Infinity"] {
            assert_eq!(adapt_decimal(text.into()), Value::Numeric(text.into()));
        }
    }
}
