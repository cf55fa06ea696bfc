//! From an execute() call to protocol messages: which path a statement takes
//! (server-bound, literal, simple protocol) and what is cached per SQL text.

use crate::codecs::{encode_params, encode_params_into, quote_literal, EncodedParams, TypeRegistry};
use crate::errors;
use crate::results::{Collect, Collector, ShapeSlot};
use ferropg_core::cache::Lru;
use ferropg_core::protocol::{Param, ProtocolError, Session};
use ferropg_core::sql::{ParamRef, SqlError, Statement};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString, PyTuple};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How many distinct SQL texts keep their analysis and row shape.
const ANALYSIS_CACHE_SIZE: usize = 512;

/// What the client learns once per SQL text.
struct Entry {
    statement: Statement,
    shape: Arc<ShapeSlot>,
}

pub struct StatementCache {
    /// Analyses per SQL text, apart for calls with and without parameters (psycopg2
    /// does no `%` processing without them).
    with_params: Lru<String, Arc<Entry>>,
    without_params: Lru<String, Arc<Entry>>,
    standard_conforming_strings: bool,
    /// Named server-side statements (`statement_cache_size` > 0), keyed by the SQL sent
    /// and the parameter types.
    prepared: Lru<(String, Vec<u32>), Arc<Prepared>>,
    /// A random per-connection prefix: two clients sharing one server connection
    /// through a pooler can never run each other's statements.
    prefix: String,
    counter: u64,
    /// Evicted statements, closed on the server with the next request.
    to_close: Vec<String>,
}

/// A statement prepared under a name on the server.
pub struct Prepared {
    name: String,
    /// The row shape with binary formats, once the first execution described it.
    pub shape: ShapeSlot,
    /// The first execution finished describing (a statement may return no rows at all).
    pub described: AtomicBool,
}

/// How one execute() goes to the server.
pub enum Route {
    /// Parse/Bind/Describe/Execute/Sync, on the unnamed statement or a named one.
    Extended {
        sql: String,
        params: Option<EncodedParams>,
        shape: Arc<ShapeSlot>,
        named: Option<Arc<Prepared>>,
    },
    /// A simple Query: several statements in one string.
    Simple { sql: String },
}

/// Why a failed named execution may run again (nothing ran: the Bind failed).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Retry {
    /// "prepared statement does not exist": a pooler moved us to another server
    /// connection; named statements cannot work here, use the unnamed one from now on.
    Unnamed,
    /// "cached plan must not change result type": the schema changed; prepare again.
    Reprepare,
}

fn sql_error(py: Python<'_>, err: SqlError) -> PyErr {
    errors::programming_error(py, err.to_string())
}

impl StatementCache {
    pub fn new(statement_cache_size: usize) -> Self {
        StatementCache {
            with_params: Lru::new(ANALYSIS_CACHE_SIZE),
            without_params: Lru::new(ANALYSIS_CACHE_SIZE),
            standard_conforming_strings: true,
            prepared: Lru::new(statement_cache_size),
            prefix: format!("_ferropg_{:08x}_", rand::random::<u32>()),
            counter: 0,
            to_close: Vec::new(),
        }
    }

    /// The named statement for this SQL and parameter types, prepared or to prepare.
    fn named(&mut self, sql: &str, oids: &[u32]) -> Option<Arc<Prepared>> {
        if self.prepared.capacity() == 0 {
            return None;
        }
        let key = (sql.to_owned(), oids.to_vec());
        if let Some(p) = self.prepared.get(&key) {
            return Some(p.clone());
        }
        self.counter += 1;
        let prepared = Arc::new(Prepared {
            name: format!("{}{}", self.prefix, self.counter),
            shape: ShapeSlot::default(),
            described: AtomicBool::new(false),
        });
        if let Some((_, evicted)) = self.prepared.insert(key, prepared.clone()) {
            self.to_close.push(evicted.name.clone());
        }
        Some(prepared)
    }

    /// Forget a named statement that failed, and plan its second run.
    pub fn retry(
        &mut self,
        why: Retry,
        sql: String,
        params: Option<EncodedParams>,
        shape: Arc<ShapeSlot>,
    ) -> Route {
        let oids = params.as_ref().map(|p| p.oids.clone()).unwrap_or_default();
        if let Some(old) = self.prepared.remove(&(sql.clone(), oids.clone())) {
            if why == Retry::Reprepare {
                self.to_close.push(old.name.clone());
            }
        }
        let named = match why {
            Retry::Unnamed => {
                // Behind a transaction-mode pooler: stop naming statements for good.
                self.prepared = Lru::new(0);
                self.to_close.clear();
                None
            }
            Retry::Reprepare => self.named(&sql, &oids),
        };
        Route::Extended {
            sql,
            params,
            shape,
            named,
        }
    }

    /// The analysis depends on this server setting: forget everything when it changes.
    pub fn set_standard_conforming_strings(&mut self, on: bool) {
        if on != self.standard_conforming_strings {
            self.standard_conforming_strings = on;
            self.forget_shapes();
        }
    }

    /// Which columns can come back binary may depend on the session (timestamptz needs
    /// a time zone Python can resolve): re-learn every shape after such a change.
    pub fn forget_shapes(&mut self) {
        self.with_params.drain();
        self.without_params.drain();
    }

    fn entry(&mut self, py: Python<'_>, sql: &str, has_params: bool) -> PyResult<Arc<Entry>> {
        let cache = if has_params {
            &mut self.with_params
        } else {
            &mut self.without_params
        };
        if let Some(entry) = cache.get(sql) {
            return Ok(entry.clone());
        }
        let statement = Statement::parse(sql, has_params, self.standard_conforming_strings)
            .map_err(|e| sql_error(py, e))?;
        let entry = Arc::new(Entry {
            statement,
            shape: Arc::default(),
        });
        cache.insert(sql.to_owned(), entry.clone());
        Ok(entry)
    }

    pub fn route(
        &mut self,
        py: Python<'_>,
        reg: &TypeRegistry,
        sql: &str,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Route> {
        let entry = self.entry(py, sql, params.is_some())?;
        let stmt = &entry.statement;
        if stmt.statement_count() == 0 {
            return Err(errors::programming_error(py, "can't execute an empty query"));
        }
        let shape = entry.shape.clone();
        let Some(params) = params else {
            return Ok(if stmt.statement_count() == 1 {
                let named = self.named(sql, &[]);
                Route::Extended {
                    sql: sql.to_owned(),
                    params: None,
                    shape,
                    named,
                }
            } else {
                Route::Simple { sql: sql.to_owned() }
            });
        };
        let values = gather(py, stmt, params)?;
        if needs_literal(stmt, &values) {
            let text = interpolate(py, reg, stmt, &values)?;
            return Ok(if stmt.statement_count() == 1 {
                Route::Extended {
                    sql: text,
                    params: None,
                    shape,
                    named: None,
                }
            } else {
                Route::Simple { sql: text }
            });
        }
        let names = param_names(stmt);
        let encoded = encode_params(py, reg, &values, names.as_deref())?;
        let named = self.named(stmt.server_sql(), &encoded.oids);
        Ok(Route::Extended {
            sql: stmt.server_sql().to_owned(),
            params: Some(encoded),
            shape,
            named,
        })
    }

    /// psycopg2's mogrify: the statement with every parameter as a literal.
    pub fn literal_sql(
        &mut self,
        py: Python<'_>,
        reg: &TypeRegistry,
        sql: &str,
        params: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let entry = self.entry(py, sql, true)?;
        let values = gather(py, &entry.statement, params)?;
        interpolate(py, reg, &entry.statement, &values)
    }

    /// executemany: every parameter set in one pipeline ending in one Sync, so the batch
    /// is one implicit transaction: all of it runs or none of it.
    pub fn write_many(
        &mut self,
        py: Python<'_>,
        reg: &TypeRegistry,
        session: &mut Session,
        sql: &str,
        seq_of_params: &Bound<'_, PyAny>,
    ) -> PyResult<Collector> {
        let entry = self.entry(py, sql, true)?;
        let stmt = &entry.statement;
        let mut sets = Vec::new();
        for params in seq_of_params.try_iter()? {
            sets.push(gather(py, stmt, &params?)?);
        }
        let mark = session.output().len();
        let written = if sets.iter().any(|values| needs_literal(stmt, values)) || stmt.statement_count() != 1
        {
            write_literal_batch(py, reg, session, stmt, &sets)
        } else {
            write_batch(py, reg, session, stmt, &sets)
        };
        if let Err(e) = written {
            session.output().truncate(mark);
            return Err(e);
        }
        Ok(Collector::new(Collect::Count, sql.to_owned()))
    }
}

impl StatementCache {
    /// Queue the messages of `route`; on failure nothing is left half-written.
    pub fn write(&mut self, py: Python<'_>, session: &mut Session, route: Route) -> PyResult<Collector> {
        let mark = session.output().len();
        let mut written = self.close_evicted(session);
        let collector = match route {
            Route::Simple { sql } => {
                written = written.and_then(|_| session.write_query(&sql));
                Collector::new(Collect::Rows { slot: None }, sql)
            }
            Route::Extended {
                sql,
                params,
                shape,
                named,
            } => {
                let described = named.as_ref().filter(|p| p.described.load(Ordering::Acquire));
                let collector = match described {
                    // Prepared and described: Bind/Execute only, rows in binary.
                    Some(p) => {
                        let known = p.shape.get();
                        let formats = known.as_ref().map(|s| s.result_formats()).unwrap_or_default();
                        written = written
                            .and_then(|_| write_bound(session, &p.name, params.as_ref(), &formats, false));
                        Collector::new(Collect::Rows { slot: None }, sql).with_shape(known)
                    }
                    None => {
                        let name = named.as_ref().map_or("", |p| p.name.as_str());
                        let formats = shape.get().map(|s| s.result_formats()).unwrap_or_default();
                        written = written.and_then(|_| {
                            let oids = params.as_ref().map_or(&[][..], |p| p.oids.as_slice());
                            session.write_parse(name, &sql, oids)?;
                            write_bound(session, name, params.as_ref(), &formats, true)
                        });
                        Collector::new(Collect::Rows { slot: Some(shape) }, sql)
                    }
                };
                match named {
                    Some(p) => collector.for_named(p, params),
                    None => collector,
                }
            }
        };
        if let Err(e) = written {
            session.output().truncate(mark);
            return Err(errors::protocol_error(py, &e));
        }
        Ok(collector)
    }

    fn close_evicted(&mut self, session: &mut Session) -> Result<(), ProtocolError> {
        for name in self.to_close.drain(..) {
            session.write_close_statement(&name)?;
        }
        Ok(())
    }
}

fn bound_params(encoded: &EncodedParams) -> Vec<Param<'_>> {
    encoded
        .oids
        .iter()
        .zip(&encoded.formats)
        .zip(&encoded.values)
        .map(|((&oid, &format), range)| Param {
            oid,
            format,
            value: range.clone().map(|r| &encoded.buf[r]),
        })
        .collect()
}

/// Bind `statement` into the unnamed portal, (Describe,) Execute, Sync.
fn write_bound(
    session: &mut Session,
    statement: &str,
    params: Option<&EncodedParams>,
    formats: &[i16],
    describe: bool,
) -> Result<(), ProtocolError> {
    let bound = params.map(bound_params).unwrap_or_default();
    session.write_bind(statement, &bound, formats)?;
    if describe {
        session.write_describe_portal()?;
    }
    session.write_execute()?;
    session.write_sync()
}

/// Parse (again only when the parameter types change), then Bind/Execute per set and one
/// Sync. Every set is encoded into one reused buffer; a failure leaves output to the caller
/// to roll back.
fn write_batch(
    py: Python<'_>,
    reg: &TypeRegistry,
    session: &mut Session,
    stmt: &Statement,
    sets: &[Vec<Bound<'_, PyAny>>],
) -> PyResult<()> {
    let protocol = |e: ProtocolError| errors::protocol_error(py, &e);
    let names = param_names(stmt);
    let mut encoded = EncodedParams::default();
    let mut parsed: Option<Vec<u32>> = None;
    for values in sets {
        encode_params_into(py, reg, values, names.as_deref(), &mut encoded)?;
        if parsed.as_deref() != Some(encoded.oids.as_slice()) {
            session
                .write_parse("", stmt.server_sql(), &encoded.oids)
                .map_err(protocol)?;
            parsed = Some(encoded.oids.clone());
        }
        session
            .write_bind("", &bound_params(&encoded), &[])
            .map_err(protocol)?;
        session.write_execute().map_err(protocol)?;
    }
    session.write_sync().map_err(protocol)
}

/// The sets as literal statements in one simple Query (an empty batch is a bare Sync).
fn write_literal_batch(
    py: Python<'_>,
    reg: &TypeRegistry,
    session: &mut Session,
    stmt: &Statement,
    sets: &[Vec<Bound<'_, PyAny>>],
) -> PyResult<()> {
    let mut texts = Vec::with_capacity(sets.len());
    for values in sets {
        texts.push(interpolate(py, reg, stmt, values)?);
    }
    let written = if texts.is_empty() {
        session.write_sync()
    } else {
        session.write_query(&texts.join(";\n"))
    };
    written.map_err(|e| errors::protocol_error(py, &e))
}

/// Tuples are IN-lists: only the literal path can expand them.
fn needs_literal(stmt: &Statement, values: &[Bound<'_, PyAny>]) -> bool {
    !stmt.is_bindable() || values.iter().any(|v| v.is_instance_of::<PyTuple>())
}

fn param_names(stmt: &Statement) -> Option<Vec<String>> {
    match stmt.params().first() {
        Some(ParamRef::Named(_)) => Some(
            stmt.params()
                .iter()
                .map(|p| match p {
                    ParamRef::Named(n) => n.to_string(),
                    ParamRef::Positional(i) => (i + 1).to_string(),
                })
                .collect(),
        ),
        _ => None,
    }
}

fn interpolate(
    py: Python<'_>,
    reg: &TypeRegistry,
    stmt: &Statement,
    values: &[Bound<'_, PyAny>],
) -> PyResult<String> {
    let literals = values
        .iter()
        .map(|v| quote_literal(py, reg, v))
        .collect::<PyResult<Vec<String>>>()?;
    stmt.interpolate(&literals).map_err(|e| sql_error(py, e))
}

/// The caller's parameters in `$n` order, checked against the placeholders.
fn gather<'py>(
    py: Python<'py>,
    stmt: &Statement,
    params: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let refs = stmt.params();
    match refs.first() {
        None => Ok(Vec::new()),
        Some(ParamRef::Named(_)) => {
            if !params.is_instance_of::<PyDict>() && !params.hasattr("keys")? {
                return Err(errors::programming_error(
                    py,
                    format!(
                        "the statement uses %(name)s placeholders, so parameters must be a mapping, not {}",
                        type_name(params)
                    ),
                ));
            }
            refs.iter()
                .map(|r| match r {
                    ParamRef::Named(name) => params.get_item(&**name).map_err(|_| {
                        errors::programming_error(py, format!("no value for parameter %({name})s"))
                    }),
                    ParamRef::Positional(_) => unreachable_mix(py),
                })
                .collect()
        }
        Some(ParamRef::Positional(_)) => {
            if params.is_instance_of::<PyString>()
                || params.is_instance_of::<PyBytes>()
                || params.is_instance_of::<PyByteArray>()
                || params.is_instance_of::<PyDict>()
            {
                return Err(errors::programming_error(
                    py,
                    format!(
                        "the statement uses %s placeholders, so parameters must be a sequence, not {}",
                        type_name(params)
                    ),
                ));
            }
            let given = params.len().map_err(|_| {
                errors::programming_error(
                    py,
                    format!("parameters must be a sequence, not {}", type_name(params)),
                )
            })?;
            let expected = stmt.placeholder_count();
            if given != expected {
                return Err(errors::programming_error(
                    py,
                    format!("the statement has {expected} placeholders but {given} parameters were given"),
                ));
            }
            refs.iter()
                .map(|r| match r {
                    ParamRef::Positional(i) => params.get_item(*i),
                    ParamRef::Named(_) => unreachable_mix(py),
                })
                .collect()
        }
    }
}

/// The lexer refuses mixed styles; reaching this is a bug, reported, not a panic.
fn unreachable_mix<T>(py: Python<'_>) -> PyResult<T> {
    Err(errors::interface_error(
        py,
        "internal error: mixed placeholder styles passed the SQL analysis",
    ))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
