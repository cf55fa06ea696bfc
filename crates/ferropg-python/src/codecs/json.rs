//! json and jsonb -> the result of `json.loads`, as psycopg2's default typecasters give.
//! psycopg2 registers them globally, so aiopg decodes json even with enable_json=False.
//!
//! The core's parser builds the Python objects directly; what it leaves to `json.loads`
//! (NaN, lone surrogates, very deep nesting, anything malformed) goes there, so the
//! result or the error is always json.loads' own.
use ferropg_core::json::{self, Builder, ParseError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use super::{malformed, TypeRegistry};
use crate::gc_pause;

pub(crate) fn json(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = std::str::from_utf8(raw).map_err(|e| malformed(py, "json", &e.to_string()))?;
    // Building objects can run Python code (a finalizer during a collection) and let
    // another thread in; if that one is decoding on this connection, use a spare cache
    // rather than wait for this one while holding the GIL.
    let mut shared = reg.json_keys.try_lock().ok();
    let mut spare;
    let keys = match shared.as_deref_mut() {
        Some(keys) => keys,
        None => {
            spare = KeyCache::new();
            &mut spare
        }
    };
    match json::parse(s, &mut PyBuilder { py, keys }) {
        Ok(value) => Ok(value.unbind()),
        Err(ParseError::Build(err)) => Err(err),
        Err(ParseError::Unsupported) => {
            let loaded = gc_pause::without_pause(py, || reg.json_loads.bind(py).call1((s,)));
            Ok(loaded?.unbind())
        }
    }
}

/// Binary jsonb is a version byte (1) followed by the text.
pub(crate) fn jsonb_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    match raw.split_first() {
        Some((1, body)) => json(py, reg, body),
        _ => Err(malformed(py, "jsonb", "unknown binary format version")),
    }
}

/// Object keys recur row after row: handing out the same str objects skips allocating
/// them and, as a str caches its hash, hashing them again on every dict insert.
pub(crate) struct KeyCache {
    slots: Vec<Option<(Box<str>, Py<PyString>)>>,
}

impl KeyCache {
    const SLOTS: usize = 256;
    /// Longer keys are rarely repeated names; they are built each time.
    const MAX_LEN: usize = 64;

    pub(crate) fn new() -> Self {
        KeyCache {
            slots: (0..Self::SLOTS).map(|_| None).collect(),
        }
    }

    fn get<'py>(&mut self, py: Python<'py>, key: &str) -> Bound<'py, PyString> {
        if key.len() > Self::MAX_LEN {
            return PyString::new(py, key);
        }
        // FNV-1a: a few instructions per byte, spread well enough for a small table.
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let slot = &mut self.slots[(hash as usize) % Self::SLOTS];
        match slot {
            Some((text, cached)) if **text == *key => cached.bind(py).clone(),
            _ => {
                let fresh = PyString::new(py, key);
                *slot = Some((key.into(), fresh.clone().unbind()));
                fresh
            }
        }
    }
}

/// json.loads' object types: dict, list, str, int, float, bool, None.
struct PyBuilder<'py, 'k> {
    py: Python<'py>,
    keys: &'k mut KeyCache,
}

impl<'py> Builder for PyBuilder<'py, '_> {
    type Value = Bound<'py, PyAny>;
    type Error = PyErr;

    fn null(&mut self) -> PyResult<Self::Value> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn boolean(&mut self, v: bool) -> PyResult<Self::Value> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }
    fn int(&mut self, v: i64) -> PyResult<Self::Value> {
        Ok(v.into_pyobject(self.py)?.into_any())
    }
    fn big_int(&mut self, text: &str) -> PyResult<Self::Value> {
        // int(text), as json.loads converts: it honours sys.set_int_max_str_digits.
        self.py.get_type::<PyInt>().call1((text,))
    }
    fn float(&mut self, v: f64) -> PyResult<Self::Value> {
        Ok(PyFloat::new(self.py, v).into_any())
    }
    fn string(&mut self, s: &str) -> PyResult<Self::Value> {
        Ok(PyString::new(self.py, s).into_any())
    }
    fn key(&mut self, s: &str) -> PyResult<Self::Value> {
        Ok(self.keys.get(self.py, s).into_any())
    }
    fn array(&mut self) -> PyResult<Self::Value> {
        Ok(PyList::empty(self.py).into_any())
    }
    fn push(&mut self, array: &mut Self::Value, item: Self::Value) -> PyResult<()> {
        array.downcast::<PyList>()?.append(item)
    }
    fn object(&mut self) -> PyResult<Self::Value> {
        Ok(PyDict::new(self.py).into_any())
    }
    fn insert(&mut self, object: &mut Self::Value, key: Self::Value, value: Self::Value) -> PyResult<()> {
        object.downcast::<PyDict>()?.set_item(key, value)
    }
}
