//! json and jsonb -> the result of `json.loads`, as psycopg2's default typecasters give.
//! psycopg2 registers them globally, so aiopg decodes json even with enable_json=False.
use pyo3::prelude::*;

use super::{malformed, text, TypeRegistry};

pub(crate) fn json(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = text::text(py, raw)?;
    // json.loads wraps the C scanner in three Python frames and two regex matches for
    // surrounding whitespace. jsonb never has any, so scan directly; anything else
    // (whitespace, trailing data, an error) goes through json.loads for its exact result.
    let s = s.bind(py);
    if let Ok(found) = reg.json_scan.bind(py).call1((s, 0)) {
        if let Ok((value, end)) = found.extract::<(Bound<'_, PyAny>, usize)>() {
            if end == s.len()? {
                return Ok(value.unbind());
            }
        }
    }
    Ok(reg.json_loads.bind(py).call1((s,))?.unbind())
}

/// Binary jsonb is a version byte (1) followed by the text.
pub(crate) fn jsonb_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    match raw.split_first() {
        Some((1, body)) => json(py, reg, body),
        _ => Err(malformed(py, "jsonb", "unknown binary format version")),
    }
}
