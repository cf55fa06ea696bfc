//! `ferropg._native`: the PyO3 binding over ferropg-core.
use pyo3::prelude::*;

mod codecs;
mod connection;
mod conninfo;
mod errors;
mod gc_pause;
mod in_flight;
mod results;
mod statements;
mod tls;
mod transport;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    conninfo::register(m)?;
    m.add_class::<connection::Connection>()?;
    m.add_class::<results::QueryResult>()?;
    Ok(())
}
