//! Collecting one request's responses into a Python result.
//!
//! A request (one execute) owes exactly one ReadyForQuery. Until it arrives, the
//! collector at the head of the connection's queue receives every response message,
//! decodes rows straight into Python tuples and remembers the first error.

use crate::codecs::{column_sizes, Decoder, EncodedParams, TypeRegistry};
use crate::errors;
use crate::statements::{Prepared, Retry};
use fallible_iterator::FallibleIterator;
use ferropg_core::protocol::{parse_command_tag, DataRow, ErrorFields, Message, RowDescriptionBody};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// The outcome of one execute(), as the Python cursor reads it.
#[pyclass(frozen, module = "ferropg._native", name = "Result")]
pub struct QueryResult {
    /// None once `take_rows()` handed them over.
    rows: Mutex<Option<Py<PyList>>>,
    /// ((name, type_code, internal_size, precision, scale), ...) or None.
    #[pyo3(get)]
    pub description: PyObject,
    #[pyo3(get)]
    pub rowcount: i64,
    #[pyo3(get)]
    pub statusmessage: Option<String>,
    #[pyo3(get)]
    pub lastrowid: u32,
}

#[pymethods]
impl QueryResult {
    /// The rows (an empty list once taken).
    #[getter]
    fn rows(&self, py: Python<'_>) -> Py<PyList> {
        match &*self.rows.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(rows) => rows.clone_ref(py),
            None => PyList::empty(py).unbind(),
        }
    }

    /// The rows, no longer held here: a cursor keeps the Result for rowcount and the
    /// like, and the rows must die with the cursor's buffer, not with the Result.
    pub fn take_rows(&self, py: Python<'_>) -> Py<PyList> {
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| PyList::empty(py).unbind())
    }
}

/// One result column as the server described it.
#[derive(Clone, PartialEq, Eq)]
struct ColumnKey {
    name: String,
    oid: u32,
    type_size: i16,
    typmod: i32,
    format: i16,
}

/// The shape of a statement's rows: decoders and the Python description, built once
/// per distinct RowDescription and shared by every execution that matches it.
pub struct Shape {
    columns: Vec<ColumnKey>,
    decoders: Vec<Decoder>,
    description: PyObject,
    /// The result formats to ask for next time: binary where a binary decoder exists.
    next_formats: Vec<i16>,
}

impl Shape {
    fn build(py: Python<'_>, reg: &TypeRegistry, body: &RowDescriptionBody) -> PyResult<Shape> {
        let mut columns = Vec::new();
        let mut fields = body.fields();
        while let Some(f) = fields.next().map_err(|e| malformed(py, e))? {
            columns.push(ColumnKey {
                name: f.name().to_owned(),
                oid: f.type_oid(),
                type_size: f.type_size(),
                typmod: f.type_modifier(),
                format: f.format(),
            });
        }
        let decoders = columns
            .iter()
            .map(|c| reg.decoder(c.oid, c.format == 1))
            .collect();
        let items: Vec<PyObject> = columns
            .iter()
            .map(|c| {
                let (size, precision, scale) = column_sizes(c.oid, c.type_size, c.typmod);
                (c.name.as_str(), c.oid, size, precision, scale)
                    .into_pyobject(py)
                    .map(|t| t.into_any().unbind())
            })
            .collect::<PyResult<_>>()?;
        let description = PyTuple::new(py, items)?.into_any().unbind();
        let next_formats = columns
            .iter()
            .map(|c| i16::from(reg.has_binary_decoder(c.oid)))
            .collect();
        Ok(Shape {
            columns,
            decoders,
            description,
            next_formats,
        })
    }

    /// The same columns, decoded in the formats [`Shape::result_formats`] asks for:
    /// what a named statement's later executions receive without a RowDescription.
    fn binary_variant(&self, py: Python<'_>, reg: &TypeRegistry) -> Shape {
        let columns: Vec<ColumnKey> = self
            .columns
            .iter()
            .zip(&self.next_formats)
            .map(|(c, &format)| ColumnKey { format, ..c.clone() })
            .collect();
        let decoders = columns
            .iter()
            .map(|c| reg.decoder(c.oid, c.format == 1))
            .collect();
        Shape {
            columns,
            decoders,
            description: self.description.clone_ref(py),
            next_formats: self.next_formats.clone(),
        }
    }

    fn matches(&self, body: &RowDescriptionBody) -> bool {
        let mut fields = body.fields();
        for col in &self.columns {
            match fields.next() {
                Ok(Some(f))
                    if f.type_oid() == col.oid
                        && f.format() == col.format
                        && f.type_modifier() == col.typmod
                        && f.type_size() == col.type_size
                        && f.name() == col.name => {}
                _ => return false,
            }
        }
        matches!(fields.next(), Ok(None))
    }

    /// Result format codes for Bind, in their shortest form.
    pub fn result_formats(&self) -> Vec<i16> {
        if self.next_formats.iter().all(|&f| f == 0) {
            Vec::new()
        } else if self.next_formats.iter().all(|&f| f == 1) {
            vec![1]
        } else {
            self.next_formats.clone()
        }
    }
}

fn malformed(py: Python<'_>, e: impl std::fmt::Display) -> PyErr {
    errors::interface_error(py, format!("malformed server data: {e}"))
}

/// The last RowDescription seen for one SQL text.
#[derive(Default)]
pub struct ShapeSlot(Mutex<Option<Arc<Shape>>>);

impl ShapeSlot {
    pub fn get(&self) -> Option<Arc<Shape>> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
    pub fn set(&self, shape: Arc<Shape>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(shape);
        }
    }
}

/// What a request collects.
pub enum Collect {
    /// Rows of the last statement (a multi-statement simple query keeps the last one).
    Rows { slot: Option<Arc<ShapeSlot>> },
    /// executemany: only the summed row count.
    Count,
}

pub enum Failure {
    Server(ErrorFields),
    Python(PyErr),
}

pub struct Collector {
    kind: Collect,
    /// The SQL as sent, for error positions.
    pub query: String,
    shape: Option<Arc<Shape>>,
    rows: Vec<PyObject>,
    /// Scratch space for one row's values.
    values: Vec<PyObject>,
    rowcount: i64,
    statusmessage: Option<String>,
    lastrowid: u32,
    failure: Option<Failure>,
    /// The last statement completed and no RowDescription has come since.
    between_statements: bool,
    /// Set for executions of a named statement: what to record and what to retry with.
    named: Option<(Arc<Prepared>, Option<EncodedParams>)>,
}

/// What the connection must do after a message.
pub enum Reply {
    Nothing,
    /// The server wants COPY data we never offered: abort it.
    CopyFail,
}

impl Collector {
    pub fn new(kind: Collect, query: String) -> Self {
        Collector {
            kind,
            query,
            shape: None,
            rows: Vec::new(),
            values: Vec::new(),
            rowcount: -1,
            statusmessage: None,
            lastrowid: 0,
            failure: None,
            between_statements: true,
            named: None,
        }
    }

    /// Rows arrive without a RowDescription (a described named statement).
    pub fn with_shape(mut self, shape: Option<Arc<Shape>>) -> Self {
        self.between_statements = shape.is_none();
        self.shape = shape;
        self
    }

    pub fn for_named(mut self, prepared: Arc<Prepared>, params: Option<EncodedParams>) -> Self {
        self.named = Some((prepared, params));
        self
    }

    /// A named execution that failed before running, and may run again.
    pub fn retry(&self) -> Option<Retry> {
        self.named.as_ref()?;
        let Some(Failure::Server(fields)) = &self.failure else {
            return None;
        };
        match fields.sqlstate() {
            "26000" => Some(Retry::Unnamed),
            "0A000"
                if fields
                    .message()
                    .contains("cached plan must not change result type") =>
            {
                Some(Retry::Reprepare)
            }
            _ => None,
        }
    }

    /// The SQL, parameters and shape slot to run again with.
    pub fn into_retry_parts(self) -> (String, Option<EncodedParams>, Arc<ShapeSlot>) {
        let slot = match self.kind {
            Collect::Rows { slot: Some(slot) } => slot,
            _ => Arc::default(),
        };
        (self.query, self.named.and_then(|(_, params)| params), slot)
    }

    fn fail(&mut self, failure: Failure) {
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    pub fn on_message(&mut self, py: Python<'_>, reg: &TypeRegistry, message: Message) -> Reply {
        match message {
            Message::RowDescription(body) => {
                self.on_row_description(py, reg, &body);
                if let (Some((prepared, _)), Some(shape)) = (&self.named, &self.shape) {
                    prepared.shape.set(Arc::new(shape.binary_variant(py, reg)));
                    prepared.described.store(true, Ordering::Release);
                }
            }
            Message::NoData => {
                if let Some((prepared, _)) = &self.named {
                    prepared.described.store(true, Ordering::Release);
                }
            }
            // DataRows come through `on_data_row` while `takes_rows()`; any other is dropped.
            Message::CommandComplete(body) => {
                let tag = body.tag().unwrap_or("");
                let counts = parse_command_tag(tag);
                match self.kind {
                    Collect::Count => {
                        let n = counts.rows.map_or(0, |n| n as i64);
                        self.rowcount = self.rowcount.max(0) + n;
                    }
                    Collect::Rows { .. } => {
                        // A statement that sent no RowDescription returns no rows: the
                        // result is the last statement's (several in one simple Query).
                        if self.between_statements {
                            self.shape = None;
                            self.rows.clear();
                        }
                        self.between_statements = true;
                        // psycopg2 counts the rows of any row-returning command (SHOW,
                        // FETCH, RETURNING...); the tag's count serves the others.
                        self.rowcount = match (&self.shape, counts.rows) {
                            (Some(_), _) => self.rows.len() as i64,
                            (None, rows) => rows.map_or(-1, |n| n as i64),
                        };
                    }
                }
                self.lastrowid = counts.oid;
                self.statusmessage = Some(tag.to_owned());
            }
            Message::EmptyQueryResponse => {
                self.fail(Failure::Python(errors::programming_error(
                    py,
                    "can't execute an empty query",
                )));
            }
            Message::ErrorResponse(body) => {
                let fields = ErrorFields::from_wire(body.fields());
                match fields {
                    Ok(f) => self.fail(Failure::Server(f)),
                    Err(e) => self.fail(Failure::Python(errors::interface_error(py, e.to_string()))),
                }
            }
            Message::CopyInResponse(_) => {
                self.fail(Failure::Python(errors::programming_error(
                    py,
                    "can't execute COPY FROM STDIN: the aiopg API has no copy_from(); the COPY was aborted",
                )));
                return Reply::CopyFail;
            }
            Message::CopyOutResponse(_) => {
                self.fail(Failure::Python(errors::programming_error(
                    py,
                    "can't execute COPY TO STDOUT: the aiopg API has no copy_to(); the output was discarded",
                )));
            }
            // ParseComplete, BindComplete, CloseComplete, NoData, ParameterDescription,
            // PortalSuspended, CopyData, CopyDone: nothing to collect.
            _ => {}
        }
        Reply::Nothing
    }

    fn on_row_description(&mut self, py: Python<'_>, reg: &TypeRegistry, body: &RowDescriptionBody) {
        self.rows.clear();
        self.between_statements = false;
        let Collect::Rows { slot } = &self.kind else {
            return;
        };
        if let Some(cached) = slot.as_ref().and_then(|s| s.get()) {
            if cached.matches(body) {
                self.shape = Some(cached);
                return;
            }
        }
        match Shape::build(py, reg, body) {
            Ok(shape) => {
                let shape = Arc::new(shape);
                if let Some(slot) = slot {
                    slot.set(shape.clone());
                }
                self.shape = Some(shape);
            }
            Err(err) => self.fail(Failure::Python(err)),
        }
    }

    /// Whether the next DataRow is wanted (a row-returning request that has not failed).
    pub fn takes_rows(&self) -> bool {
        self.failure.is_none() && matches!(self.kind, Collect::Rows { .. })
    }

    /// One DataRow's body, read in place from the input buffer.
    pub fn on_data_row(&mut self, py: Python<'_>, reg: &TypeRegistry, body: &[u8]) {
        if let Err(err) = self.decode_row(py, reg, body) {
            self.fail(Failure::Python(err));
        }
    }

    fn decode_row(&mut self, py: Python<'_>, reg: &TypeRegistry, body: &[u8]) -> PyResult<()> {
        let Some(shape) = &self.shape else {
            return Err(malformed(py, "DataRow without RowDescription"));
        };
        let row = DataRow::parse(body).map_err(|e| malformed(py, e))?;
        if row.len() != shape.decoders.len() {
            return Err(malformed(
                py,
                format!(
                    "DataRow has {} columns, its RowDescription {}",
                    row.len(),
                    shape.decoders.len()
                ),
            ));
        }
        // One buffer for every row's values: no allocation per row.
        let values = &mut self.values;
        values.clear();
        let mut raw_values = row.values();
        for decoder in &shape.decoders {
            let value = raw_values.next().unwrap_or(Ok(None)); // as many as decoders: checked
            values.push(match value.map_err(|e| malformed(py, e))? {
                None => py.None(),
                Some(raw) => decoder.decode(py, reg, raw)?,
            });
        }
        if let Some(Err(e)) = raw_values.next() {
            return Err(malformed(py, e)); // bytes after the last value
        }
        self.rows
            .push(PyTuple::new(py, values.drain(..))?.into_any().unbind());
        Ok(())
    }

    /// ReadyForQuery arrived: the result, or the error to raise.
    pub fn finish(self, py: Python<'_>) -> PyResult<QueryResult> {
        match self.failure {
            Some(Failure::Server(fields)) => {
                return Err(errors::server_error(py, &fields, Some(&self.query)))
            }
            Some(Failure::Python(err)) => return Err(err),
            None => {}
        }
        let description = match &self.shape {
            Some(shape) => shape.description.clone_ref(py),
            None => py.None(),
        };
        Ok(QueryResult {
            rows: Mutex::new(Some(PyList::new(py, self.rows)?.unbind())),
            description,
            rowcount: self.rowcount,
            statusmessage: self.statusmessage,
            lastrowid: self.lastrowid,
        })
    }
}
