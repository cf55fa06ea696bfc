//! `ferropg._native`: the PyO3 binding over ferropg-core.
use pyo3::prelude::*;

mod codecs;
mod conninfo;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    conninfo::register(m)?;
    Ok(())
}
