//! psycopg2 2.9's literal (mogrify) form of a Python value, for the client-side path.
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat, PyInt, PyList,
    PyMemoryView, PyString, PyTime, PyTuple,
};

use super::encode::{decimal_text, json_class};
use super::{cant_adapt, TypeRegistry};
use ferropg_core::sql::{quote_bytea, quote_string};

/// psycopg2's literal for one value, e.g. `'it''s'`, `'\x00ff'::bytea`, `ARRAY[1,2]`,
/// `(1, 2)`, `NULL`, `true`. Unadaptable values raise `can't adapt type 'X'`.
pub fn quote_literal(py: Python<'_>, reg: &TypeRegistry, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_none() {
        return Ok("NULL".into());
    }
    if let Ok(b) = value.downcast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.into());
    }
    if value.is_instance_of::<PyString>() {
        return string(value.downcast::<PyString>()?.to_str()?, reg);
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(signed(value.call_method0("__int__")?.str()?.to_str()?));
    }
    if let Ok(f) = value.downcast::<PyFloat>() {
        let v = f.value();
        return Ok(if v.is_nan() {
            "'NaN'::float".into()
        } else if v.is_infinite() {
            if v > 0.0 {
                "'Infinity'::float"
            } else {
                "'-Infinity'::float"
            }
            .into()
        } else {
            signed(PyFloat::new(py, v).repr()?.to_str()?)
        });
    }
    if let Some(bytes) = as_bytes(value)? {
        return Ok(quote_bytea(&bytes, reg.standard_conforming_strings));
    }
    if value.is_instance_of::<PyDateTime>() {
        let cast = if value.getattr("tzinfo")?.is_none() {
            "timestamp"
        } else {
            "timestamptz"
        };
        return Ok(format!("'{}'::{cast}", iso(value)?));
    }
    if value.is_instance_of::<PyDate>() {
        return Ok(format!("'{}'::date", iso(value)?));
    }
    if value.is_instance_of::<PyTime>() {
        let cast = if value.getattr("tzinfo")?.is_none() {
            "time"
        } else {
            "timetz"
        };
        return Ok(format!("'{}'::{cast}", iso(value)?));
    }
    if let Ok(d) = value.downcast::<PyDelta>() {
        return Ok(format!(
            "'{} days {}.{:06} seconds'::interval",
            d.get_days(),
            d.get_seconds(),
            d.get_microseconds()
        ));
    }
    if value.is_instance(reg.decimal_cls.bind(py))? {
        let s = decimal_text(value)?;
        return Ok(if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") {
            format!("'{s}'::numeric")
        } else {
            signed(&s)
        });
    }
    if value.is_instance(reg.uuid_cls.bind(py))? {
        return Ok(format!("'{}'::uuid", value.str()?.to_str()?));
    }
    if let Ok(list) = value.downcast::<PyList>() {
        return list_literal(py, reg, list);
    }
    if let Ok(t) = value.downcast::<PyTuple>() {
        let parts = t
            .iter()
            .map(|v| quote_literal(py, reg, &v))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(format!("({})", parts.join(", ")));
    }
    if let Some(json) = json_class(py) {
        if value.is_instance(json.bind(py))? {
            let text = value.call_method1("dumps", (value.getattr("adapted")?,))?;
            return string(text.downcast::<PyString>()?.to_str()?, reg);
        }
    }
    if let Ok(dict) = value.downcast::<PyDict>() {
        if reg.hstore_oid.is_some() {
            return hstore_literal(py, reg, dict);
        }
    }
    Err(cant_adapt(py, value, ""))
}

/// psycopg2 puts a space before a negative number so `- %s` can never become a comment.
fn signed(s: &str) -> String {
    if s.starts_with('-') {
        format!(" {s}")
    } else {
        s.to_owned()
    }
}

/// A quoted string; psycopg2 raises ValueError for NUL, which no literal can hold.
fn string(s: &str, reg: &TypeRegistry) -> PyResult<String> {
    quote_string(s, reg.standard_conforming_strings)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

fn as_bytes(value: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if let Ok(b) = value.downcast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    if let Ok(b) = value.downcast::<PyByteArray>() {
        return Ok(Some(b.to_vec()));
    }
    if value.is_instance_of::<PyMemoryView>() {
        return Ok(Some(
            value
                .call_method0("tobytes")?
                .downcast::<PyBytes>()?
                .as_bytes()
                .to_vec(),
        ));
    }
    Ok(None)
}

fn iso(value: &Bound<'_, PyAny>) -> PyResult<String> {
    value.call_method0("isoformat")?.extract()
}

/// psycopg2's list adapter: `ARRAY[...]`, but `'{}'` for an empty list and a `'{...}'`
/// literal when every element is NULL (or such a list), as `ARRAY[NULL]` has no type.
fn list_literal(py: Python<'_>, reg: &TypeRegistry, list: &Bound<'_, PyList>) -> PyResult<String> {
    if list.is_empty() {
        return Ok("'{}'".into());
    }
    let mut parts = Vec::with_capacity(list.len());
    let mut all_nulls = true;
    for item in list.iter() {
        if item.is_none() {
            parts.push("NULL".to_owned());
            continue;
        }
        let mut q = quote_literal(py, reg, &item)?;
        if item.is_instance_of::<PyList>() {
            if q == "'{}'" {
                q = "ARRAY[]".into();
                all_nulls = false;
            } else if q.starts_with('A') {
                all_nulls = false;
            }
        } else {
            all_nulls = false;
        }
        parts.push(q);
    }
    if all_nulls {
        let inner: Vec<&str> = parts.iter().map(|p| p.trim_matches('\'')).collect();
        return Ok(format!("'{{{}}}'", inner.join(",")));
    }
    Ok(format!("ARRAY[{}]", parts.join(",")))
}

/// psycopg2's HstoreAdapter (server 9.0+): `hstore(ARRAY[keys], ARRAY[values])`.
fn hstore_literal(py: Python<'_>, reg: &TypeRegistry, dict: &Bound<'_, PyDict>) -> PyResult<String> {
    if dict.is_empty() {
        return Ok("''::hstore".into());
    }
    let keys = PyList::new(py, dict.keys())?;
    let values = PyList::new(py, dict.values())?;
    Ok(format!(
        "hstore({}, {})",
        list_literal(py, reg, &keys)?,
        list_literal(py, reg, &values)?
    ))
}
