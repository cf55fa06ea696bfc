//! Codecs between PostgreSQL wire values and Python objects, matching what aiopg 1.4 on
//! psycopg2 2.9 returns (decoding) and accepts (parameters and literal quoting).
//!
//! One file per type family; this file holds the per-connection [`TypeRegistry`] and the
//! [`Decoder`] that the driver resolves once per result column and applies to every row.

mod array;
mod datetime;
mod datetime_text;
mod encode;
mod encode_write;
mod hstore;
mod json;
mod literal;
mod numeric;
mod oids;
mod registry;
mod text;
mod uuid;

pub use encode::{encode_params, encode_params_into, EncodedParams};
pub use literal::quote_literal;
pub use oids::Oid;
pub use registry::TypeRegistry;

use pyo3::prelude::*;

use oids::*;

/// The family a column's values belong to; arrays carry their element family separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,
    /// Every type psycopg2 returns as `str` (text family, enums, network, unknown oids).
    Text,
    /// `"char"`: one byte, returned as `str`.
    Char,
    Bytea,
    /// bytea as `bytes` rather than psycopg2's memoryview (the `bytea_as_bytes` option).
    Bytes,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Hstore,
}

/// A value decoder: given the registry, the column's kind (the element kind for arrays)
/// and the raw bytes of one non-NULL value.
type DecodeFn = fn(Python<'_>, &TypeRegistry, Kind, &[u8]) -> PyResult<PyObject>;

/// How to turn one column's raw bytes into a Python object; cheap to copy. The function
/// is picked once per column, so a row costs one indirect call per value, not two matches.
#[derive(Clone, Copy)]
pub struct Decoder {
    kind: Kind,
    /// For arrays: `kind` is the element family.
    array: bool,
    binary: bool,
    func: DecodeFn,
}

impl PartialEq for Decoder {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, self.array, self.binary) == (other.kind, other.array, other.binary)
    }
}

impl Eq for Decoder {}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("kind", &self.kind)
            .field("array", &self.array)
            .field("binary", &self.binary)
            .finish()
    }
}

impl Decoder {
    pub(crate) fn new(kind: Kind, array: bool, binary: bool) -> Self {
        let func: DecodeFn = match (array, binary) {
            (false, true) => binary_scalar(kind),
            (false, false) => decode_text,
            (true, true) => array::decode_binary,
            (true, false) => array::decode_text,
        };
        Decoder {
            kind,
            array,
            binary,
            func,
        }
    }

    /// Decodes one non-NULL value (the driver turns NULL into `None` itself).
    #[inline]
    pub fn decode(&self, py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
        (self.func)(py, reg, self.kind, raw)
    }
}

/// The binary decoder of one scalar kind.
fn binary_scalar(kind: Kind) -> DecodeFn {
    match kind {
        Kind::Bool | Kind::Int2 | Kind::Int4 | Kind::Int8 | Kind::Oid => {
            |py, _, kind, raw| numeric::int_binary(py, kind, raw)
        }
        Kind::Float4 | Kind::Float8 => |py, _, kind, raw| numeric::float_binary(py, kind, raw),
        Kind::Numeric => |py, reg, _, raw| numeric::numeric_binary(py, reg, raw),
        Kind::Text => |py, _, _, raw| text::text(py, raw),
        Kind::Char => |py, _, _, raw| text::char_binary(py, raw),
        Kind::Bytea => |py, _, _, raw| text::bytea_binary(py, raw),
        Kind::Bytes => |py, _, _, raw| text::bytes_binary(py, raw),
        Kind::Date => |py, _, _, raw| datetime::date_binary(py, raw),
        Kind::Time => |py, _, _, raw| datetime::time_binary(py, raw),
        Kind::TimeTz => |py, reg, _, raw| datetime::timetz_binary(py, reg, raw),
        Kind::Timestamp => |py, _, _, raw| datetime::timestamp_binary(py, raw),
        Kind::TimestampTz => |py, reg, _, raw| datetime::timestamptz_binary(py, reg, raw),
        Kind::Interval => |py, _, _, raw| datetime::interval_binary(py, raw),
        Kind::Uuid => |py, reg, _, raw| uuid::uuid_binary(py, reg, raw),
        Kind::Json => |py, reg, _, raw| json::json(py, reg, raw),
        Kind::Jsonb => |py, reg, _, raw| json::jsonb_binary(py, reg, raw),
        Kind::Hstore => |py, _, _, raw| hstore::decode_binary(py, raw),
    }
}

/// One binary scalar value of `kind` (array elements come through here).
pub(crate) fn decode_binary(
    py: Python<'_>,
    reg: &TypeRegistry,
    kind: Kind,
    raw: &[u8],
) -> PyResult<PyObject> {
    binary_scalar(kind)(py, reg, kind, raw)
}

pub(crate) fn decode_text(py: Python<'_>, reg: &TypeRegistry, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    match kind {
        Kind::Bool => numeric::bool_text(py, raw),
        Kind::Int2 | Kind::Int4 | Kind::Int8 | Kind::Oid => numeric::int_text(py, kind, raw),
        Kind::Float4 | Kind::Float8 => numeric::float_text(py, raw),
        Kind::Numeric => numeric::numeric_text(py, reg, raw),
        Kind::Text | Kind::Char => text::text(py, raw),
        Kind::Bytea => text::bytea_text(py, raw),
        Kind::Bytes => text::bytes_text(py, raw),
        Kind::Date => datetime::date_text(py, raw),
        Kind::Time => datetime::time_text(py, reg, raw, false),
        Kind::TimeTz => datetime::time_text(py, reg, raw, true),
        Kind::Timestamp => datetime::timestamp_text(py, reg, raw, false),
        Kind::TimestampTz => datetime::timestamp_text(py, reg, raw, true),
        Kind::Interval => datetime::interval_text(py, raw),
        Kind::Uuid => uuid::uuid_text(py, reg, raw),
        Kind::Json | Kind::Jsonb => json::json(py, reg, raw),
        Kind::Hstore => hstore::decode_text(py, raw),
    }
}

/// psycopg2's description fields for a column: (internal_size, precision, scale).
///
/// psycopg2 takes the size from the RowDescription when fixed, else from the typmod
/// (less its 4-byte header when positive); numeric packs precision and scale in the typmod.
pub fn column_sizes(oid: Oid, type_size: i16, typmod: i32) -> (Option<i32>, Option<i32>, Option<i32>) {
    let fmod = if typmod > 0 { typmod - 4 } else { typmod };
    if oid == NUMERIC {
        let precision = (fmod >> 16) & 0xFFFF;
        let scale = fmod & 0xFFFF;
        let size = if type_size != -1 {
            i32::from(type_size)
        } else if fmod == -1 {
            -1
        } else {
            precision
        };
        return (Some(size), Some(precision), Some(scale));
    }
    let size = if type_size != -1 {
        i32::from(type_size)
    } else {
        fmod
    };
    (Some(size), None, None)
}

/// An exception of class `name` from `ferropg.errors` (imported when an error happens, never
/// on the hot path); a built-in `fallback` class if that module cannot be imported.
pub(crate) fn ferropg_error<F: pyo3::PyTypeInfo>(py: Python<'_>, name: &str, msg: String) -> PyErr {
    match py.import("ferropg.errors").and_then(|m| m.getattr(name)) {
        Ok(cls) => match cls.call1((msg.clone(),)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        },
        Err(_) => PyErr::from_type(py.get_type::<F>(), msg),
    }
}

/// A value the server sent that cannot be what its type says: `DataError` naming the type.
pub(crate) fn malformed(py: Python<'_>, type_name: &str, detail: &str) -> PyErr {
    ferropg_error::<pyo3::exceptions::PyValueError>(
        py,
        "DataError",
        format!("malformed {type_name} value received from the server: {detail}"),
    )
}

/// psycopg2's error for a Python value with no adapter.
pub(crate) fn cant_adapt(py: Python<'_>, value: &Bound<'_, PyAny>, suffix: impl std::fmt::Display) -> PyErr {
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    ferropg_error::<pyo3::exceptions::PyTypeError>(
        py,
        "ProgrammingError",
        format!("can't adapt type '{type_name}'{suffix}"),
    )
}

/// Reads a big-endian fixed-size field, or None if the buffer is too short.
pub(crate) fn be<const N: usize>(raw: &[u8], at: usize) -> Option<[u8; N]> {
    raw.get(at..at.checked_add(N)?)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_psycopg2() {
        // Values observed from psycopg2 2.9 cursor.description on PostgreSQL 15.
        assert_eq!(
            column_sizes(NUMERIC, -1, (10 << 16 | 3) + 4),
            (Some(10), Some(10), Some(3))
        );
        assert_eq!(
            column_sizes(NUMERIC, -1, -1),
            (Some(-1), Some(65535), Some(65535))
        );
        assert_eq!(
            column_sizes(NUMERIC, -1, (5 << 16) + 4),
            (Some(5), Some(5), Some(0))
        );
        assert_eq!(column_sizes(VARCHAR, -1, 24), (Some(20), None, None));
        assert_eq!(column_sizes(TEXT, -1, -1), (Some(-1), None, None));
        assert_eq!(column_sizes(INT4, 4, -1), (Some(4), None, None));
        assert_eq!(column_sizes(TIMESTAMP, 8, 3), (Some(8), None, None));
        assert_eq!(column_sizes(1560, -1, 3), (Some(-1), None, None));
    }
}
