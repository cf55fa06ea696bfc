//! The cyclic garbage collector held off while one read's rows are built.
//!
//! CPython runs a young-generation collection every 700 container allocations. While a
//! result's rows are being built every one of them is alive, so each of those collections
//! walks objects it cannot free, moves them to an older generation, and so brings on
//! the older generations' walks (which cover the whole heap) sooner. A 1,000-row result
//! of mixed types (a tuple, a dict and a list for jsonb, a memoryview and its buffer, a
//! UUID, a list for int4[] per row) spent a third of its client CPU in those walks.
//! Paused for the rows of one socket read, the collector runs once afterwards over what
//! that read built, as it would have, but fewer of its runs fall inside a result.
//!
//! The pause never outlives the native call that took it: only our decoders run while it
//! holds (standard-library constructors, none of which releases the GIL), so no other
//! thread can see the collector off or turn it on meanwhile.
use pyo3::Python;

/// Disables the collector for its lifetime, if it was enabled; restores it on drop.
pub struct GcPause<'py> {
    /// Ties the pause to the GIL token it was made under (and makes it neither Send
    /// nor able to outlive that token).
    _gil: Python<'py>,
    was_enabled: bool,
}

impl<'py> GcPause<'py> {
    pub fn new(py: Python<'py>) -> GcPause<'py> {
        // SAFETY: PyGC_Disable only flips the interpreter's `enabled` flag and returns
        // its previous value; the `Python` token proves we hold the GIL it requires.
        let was_enabled = unsafe { pyo3::ffi::PyGC_Disable() } != 0;
        GcPause {
            _gil: py,
            was_enabled,
        }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if self.was_enabled {
            // SAFETY: the pause holds the `Python<'py>` token it was made with, so the GIL
            // is still held here.
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}
