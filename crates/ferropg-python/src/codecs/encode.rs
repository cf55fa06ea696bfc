//! Parameters for the server-bound path: each Python value picks its PostgreSQL type on
//! the client (as psycopg2's literals would type it) and is written in binary where the
//! type has a binary input, in text otherwise.
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat,
    PyInt, PyList, PyMemoryView, PyString, PyTime, PyTimeAccess, PyTzInfoAccess,
};
use std::borrow::Cow;

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
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int4(i32),
    Int8(i64),
    /// Decimal, or an int beyond int8: the numeric's text form.
    Numeric(Cow<'a, str>),
    /// A finite float: typed numeric, in the text Python's repr() gives (psycopg2's literal).
    FloatNumeric(f64),
    /// NaN or an infinity, typed float8.
    Float(f64),
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// Days since 2000-01-01.
    Date(i32),
    Time(i64),
    /// Microseconds, seconds east of UTC.
    TimeTz(i64, i32),
    /// Microseconds since 2000-01-01 (UTC for timestamptz).
    Timestamp(i64),
    TimestampTz(i64),
    /// An aware datetime whose tzinfo gives no offset: its ISO text, typed timestamptz.
    TimestampTzText(Cow<'a, str>),
    Interval {
        usecs: i64,
        days: i32,
    },
    Uuid([u8; 16]),
    Hstore(Vec<(String, Option<String>)>),
    Array(Vec<Value<'a>>),
}

impl Value<'_> {
    /// The same value owning its text and bytes (list items outlive their Python objects).
    fn into_owned(self) -> Value<'static> {
        let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int4(i) => Value::Int4(i),
            Value::Int8(i) => Value::Int8(i),
            Value::Numeric(s) => Value::Numeric(owned(s)),
            Value::FloatNumeric(f) => Value::FloatNumeric(f),
            Value::Float(f) => Value::Float(f),
            Value::Text(s) => Value::Text(owned(s)),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Date(d) => Value::Date(d),
            Value::Time(t) => Value::Time(t),
            Value::TimeTz(t, z) => Value::TimeTz(t, z),
            Value::Timestamp(t) => Value::Timestamp(t),
            Value::TimestampTz(t) => Value::TimestampTz(t),
            Value::TimestampTzText(s) => Value::TimestampTzText(owned(s)),
            Value::Interval { usecs, days } => Value::Interval { usecs, days },
            Value::Uuid(u) => Value::Uuid(u),
            Value::Hstore(pairs) => Value::Hstore(pairs),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
        }
    }
}

impl EncodedParams {
    fn clear(&mut self) {
        self.oids.clear();
        self.formats.clear();
        self.values.clear();
        self.buf.clear();
    }
}

/// Names a parameter in an error message; formatted only when an error is raised, so
/// the per-row path allocates nothing for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamLabel<'a> {
    pub index: usize,
    pub name: Option<&'a str>,
}

impl std::fmt::Display for ParamLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name {
            Some(name) => write!(f, " (parameter %({name})s)"),
            None => write!(f, " (parameter {})", self.index + 1),
        }
    }
}

pub fn encode_params(
    py: Python<'_>,
    reg: &TypeRegistry,
    values: &[Bound<'_, PyAny>],
    names: Option<&[String]>,
) -> PyResult<EncodedParams> {
    let mut out = EncodedParams::default();
    encode_params_into(py, reg, values, names, &mut out)?;
    Ok(out)
}

/// Encodes into `out`, reusing its buffers (executemany encodes every row into one).
pub fn encode_params_into(
    py: Python<'_>,
    reg: &TypeRegistry,
    values: &[Bound<'_, PyAny>],
    names: Option<&[String]>,
    out: &mut EncodedParams,
) -> PyResult<()> {
    out.clear();
    for (index, obj) in values.iter().enumerate() {
        let label = ParamLabel {
            index,
            name: names.and_then(|n| n.get(index)).map(String::as_str),
        };
        let value = adapt(py, reg, obj, label)?;
        let start = out.buf.len();
        let (oid, format) = write_value(py, reg, &value, &mut out.buf, label)?;
        out.oids.push(oid);
        out.formats.push(format);
        out.values
            .push((value != Value::Null).then_some(start..out.buf.len()));
    }
    Ok(())
}

/// An integer typed as PostgreSQL types the literal: int4 if it fits, else int8.
fn int_value(v: i64) -> Value<'static> {
    match i32::try_from(v) {
        Ok(small) => Value::Int4(small),
        Err(_) => Value::Int8(v),
    }
}

/// psycopg2 writes `str(d)` bare, and PostgreSQL types an integral literal (`1`, ` -0`)
/// like an int, one with '.' or an exponent (`1.5`, `1E+2`) numeric: bind the same type,
/// so `SELECT %s` gives an int for Decimal('1') on both paths.
fn adapt_decimal(text: String) -> Value<'static> {
    let integral = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    match text.parse::<i64>() {
        Ok(v) if integral => int_value(v),
        _ => Value::Numeric(Cow::Owned(text)),
    }
}

/// Classifies a Python object; the error names the unadaptable object's type.
pub(crate) fn adapt<'a>(
    py: Python<'_>,
    reg: &TypeRegistry,
    obj: &'a Bound<'_, PyAny>,
    label: ParamLabel<'_>,
) -> PyResult<Value<'a>> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.downcast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::Text(Cow::Borrowed(obj.downcast::<PyString>()?.to_str()?)));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(v) => int_value(v),
            Err(_) => Value::Numeric(Cow::Owned(obj.str()?.to_str()?.to_owned())),
        });
    }
    if let Ok(f) = obj.downcast::<PyFloat>() {
        let v = f.value();
        // psycopg2 writes a finite float as a bare literal (`1.5`), which PostgreSQL types
        // numeric; only NaN and the infinities become float8. Bind the same types.
        if v.is_finite() {
            return Ok(Value::FloatNumeric(v));
        }
        return Ok(Value::Float(v));
    }
    if let Ok(b) = obj.downcast::<PyBytes>() {
        return Ok(Value::Bytes(Cow::Borrowed(b.as_bytes())));
    }
    if let Ok(b) = obj.downcast::<PyByteArray>() {
        return Ok(Value::Bytes(Cow::Owned(b.to_vec())));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        return Ok(Value::Bytes(Cow::Owned(
            obj.call_method0("tobytes")?
                .downcast::<PyBytes>()?
                .as_bytes()
                .to_vec(),
        )));
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
            items.push(adapt(py, reg, &item, label)?.into_owned());
        }
        return Ok(Value::Array(items));
    }
    if let Some(json) = json_class(py) {
        if obj.is_instance(json.bind(py))? {
            let adapted = obj.getattr("adapted")?;
            let text = obj.call_method1("dumps", (adapted,))?;
            // psycopg2's Json is a quoted string literal: untyped, so `SELECT %s` gives str
            // and `jsonb_col = %s` works; bind it as a str is bound.
            return Ok(Value::Text(Cow::Owned(
                text.downcast::<PyString>()?.to_str()?.to_owned(),
            )));
        }
    }
    if let Ok(dict) = obj.downcast::<PyDict>() {
        if reg.hstore_oid.is_some() {
            return adapt_hstore(py, dict, label);
        }
    }
    Err(cant_adapt(py, obj, label))
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

fn adapt_datetime(dt: &Bound<'_, PyDateTime>) -> PyResult<Value<'static>> {
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
        None => Value::TimestampTzText(Cow::Owned(dt.call_method0("isoformat")?.extract()?)),
    })
}

fn adapt_hstore(py: Python<'_>, dict: &Bound<'_, PyDict>, label: ParamLabel<'_>) -> PyResult<Value<'static>> {
    let mut pairs = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        let key = k.downcast::<PyString>().map_err(|_| cant_adapt(py, &k, label))?;
        let value = if v.is_none() {
            None
        } else {
            Some(
                v.downcast::<PyString>()
                    .map_err(|_| cant_adapt(py, &v, label))?
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
        assert_eq!(adapt_decimal(big.clone()), Value::Numeric(big.into()));
        for text in ["1.5", "-0.0", "1E+2", "0E-7", "NaN", "Infinity", "-Infinity"] {
            assert_eq!(adapt_decimal(text.into()), Value::Numeric(text.into()));
        }
    }
}
