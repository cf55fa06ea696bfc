//! The cyclic garbage collector held off while one read's rows are built.
//!
//! CPython runs a young-generation collection every 700 container allocations. While a
//! result's rows are being built every one of them is alive, so each of those collections
//! walks objects it cannot free, moves them to an older generation, and so brings on
//! the older generations' walks (which cover the whole heap) sooner. A 1,000-row result
//! of mixed types (a tuple, a dict and a list for jsonb, a memoryview and its buffer, a
//! UUID, a list for int4[] per row) spent over a third of its client CPU in those walks.
//! Paused for the rows of one socket read, the collector runs once afterwards over what
//! that read built, as it would have, but fewer of its runs fall inside a result.
//!
//! The decoders are Rust and C-API calls, except `json.loads` for the rare document our
//! parser declines. Python code can switch threads, so that call runs with the pause
//! lifted ([`without_pause`]); a `gc.disable()` another thread made meanwhile is then
//! left alone rather than undone.
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::Python;

/// Whether a [`GcPause`] turned the collector off and still owns turning it back on.
/// Only read and written with the GIL held.
static PAUSED: AtomicBool = AtomicBool::new(false);

/// Disables the collector for its lifetime, if it was enabled; restores it on drop.
pub struct GcPause<'py> {
    /// Ties the pause to the GIL token it was made under (and makes it neither Send
    /// nor able to outlive that token).
    _gil: Python<'py>,
}

impl<'py> GcPause<'py> {
    pub fn new(py: Python<'py>) -> GcPause<'py> {
        // SAFETY: PyGC_Disable only flips the interpreter's `enabled` flag and returns
        // its previous value; the `Python` token proves we hold the GIL it requires.
        if unsafe { pyo3::ffi::PyGC_Disable() } != 0 {
            PAUSED.store(true, Ordering::Relaxed);
        }
        GcPause { _gil: py }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if PAUSED.swap(false, Ordering::Relaxed) {
            // SAFETY: the pause holds the `Python<'py>` token it was made with, so the GIL
            // is still held here.
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}

/// Runs Python code with a pause in force lifted, and takes the pause up again after,
/// unless the collector was disabled meanwhile by someone else.
pub fn without_pause<T>(_py: Python<'_>, run: impl FnOnce() -> T) -> T {
    if !PAUSED.swap(false, Ordering::Relaxed) {
        return run();
    }
    // SAFETY (both calls): the `Python` token proves the GIL is held, which is all
    // PyGC_Enable and PyGC_Disable require; `run` gives it back to us before returning.
    unsafe { pyo3::ffi::PyGC_Enable() };
    let out = run();
    if unsafe { pyo3::ffi::PyGC_Disable() } != 0 {
        PAUSED.store(true, Ordering::Relaxed);
    }
    out
}
