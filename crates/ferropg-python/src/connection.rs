//! The native connection: a socket driven by the caller's asyncio loop.
//!
//! `loop.add_reader` is registered once for the connection's life; `add_writer` only
//! while the kernel has not taken a whole request. On readable, Rust reads the socket,
//! runs the protocol session, decodes rows into Python tuples and completes the
//! waiting futures. Requests are pipelined: each owes one ReadyForQuery, and the
//! collector at the head of the queue receives the responses.

use crate::codecs::TypeRegistry;
use crate::conninfo::ConnParams;
use crate::errors;
use crate::gc_pause::GcPause;
use crate::in_flight::{timeout_duration, InFlight};
use crate::results::{Collect, Collector, QueryResult, Reply};
use crate::statements::StatementCache;
use crate::tls;
use crate::transport::Transport;
use bytes::{Buf, BytesMut};
use ferropg_core::conninfo::Host;
use ferropg_core::protocol::{
    encode_cancel_request, Credentials, ErrorFields, Event, Message, ProtocolError, Session,
    TransactionStatus,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{IntoPyDict, PyBytes, PyList, PyString, PyTuple};
use socket2::Socket;
use std::collections::{HashMap, VecDeque};
use std::os::fd::{FromRawFd, RawFd};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the one-byte answer to SSLRequest.
    SslResponse,
    /// Startup and authentication.
    Startup,
    /// Looking up the hstore type oids before handing the connection out.
    TypeLookup,
    Ready,
    Closed,
}

/// A request in flight and the future waiting for it.
struct Pending {
    future: Option<PyObject>,
    collector: Collector,
    /// The internal hstore lookup rather than a user request.
    type_lookup: bool,
}

/// Python work to run once the connection is no longer borrowed (callbacks may
/// re-enter the connection).
#[derive(Default)]
struct Outbox {
    results: Vec<(PyObject, PyResult<PyObject>)>,
    calls: Vec<(PyObject, Py<PyTuple>)>,
}

impl Outbox {
    /// Resolves the futures, then makes the calls. `from_loop` carries the event loop when
    /// the loop itself called us (a reader callback): no task is running then, and a task
    /// waiting on one of these futures is woken here, after everything else this read
    /// produced is in place, instead of through `call_soon` and another pass of the loop.
    /// On asyncio's default loop that `call_soon` (a Python-level Handle) and the extra
    /// pass were 13k of the 47k instructions of a `SELECT 1`. Only a future's lone Task
    /// wakeup is run so; any other callback (gather, wait_for, shield, the caller's own)
    /// is left to the loop, as asyncio schedules it.
    ///
    /// Returns a KeyboardInterrupt or SystemExit raised in a woken task, which asyncio
    /// lets out of the loop; the tasks after it are then woken through the loop.
    fn deliver(self, py: Python<'_>, from_loop: Option<&PyObject>) -> PyResult<()> {
        let mut wakeups = Vec::new();
        for (future, outcome) in self.results {
            let fut = future.bind(py);
            if from_loop.is_some() {
                if let Some(waiter) = take_lone_task_waiter(fut) {
                    wakeups.push((waiter, future.clone_ref(py)));
                }
            }
            let r = match outcome {
                Ok(value) => fut.call_method1(intern!(py, "set_result"), (value,)),
                Err(err) => fut.call_method1(intern!(py, "set_exception"), (err.into_value(py),)),
            };
            // A future already done was cancelled or timed out: nobody waits for it, and
            // asking first would cost every request a call.
            if let Err(err) = r {
                let done = fut.call_method0(intern!(py, "done")).and_then(|d| d.is_truthy());
                if !matches!(done, Ok(true)) {
                    err.write_unraisable(py, Some(fut));
                }
            }
        }
        for (callback, args) in self.calls {
            if let Err(err) = callback.call1(py, args.bind(py)) {
                err.write_unraisable(py, Some(callback.bind(py)));
            }
        }
        let Some(event_loop) = from_loop else {
            return Ok(()); // no wakeups were taken
        };
        let mut escaping = None;
        for ((wakeup, context), fut) in wakeups {
            let fut = fut.bind(py);
            let woken = if escaping.is_none() {
                context.call_method1(intern!(py, "run"), (wakeup, fut))
            } else {
                [(intern!(py, "context"), context)]
                    .into_py_dict(py)
                    .and_then(|kwargs| {
                        event_loop.bind(py).call_method(
                            intern!(py, "call_soon"),
                            (wakeup, fut),
                            Some(&kwargs),
                        )
                    })
            };
            match woken {
                Err(err)
                    if escaping.is_none()
                        && (err.is_instance_of::<PyKeyboardInterrupt>(py)
                            || err.is_instance_of::<PySystemExit>(py)) =>
                {
                    escaping = Some(err)
                }
                Err(err) => err.write_unraisable(py, Some(fut)),
                Ok(_) => {}
            }
        }
        escaping.map_or(Ok(()), Err)
    }
}

/// When the future's only done-callback is an asyncio Task's wakeup: removes it and
/// returns it with its context, for the caller to run once the future is resolved.
fn take_lone_task_waiter<'py>(fut: &Bound<'py, PyAny>) -> Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let py = fut.py();
    // asyncio's Future: None, or a list of (callback, context)
    let callbacks = fut.getattr(intern!(py, "_callbacks")).ok()?;
    let callbacks = callbacks.downcast::<PyList>().ok()?;
    if callbacks.len() != 1 {
        return None;
    }
    let (wakeup, context): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
        callbacks.get_item(0).ok()?.extract().ok()?;
    let task = wakeup.getattr(intern!(py, "__self__")).ok()?;
    let task_type = TASK_TYPE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("Task")?.unbind())
        })
        .ok()?;
    if !task.is_instance(task_type.bind(py)).ok()? {
        return None;
    }
    fut.call_method1(intern!(py, "remove_done_callback"), (&wakeup,))
        .ok()?;
    Some((wakeup, context))
}

/// `asyncio.Future` when `event_loop.create_future` is asyncio's `BaseEventLoop.create_future`,
/// which does nothing but call it; None for a loop with its own (uvloop, or a subclass
/// that returns something else), whose method is called instead.
fn asyncio_future_type(py: Python<'_>, event_loop: &PyObject) -> PyResult<Option<PyObject>> {
    let name = intern!(py, "create_future");
    let base = py
        .import("asyncio.base_events")?
        .getattr("BaseEventLoop")?
        .getattr(name)?;
    let own = event_loop.bind(py).get_type().getattr(name)?;
    Ok(own
        .is(&base)
        .then(|| py.import("asyncio").and_then(|m| m.getattr("Future")))
        .transpose()?
        .map(Bound::unbind))
}

/// `asyncio.Task`, looked up once.
static TASK_TYPE: GILOnceCell<PyObject> = GILOnceCell::new();

#[pyclass(module = "ferropg._native")]
pub struct Connection {
    transport: Option<Transport>,
    fd: RawFd,
    event_loop: PyObject,
    /// `asyncio.Future`, when the loop's `create_future` is asyncio's own (which only
    /// calls it): calling it directly skips a Python frame per request.
    future_type: Option<PyObject>,
    session: Session,
    input: BytesMut,
    phase: Phase,
    /// add_writer is registered.
    writing: bool,
    /// The bound `_on_writable` handed to add_writer, set once startup() registered the
    /// readers (the loop keeps `_on_readable` and `_on_alarm`).
    on_writable: Option<PyObject>,
    pending: VecDeque<Pending>,
    /// The request a caller awaits, with its deadline.
    in_flight: InFlight,
    registry: TypeRegistry,
    statements: StatementCache,
    parameters: HashMap<String, String>,
    startup_waiter: Option<PyObject>,
    idle_waiters: Vec<PyObject>,
    on_notice: Option<PyObject>,
    on_notify: Option<PyObject>,
    on_lost: Option<PyObject>,
    /// Called when a request times out, to cancel it on the server.
    on_timeout: Option<PyObject>,
    /// A FATAL error the server sent before closing, raised instead of a bare EOF.
    fatal: Option<ErrorFields>,
    /// A LISTEN / DECLARE CURSOR ran since `clear_session_marks()`.
    listened: bool,
    declared: bool,
    sslmode: String,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
    host: String,
    enable_hstore: bool,
}

impl Connection {
    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        let Some(transport) = self.transport.as_mut() else {
            return Ok(());
        };
        let done = transport
            .send(self.session.output())
            .map_err(|e| errors::operational_error(py, format!("could not send data to server: {e}")))?;
        if done == self.writing {
            let Some(on_writable) = self.on_writable.as_ref() else {
                return Err(errors::interface_error(py, "the connection was not started"));
            };
            if done {
                self.event_loop.call_method1(py, "remove_writer", (self.fd,))?;
            } else {
                self.event_loop
                    .call_method1(py, "add_writer", (self.fd, on_writable.clone_ref(py)))?;
            }
            self.writing = !done;
        }
        Ok(())
    }

    fn on_readable(&mut self, py: Python<'_>, out: &mut Outbox) -> PyResult<()> {
        let Some(transport) = self.transport.as_mut() else {
            return Ok(());
        };
        if self.phase == Phase::SslResponse {
            return self.on_ssl_response(py);
        }
        match transport.recv(&mut self.input) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(self.connection_lost_error(py));
            }
            Err(e) => {
                return Err(errors::operational_error(
                    py,
                    format!("could not receive data from server: {e}"),
                ))
            }
        }
        if transport.wants_write() {
            self.flush(py)?;
        }
        let mut gc_pause = None;
        loop {
            // The rows of a result, read in place: no Message, no session step per row.
            if let Some(n) = self.session.data_row_len(&self.input) {
                if let Some(head) = self.pending.front_mut().filter(|p| p.collector.takes_rows()) {
                    gc_pause.get_or_insert_with(|| GcPause::new(py));
                    head.collector.on_data_row(py, &self.registry, &self.input[5..n]);
                    self.input.advance(n);
                    continue;
                }
            }
            gc_pause = None; // the rows end here: what follows may run the caller's code
            let event = self
                .session
                .next_event(&mut self.input)
                .map_err(|e| self.protocol_failure(py, e))?;
            let Some(event) = event else { break };
            self.dispatch(py, event, out)?;
        }
        self.flush(py)
    }

    fn on_ssl_response(&mut self, py: Python<'_>) -> PyResult<()> {
        let Some(transport) = self.transport.as_mut() else {
            return Ok(());
        };
        let answer = transport.recv_byte().map_err(|e| {
            errors::operational_error(py, format!("could not receive SSL negotiation response: {e}"))
        })?;
        match answer {
            None => return Ok(()),
            Some(b'S') => {
                let settings = tls::TlsSettings {
                    sslmode: &self.sslmode,
                    sslrootcert: self.sslrootcert.as_deref(),
                    sslcert: self.sslcert.as_deref(),
                    sslkey: self.sslkey.as_deref(),
                    host: &self.host,
                };
                let tls = tls::client_connection(&settings).map_err(|m| errors::operational_error(py, m))?;
                self.transport = self.transport.take().map(|plain| plain.start_tls(tls));
            }
            Some(b'N') if matches!(self.sslmode.as_str(), "require" | "verify-ca" | "verify-full") => {
                return Err(errors::operational_error(
                    py,
                    "server does not support SSL, but SSL was required",
                ));
            }
            Some(b'N') => {}
            Some(other) => {
                return Err(errors::operational_error(
                    py,
                    format!(
                        "received invalid response to SSL negotiation: {:?}",
                        other as char
                    ),
                ))
            }
        }
        self.phase = Phase::Startup;
        self.flush(py)
    }

    fn dispatch(&mut self, py: Python<'_>, event: Event, out: &mut Outbox) -> PyResult<()> {
        match event {
            Event::Response(message) => {
                if let Message::CommandComplete(body) = &message {
                    self.note_session_state(body.tag().unwrap_or(""));
                }
                // A FATAL answer (pg_terminate_backend mid-query) comes right before EOF:
                // keep it so the loss is raised as that error, not a bare "server closed".
                if let Message::ErrorResponse(body) = &message {
                    if let Ok(fields) = ErrorFields::from_wire(body.fields()) {
                        if matches!(fields.severity(), "FATAL" | "PANIC") {
                            self.fatal = Some(fields);
                        }
                    }
                }
                let head = self.pending.front_mut().ok_or_else(|| {
                    errors::interface_error(py, "malformed server data: a response with no request in flight")
                })?;
                if let Reply::CopyFail = head.collector.on_message(py, &self.registry, message) {
                    self.session
                        .write_copy_fail("COPY FROM STDIN is not supported by this API")
                        .map_err(|e| errors::protocol_error(py, &e))?;
                }
            }
            Event::ReadyForQuery(_) => {
                let done = self.pending.pop_front().ok_or_else(|| {
                    errors::interface_error(
                        py,
                        "malformed server data: ReadyForQuery with no request in flight",
                    )
                })?;
                // A named statement the server lost or invalidated: nothing ran, so run it
                // again, unless other requests are queued behind it or a transaction is
                // open (the failed Bind aborted it).
                let idle = self.session.transaction_status() == TransactionStatus::Idle;
                if let (Some(why), true, true) = (done.collector.retry(), idle, self.pending.is_empty()) {
                    let (sql, params, slot) = done.collector.into_retry_parts();
                    let route = self.statements.retry(why, sql, params, slot);
                    match self.statements.write(py, &mut self.session, route) {
                        Ok(collector) => self.pending.push_back(Pending {
                            future: done.future,
                            collector,
                            type_lookup: false,
                        }),
                        Err(err) => {
                            if let Some(future) = done.future {
                                self.in_flight.settled(&future);
                                out.results.push((future, Err(err)));
                            }
                        }
                    }
                    return Ok(());
                }
                let outcome = done.collector.finish(py);
                if done.type_lookup {
                    self.finish_type_lookup(py, outcome, out)?;
                } else if let Some(future) = done.future {
                    self.in_flight.settled(&future);
                    let value = outcome.and_then(|r| Py::new(py, r).map(|r| r.into_any()));
                    out.results.push((future, value));
                }
                if self.pending.is_empty() {
                    for waiter in self.idle_waiters.drain(..) {
                        out.results.push((waiter, Ok(py.None())));
                    }
                }
            }
            Event::Connected => {
                if self.enable_hstore {
                    self.start_type_lookup(py)?;
                } else {
                    self.become_ready(py, out);
                }
            }
            Event::ParameterStatus { name, value } => {
                self.registry.on_parameter_status(py, &name, &value)?;
                match name.as_str() {
                    "standard_conforming_strings" => {
                        self.statements.set_standard_conforming_strings(value == "on")
                    }
                    "TimeZone" => self.statements.forget_shapes(),
                    _ => {}
                }
                self.parameters.insert(name, value);
            }
            Event::Notice(fields) => {
                if let Some(cb) = &self.on_notice {
                    let text = format!(
                        "{}:  {}\n",
                        fields.get(b'S').unwrap_or("NOTICE"),
                        fields.message()
                    );
                    out.calls
                        .push((cb.clone_ref(py), PyTuple::new(py, [text])?.unbind()));
                }
            }
            Event::Notification {
                pid,
                channel,
                payload,
            } => {
                if let Some(cb) = &self.on_notify {
                    let args = (pid, channel, payload).into_pyobject(py)?.unbind();
                    out.calls.push((cb.clone_ref(py), args));
                }
            }
            Event::UnsolicitedError(fields) => self.fatal = Some(fields),
        }
        Ok(())
    }

    /// Remember what outlives a statement in the session, for a pool to undo on release.
    fn note_session_state(&mut self, tag: &str) {
        match tag {
            "LISTEN" => self.listened = true,
            "DECLARE CURSOR" => self.declared = true,
            _ => {}
        }
    }

    fn start_type_lookup(&mut self, py: Python<'_>) -> PyResult<()> {
        self.phase = Phase::TypeLookup;
        // Phase::Ready is what the session checks; the Python face still waits.
        let sql = "SELECT t.oid, t.typarray FROM pg_type t WHERE t.typname = 'hstore' ORDER BY t.oid LIMIT 1";
        self.session
            .write_query(sql)
            .map_err(|e| errors::protocol_error(py, &e))?;
        self.pending.push_back(Pending {
            future: None,
            collector: Collector::new(Collect::Rows { slot: None }, sql.to_owned()),
            type_lookup: true,
        });
        Ok(())
    }

    fn finish_type_lookup(
        &mut self,
        py: Python<'_>,
        outcome: PyResult<QueryResult>,
        out: &mut Outbox,
    ) -> PyResult<()> {
        let result = outcome?;
        let rows = result.take_rows(py);
        if let Ok(row) = rows.bind(py).get_item(0) {
            let (oid, array_oid): (u32, u32) = row.extract()?;
            self.registry.set_hstore_oids(oid, array_oid);
        }
        self.become_ready(py, out);
        Ok(())
    }

    fn become_ready(&mut self, py: Python<'_>, out: &mut Outbox) {
        self.phase = Phase::Ready;
        if let Some(waiter) = self.startup_waiter.take() {
            out.results.push((waiter, Ok(py.None())));
        }
    }

    fn connection_lost_error(&mut self, py: Python<'_>) -> PyErr {
        match self.fatal.take() {
            Some(fields) => errors::server_error(py, &fields, None),
            None => errors::operational_error(py, errors::SERVER_CLOSED),
        }
    }

    fn protocol_failure(&mut self, py: Python<'_>, err: ProtocolError) -> PyErr {
        match err {
            // A startup failure is the server's verdict, not a broken stream.
            ProtocolError::Server(_) | ProtocolError::Authentication(_) => errors::protocol_error(py, &err),
            other => errors::interface_error(py, format!("{other}; the connection is closed")),
        }
    }

    /// Tear down after a failure: every waiter gets `err`, the lost callback too.
    fn lose(&mut self, py: Python<'_>, err: PyErr, out: &mut Outbox) {
        self.shutdown(py);
        if let Some(waiter) = self.startup_waiter.take() {
            out.results.push((waiter, Err(err.clone_ref(py))));
        }
        for pending in self.pending.drain(..) {
            if let Some(future) = pending.future {
                out.results.push((future, Err(err.clone_ref(py))));
            }
        }
        for waiter in self.idle_waiters.drain(..) {
            out.results.push((waiter, Ok(py.None())));
        }
        if let Some(cb) = self.on_lost.take() {
            if let Ok(args) = PyTuple::new(py, [err.into_value(py)]) {
                out.calls.push((cb, args.unbind()));
            }
        }
    }

    /// Unregister from the loop and close the socket (idempotent).
    fn shutdown(&mut self, py: Python<'_>) {
        if self.phase == Phase::Closed && self.transport.is_none() {
            return;
        }
        self.phase = Phase::Closed;
        if self.transport.is_some() {
            if self.on_writable.is_some() {
                let _ = self.event_loop.call_method1(py, "remove_reader", (self.fd,));
                if let Some(alarm) = self.in_flight.alarm_fd() {
                    let _ = self.event_loop.call_method1(py, "remove_reader", (alarm,));
                }
                if self.writing {
                    let _ = self.event_loop.call_method1(py, "remove_writer", (self.fd,));
                }
            }
            self.writing = false;
            self.transport = None; // closes the socket
        }
        self.in_flight.close();
        self.on_writable = None; // breaks the connection <-> bound method cycle
    }

    fn new_future(&self, py: Python<'_>) -> PyResult<PyObject> {
        match &self.future_type {
            Some(future) => {
                let kwargs = [(intern!(py, "loop"), self.event_loop.bind(py))].into_py_dict(py)?;
                Ok(future.bind(py).call((), Some(&kwargs))?.unbind())
            }
            None => self.event_loop.call_method0(py, intern!(py, "create_future")),
        }
    }

    fn check_ready(&self, py: Python<'_>) -> PyResult<()> {
        match self.phase {
            Phase::Ready => Ok(()),
            Phase::Closed => Err(errors::interface_error(py, "connection already closed")),
            _ => Err(errors::interface_error(
                py,
                "the connection is still being established",
            )),
        }
    }

    /// Send a caller's request as `what`, refusing it while another caller waits, and
    /// time it out after `timeout` seconds. Without `what` it is the library's own
    /// housekeeping (a named cursor's CLOSE, the target_session_attrs checks), sent
    /// whoever waits.
    fn guarded(
        &mut self,
        py: Python<'_>,
        what: Option<&Bound<'_, PyString>>,
        timeout: Option<f64>,
        send: impl FnOnce(&mut Self) -> PyResult<Collector>,
    ) -> PyResult<PyObject> {
        if let (Phase::Closed, Some(what)) = (self.phase, what) {
            // psycopg2's words: its cursors report a closed connection as their own
            if what.to_str()?.starts_with("cursor.") {
                return Err(errors::interface_error(py, "cursor already closed"));
            }
        }
        self.check_ready(py)?;
        let timeout = timeout_duration(timeout)?;
        let Some(what) = what else {
            if timeout.is_some() {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "a timeout applies to a caller's request: name it with `what`",
                ));
            }
            let collector = send(self)?;
            return self.enqueue(py, collector);
        };
        self.in_flight.claim(py, what)?;
        let future = match send(self).and_then(|collector| self.enqueue(py, collector)) {
            Ok(future) => future,
            Err(err) => {
                self.in_flight.release();
                return Err(err);
            }
        };
        self.in_flight.sent(py, &future, timeout);
        Ok(future)
    }

    fn on_alarm(&mut self, py: Python<'_>, out: &mut Outbox) {
        if let Some(future) = self.in_flight.expired() {
            // the request still runs on the server: the Python side cancels it there
            if let Some(cb) = &self.on_timeout {
                out.calls.push((cb.clone_ref(py), PyTuple::empty(py).unbind()));
            }
            out.results
                .push((future, Err(pyo3::exceptions::asyncio::TimeoutError::new_err(()))));
        }
    }

    fn enqueue(&mut self, py: Python<'_>, collector: Collector) -> PyResult<PyObject> {
        let future = self.new_future(py)?;
        self.pending.push_back(Pending {
            future: Some(future.clone_ref(py)),
            collector,
            type_lookup: false,
        });
        self.flush(py)?;
        Ok(future)
    }

    /// Run `f` with the connection borrowed, then deliver results and callbacks. Fails
    /// with RuntimeError, as pyo3's own methods do, when the connection is already
    /// borrowed: Python code the engine runs (a finalizer during a collection, say)
    /// called back into this connection.
    fn drive(
        slf: &Bound<'_, Self>,
        f: impl FnOnce(&mut Self, Python<'_>, &mut Outbox) -> PyResult<()>,
    ) -> PyResult<()> {
        Self::drive_from(slf, false, f)
    }

    /// `drive` for the event loop's own callbacks, which may wake tasks in place (see
    /// `Outbox::deliver`).
    fn drive_from(
        slf: &Bound<'_, Self>,
        from_loop: bool,
        f: impl FnOnce(&mut Self, Python<'_>, &mut Outbox) -> PyResult<()>,
    ) -> PyResult<()> {
        let py = slf.py();
        let mut out = Outbox::default();
        let event_loop = {
            let mut this = slf.try_borrow_mut()?;
            if let Err(err) = f(&mut this, py, &mut out) {
                this.lose(py, err, &mut out);
            }
            from_loop.then(|| this.event_loop.clone_ref(py))
        };
        out.deliver(py, event_loop.as_ref())
    }
}

#[pymethods]
impl Connection {
    #[new]
    #[pyo3(signature = (fd, params, event_loop, *, host, port, enable_json=true, enable_hstore=true, enable_uuid=true, statement_cache_size=0, json_as_text=false, bytea_as_bytes=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        fd: RawFd,
        params: &ConnParams,
        event_loop: PyObject,
        host: String,
        port: u16,
        enable_json: bool,
        enable_hstore: bool,
        enable_uuid: bool,
        statement_cache_size: usize,
        json_as_text: bool,
        bytea_as_bytes: bool,
    ) -> PyResult<Self> {
        if fd < 0 {
            return Err(errors::interface_error(
                py,
                format!("invalid socket file descriptor {fd}"),
            ));
        }
        // SAFETY: the Python layer hands over a descriptor it obtained from
        // `socket.detach()`, so no Python object owns it any more; from here on this
        // Socket is its only owner and closes it exactly once, on drop.
        let sock = unsafe { Socket::from_raw_fd(fd) };
        sock.set_nonblocking(true).map_err(|e| {
            errors::operational_error(py, format!("could not make the socket non-blocking: {e}"))
        })?;
        let info = params.inner();
        let credentials = Credentials {
            user: info.user.clone(),
            password: info.password_for(&Host::new(&host, port)),
        };
        let startup: Vec<(String, String)> = info
            .startup_params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let session = Session::new(&startup, credentials).map_err(|e| errors::protocol_error(py, &e))?;
        Ok(Connection {
            transport: Some(Transport::Plain(sock)),
            fd,
            future_type: asyncio_future_type(py, &event_loop)?,
            event_loop,
            session,
            input: BytesMut::with_capacity(64 * 1024),
            phase: Phase::Startup,
            writing: false,
            on_writable: None,
            pending: VecDeque::new(),
            in_flight: InFlight::new().map_err(|e| {
                errors::operational_error(py, format!("could not set up request timeouts: {e}"))
            })?,
            registry: TypeRegistry::new(
                py,
                enable_json,
                enable_hstore,
                enable_uuid,
                json_as_text,
                bytea_as_bytes,
            )?,
            statements: StatementCache::new(statement_cache_size),
            parameters: HashMap::new(),
            startup_waiter: None,
            idle_waiters: Vec::new(),
            on_notice: None,
            on_notify: None,
            on_lost: None,
            on_timeout: None,
            fatal: None,
            listened: false,
            declared: false,
            sslmode: info.sslmode.as_str().to_owned(),
            sslrootcert: info.sslrootcert.clone(),
            sslcert: info.sslcert.clone(),
            sslkey: info.sslkey.clone(),
            enable_hstore,
            host,
        })
    }

    /// TLS negotiation, StartupMessage and authentication, up to the first ReadyForQuery.
    fn startup(slf: &Bound<'_, Self>) -> PyResult<PyObject> {
        let py = slf.py();
        let on_readable = slf.getattr("_on_readable")?.unbind();
        let on_writable = slf.getattr("_on_writable")?.unbind();
        let on_alarm = slf.getattr("_on_alarm")?.unbind();
        let mut this = slf.try_borrow_mut()?;
        if this.on_writable.is_some() || this.phase != Phase::Startup {
            return Err(errors::interface_error(py, "startup() was already called"));
        }
        let future = this.new_future(py)?;
        this.startup_waiter = Some(future.clone_ref(py));
        let fd = this.fd;
        this.event_loop
            .call_method1(py, "add_reader", (fd, on_readable))?;
        this.on_writable = Some(on_writable); // from here shutdown() removes both readers
        if let Some(alarm) = this.in_flight.alarm_fd() {
            this.event_loop
                .call_method1(py, "add_reader", (alarm, on_alarm))?;
        }
        // libpq negotiates TLS on TCP only; unix sockets are local.
        let tcp = !this.host.starts_with('/');
        if tcp && !matches!(this.sslmode.as_str(), "disable" | "allow") {
            let mut request = BytesMut::new();
            postgres_protocol::message::frontend::ssl_request(&mut request);
            let sent = this.transport.as_mut().map(|t| t.send(&mut request));
            match sent {
                Some(Ok(true)) => this.phase = Phase::SslResponse,
                Some(Ok(false)) => {
                    return Err(errors::operational_error(
                        py,
                        "could not send SSL negotiation packet: socket full",
                    ))
                }
                Some(Err(e)) => {
                    return Err(errors::operational_error(
                        py,
                        format!("could not send SSL negotiation packet: {e}"),
                    ))
                }
                None => return Err(errors::interface_error(py, "connection already closed")),
            }
        } else {
            this.flush(py)?;
        }
        Ok(future)
    }

    fn _on_readable(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::drive_from(slf, true, |this, py, out| this.on_readable(py, out))
    }

    fn _on_writable(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::drive(slf, |this, py, _| this.flush(py))
    }

    fn _on_alarm(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::drive(slf, |this, py, out| {
            this.on_alarm(py, out);
            Ok(())
        })
    }

    /// Run one execute(): server-bound when the statement accepts parameters, literal
    /// otherwise. `what` names the caller (see `guarded`).
    #[pyo3(signature = (sql, params=None, timeout=None, what=None))]
    fn execute(
        &mut self,
        py: Python<'_>,
        sql: &str,
        params: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
        what: Option<&Bound<'_, PyString>>,
    ) -> PyResult<PyObject> {
        let params = params.filter(|p| !p.is_none());
        self.guarded(py, what, timeout, |this| {
            let route = this.statements.route(py, &this.registry, sql, params)?;
            this.statements.write(py, &mut this.session, route)
        })
    }

    /// All parameter sets pipelined in one round trip; rowcount is the sum.
    #[pyo3(signature = (sql, seq_of_params, timeout=None, what=None))]
    fn execute_many(
        &mut self,
        py: Python<'_>,
        sql: &str,
        seq_of_params: &Bound<'_, PyAny>,
        timeout: Option<f64>,
        what: Option<&Bound<'_, PyString>>,
    ) -> PyResult<PyObject> {
        self.guarded(py, what, timeout, |this| {
            this.statements
                .write_many(py, &this.registry, &mut this.session, sql, seq_of_params)
        })
    }

    /// Hold the connection for `what` while it waits for earlier work (a cancelled
    /// request's cleanup) before sending; RuntimeError if another caller waits on it.
    fn claim(&mut self, py: Python<'_>, what: &Bound<'_, PyString>) -> PyResult<()> {
        self.in_flight.claim(py, what)
    }

    /// Give back a claim without sending anything.
    fn release(&mut self) {
        self.in_flight.release();
    }

    /// What a caller is waiting for (its name, e.g. "cursor.execute"), or None.
    #[getter]
    fn in_flight<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.in_flight.current(py)
    }

    /// Seconds since the last request or `touch()`.
    #[getter]
    fn idle_seconds(&self) -> f64 {
        self.in_flight.idle_for().as_secs_f64()
    }

    /// Count as used now (aiopg counts making a cursor as use).
    fn touch(&mut self) {
        self.in_flight.touch();
    }

    /// The statement with its parameters as psycopg2 literals.
    #[pyo3(signature = (sql, params=None))]
    fn mogrify<'py>(
        &mut self,
        py: Python<'py>,
        sql: &str,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let params = params.filter(|p| !p.is_none());
        let text = match params {
            None => sql.to_owned(),
            Some(p) => self.statements.literal_sql(py, &self.registry, sql, p)?,
        };
        Ok(PyBytes::new(py, text.as_bytes()))
    }

    /// Done once no request is in flight.
    fn wait_idle(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let future = self.new_future(py)?;
        if self.pending.is_empty() {
            future.call_method1(py, "set_result", (py.None(),))?;
        } else {
            self.idle_waiters.push(future.clone_ref(py));
        }
        Ok(future)
    }

    /// The 16-byte CancelRequest for this session, to send on a side connection.
    fn cancel_request<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let (pid, secret) = self
            .session
            .backend_key()
            .ok_or_else(|| errors::interface_error(py, "the server sent no cancellation key"))?;
        Ok(PyBytes::new(py, &encode_cancel_request(pid, secret)))
    }

    #[pyo3(signature = (on_notice, on_notify, on_lost, on_timeout=None))]
    fn set_callbacks(
        &mut self,
        on_notice: Option<PyObject>,
        on_notify: Option<PyObject>,
        on_lost: Option<PyObject>,
        on_timeout: Option<PyObject>,
    ) {
        self.on_notice = on_notice;
        self.on_notify = on_notify;
        self.on_lost = on_lost;
        self.on_timeout = on_timeout;
    }

    fn parameter_status(&self, name: &str) -> Option<String> {
        self.parameters.get(name).cloned()
    }

    /// Send Terminate, close the socket, fail what is in flight with InterfaceError.
    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::drive(slf, |this, py, out| {
            if this.phase == Phase::Closed {
                return Ok(());
            }
            this.session.terminate();
            if let Some(t) = this.transport.as_mut() {
                let _ = t.send(this.session.output()); // best effort: the server also copes with EOF
            }
            this.on_lost = None;
            this.lose(py, errors::interface_error(py, "connection already closed"), out);
            Ok(())
        })
    }

    /// A LISTEN ran since the marks were last cleared (a pool then sends UNLISTEN *).
    #[getter]
    fn listened(&self) -> bool {
        self.listened
    }

    /// A DECLARE CURSOR ran since the marks were last cleared (a pool then sends CLOSE ALL).
    #[getter]
    fn declared(&self) -> bool {
        self.declared
    }

    fn clear_session_marks(&mut self) {
        self.listened = false;
        self.declared = false;
    }

    #[getter]
    fn closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    #[getter]
    fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    #[getter]
    fn backend_pid(&self) -> i32 {
        self.session.backend_key().map_or(0, |(pid, _)| pid)
    }

    /// psycopg2's integer form: 150004 for 15.4, 90624 for 9.6.24.
    #[getter]
    fn server_version(&self) -> i64 {
        self.parameters
            .get("server_version")
            .map_or(0, |v| server_version_number(v))
    }

    #[getter]
    fn protocol_version(&self) -> i32 {
        3
    }

    /// psycopg2's TRANSACTION_STATUS_*: IDLE 0, ACTIVE 1, INTRANS 2, INERROR 3, UNKNOWN 4.
    #[getter]
    fn transaction_status(&self) -> i32 {
        if self.phase == Phase::Closed {
            4
        } else if !self.pending.is_empty() {
            1
        } else {
            match self.session.transaction_status() {
                TransactionStatus::Idle => 0,
                TransactionStatus::InTransaction => 2,
                TransactionStatus::InError => 3,
            }
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<ferropg._native.Connection host={:?} phase={:?}>",
            self.host, self.phase
        )
    }
}

fn server_version_number(version: &str) -> i64 {
    let numeric: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<i64> = numeric.split('.').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [major, minor, ..] if *major >= 10 => major * 10000 + minor,
        [major] if *major >= 10 => major * 10000,
        [major, minor, patch, ..] => major * 10000 + minor * 100 + patch,
        [major, minor] => major * 10000 + minor * 100,
        _ => 0,
    }
}
