//! The request a caller is awaiting: aiopg's one-waiter rule and the request timeout.
//!
//! aiopg refuses a second coroutine while one waits on the connection, and times a
//! request out after `timeout` seconds. Both run on every query, so they live here
//! rather than in a Python coroutine. The deadline is not a loop timer (a pending
//! timer slows every iteration of asyncio's default loop) but a
//! `ferropg_core::deadline::Deadline`: its thread writes a byte to the connection's
//! alarm socket, which the loop watches like the server socket.

use ferropg_core::deadline::Deadline;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

struct Awaited {
    /// The caller's name for the request, e.g. "cursor.execute".
    what: Py<PyString>,
    /// None while the caller waits for an earlier cancellation to finish before sending.
    future: Option<PyObject>,
    deadline: Option<Instant>,
}

impl Awaited {
    /// Nobody awaits a future that is done: its caller was cancelled.
    fn abandoned(&self, py: Python<'_>) -> PyResult<bool> {
        match &self.future {
            Some(future) => future.bind(py).call_method0(intern!(py, "done"))?.is_truthy(),
            None => Ok(false),
        }
    }
}

/// A registered deadline and the socket its thread rings once it has passed.
struct Alarm {
    deadline: Deadline,
    /// Readable once the deadline has passed (the loop calls `Connection._on_alarm`).
    socket: UnixStream,
}

pub(crate) struct InFlight {
    awaited: Option<Awaited>,
    /// None once the connection is closed: its descriptors go with it.
    alarm: Option<Alarm>,
    last_used: Instant,
}

impl InFlight {
    pub(crate) fn new() -> std::io::Result<Self> {
        let (alarm, ring) = UnixStream::pair()?;
        alarm.set_nonblocking(true)?;
        ring.set_nonblocking(true)?;
        // socket2's send passes MSG_NOSIGNAL: a ring after the connection closed the
        // alarm end fails quietly instead of raising SIGPIPE.
        let ring = socket2::Socket::from(ring);
        // A full alarm socket already holds a wake-up: dropping this one loses nothing.
        let deadline = Deadline::new(move || {
            let _ = ring.send(&[1]);
        })?;
        Ok(InFlight {
            awaited: None,
            alarm: Some(Alarm {
                deadline,
                socket: alarm,
            }),
            last_used: Instant::now(),
        })
    }

    /// The descriptor the loop watches for `Connection._on_alarm` (None once closed).
    pub(crate) fn alarm_fd(&self) -> Option<RawFd> {
        self.alarm.as_ref().map(|a| a.socket.as_raw_fd())
    }

    fn set_deadline(&self, at: Option<Instant>) {
        if let Some(alarm) = &self.alarm {
            match at {
                Some(at) => alarm.deadline.set(at),
                None => alarm.deadline.clear(),
            }
        }
    }

    /// Take the connection for `what`, or refuse as aiopg does while another caller waits.
    pub(crate) fn claim(&mut self, py: Python<'_>, what: &Bound<'_, PyString>) -> PyResult<()> {
        if let Some(current) = &self.awaited {
            if !current.abandoned(py)? {
                return Err(PyRuntimeError::new_err(format!(
                    "{what}() called while another coroutine is already waiting for incoming data ({}())",
                    current.what.bind(py)
                )));
            }
        }
        self.awaited = Some(Awaited {
            what: what.clone().unbind(),
            future: None,
            deadline: None,
        });
        self.last_used = Instant::now();
        Ok(())
    }

    /// Give back a claim whose request was never sent.
    pub(crate) fn release(&mut self) {
        if matches!(self.awaited, Some(Awaited { future: None, .. })) {
            self.awaited = None;
        }
    }

    /// The claimed request was sent and `future` waits for it, for at most `timeout`.
    pub(crate) fn sent(&mut self, py: Python<'_>, future: &PyObject, timeout: Option<Duration>) {
        let Some(awaited) = self.awaited.as_mut() else {
            return;
        };
        awaited.future = Some(future.clone_ref(py));
        // A deadline past what Instant can hold is no deadline at all.
        awaited.deadline = timeout.and_then(|t| self.last_used.checked_add(t));
        let at = awaited.deadline;
        self.set_deadline(at);
    }

    /// The result for `future` was delivered: the connection is free again.
    pub(crate) fn settled(&mut self, future: &PyObject) {
        if let Some(Awaited { future: Some(f), .. }) = &self.awaited {
            if f.is(future) {
                self.awaited = None;
                self.set_deadline(None);
            }
        }
    }

    /// The alarm rang: the future to fail with TimeoutError, if the awaited request is
    /// past its deadline (the alarm may be late, for a request already done).
    pub(crate) fn expired(&mut self) -> Option<PyObject> {
        let mut drain = [0u8; 64];
        if let Some(alarm) = &self.alarm {
            while matches!((&alarm.socket).read(&mut drain), Ok(n) if n > 0) {}
        }
        let deadline = self.awaited.as_ref().and_then(|a| a.deadline)?;
        if Instant::now() < deadline {
            self.set_deadline(Some(deadline)); // rang for an earlier request's deadline
            return None;
        }
        self.awaited.take().and_then(|a| a.future)
    }

    /// The connection was lost or closed: nobody waits any more, and the alarm (its
    /// deadline registration and both descriptors) is released.
    pub(crate) fn close(&mut self) {
        self.awaited = None;
        self.alarm = None;
    }

    /// The caller's name for the request being awaited, if any.
    pub(crate) fn current<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        match &self.awaited {
            Some(a) if !a.abandoned(py)? => Ok(Some(a.what.bind(py).clone())),
            _ => Ok(None),
        }
    }

    pub(crate) fn touch(&mut self) {
        self.last_used = Instant::now();
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_used.elapsed()
    }
}

/// A request timeout in seconds as a Duration: None for none (or one too long to
/// matter), zero for a negative one (asyncio times those out at once).
pub(crate) fn timeout_duration(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_nan() => Err(PyValueError::new_err(
            "timeout must be a number of seconds, got nan",
        )),
        Some(s) if s <= 0.0 => Ok(Some(Duration::ZERO)),
        Some(s) => Ok(Duration::try_from_secs_f64(s).ok()),
    }
}
