//! bool, integers, floats and numeric (-> decimal.Decimal).
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat};

use super::{be, malformed, Kind, TypeRegistry};

fn ascii<'a>(py: Python<'_>, type_name: &str, raw: &'a [u8]) -> PyResult<&'a str> {
    std::str::from_utf8(raw).map_err(|_| malformed(py, type_name, "not ASCII text"))
}

pub(crate) fn bool_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    match raw {
        b"t" => Ok(PyBool::new(py, true).to_owned().into_any().unbind()),
        b"f" => Ok(PyBool::new(py, false).to_owned().into_any().unbind()),
        _ => Err(malformed(py, "boolean", "expected 't' or 'f'")),
    }
}

pub(crate) fn int_binary(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let exact = |n: usize| -> PyResult<()> {
        if raw.len() == n {
            Ok(())
        } else {
            Err(malformed(
                py,
                kind_name(kind),
                &format!("{} bytes, expected {n}", raw.len()),
            ))
        }
    };
    let obj = match kind {
        Kind::Bool => {
            exact(1)?;
            PyBool::new(py, raw[0] != 0).to_owned().into_any()
        }
        Kind::Int2 => {
            exact(2)?;
            i16::from_be_bytes([raw[0], raw[1]]).into_pyobject(py)?.into_any()
        }
        Kind::Int4 => {
            exact(4)?;
            i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])
                .into_pyobject(py)?
                .into_any()
        }
        Kind::Oid => {
            exact(4)?;
            u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])
                .into_pyobject(py)?
                .into_any()
        }
        _ => {
            exact(8)?;
            let b: [u8; 8] = be(raw, 0).ok_or_else(|| malformed(py, "bigint", "short"))?;
            i64::from_be_bytes(b).into_pyobject(py)?.into_any()
        }
    };
    Ok(obj.unbind())
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean",
        Kind::Int2 => "smallint",
        Kind::Int4 => "integer",
        Kind::Oid => "oid",
        Kind::Float4 => "real",
        Kind::Float8 => "double precision",
        _ => "bigint",
    }
}

pub(crate) fn int_text(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, kind_name(kind), raw)?;
    let v: i64 = s.parse().map_err(|_| malformed(py, kind_name(kind), s))?;
    Ok(v.into_pyobject(py)?.into_any().unbind())
}

pub(crate) fn float_binary(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let v = match (kind, raw.len()) {
        (Kind::Float4, 4) => f32_as_text_value(f32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
        (Kind::Float8, 8) => match be::<8>(raw, 0) {
            Some(b) => f64::from_be_bytes(b),
            None => return Err(malformed(py, kind_name(kind), "short")),
        },
        _ => return Err(malformed(py, kind_name(kind), "wrong length")),
    };
    Ok(PyFloat::new(py, v).into_any().unbind())
}

/// The f64 psycopg2 gets for a real: it parses the server's shortest text form (0.1, not
/// 0.10000000149011612), which is what Rust's shortest round-trip printing of f32 gives.
pub(crate) fn f32_as_text_value(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    v.to_string().parse::<f64>().unwrap_or(f64::from(v))
}

pub(crate) fn float_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, "double precision", raw)?;
    let v = match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().map_err(|_| malformed(py, "double precision", s))?,
    };
    Ok(PyFloat::new(py, v).into_any().unbind())
}

pub(crate) fn numeric_text(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, "numeric", raw)?;
    Ok(reg.decimal_cls.bind(py).call1((s,))?.unbind())
}

pub(crate) fn numeric_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = ferropg_core::numeric::binary_to_text(raw).map_err(|e| malformed(py, "numeric", e))?;
    Ok(reg.decimal_cls.bind(py).call1((s,))?.unbind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_reads_as_its_shortest_text() {
        assert_eq!(f32_as_text_value(0.1), 0.1);
        assert_eq!(f32_as_text_value(1.5), 1.5);
        assert!(f32_as_text_value(f32::NAN).is_nan());
    }
}
