//! The one place where engine errors become Python exceptions.
//!
//! The exception classes live in Python (`ferropg.errors`, generated from PostgreSQL's
//! errcodes table); they are looked up by name when an error is raised.

use ferropg_core::protocol::{ErrorFields, ProtocolError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A DB-API exception class from `ferropg.errors`, by name.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("ferropg.errors")?.getattr(name)
}

fn make(py: Python<'_>, name: &str, message: String) -> PyErr {
    match class(py, name).and_then(|cls| cls.call1((message,))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

pub fn interface_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(py, "InterfaceError", message.into())
}

pub fn operational_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(py, "OperationalError", message.into())
}

pub fn programming_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    make(py, "ProgrammingError", message.into())
}

/// An ErrorResponse as the exception class of its SQLSTATE, with every field.
pub fn server_error(py: Python<'_>, fields: &ErrorFields, query: Option<&str>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let dict = PyDict::new(py);
        for (code, value) in &fields.fields {
            dict.set_item((*code as char).to_string(), value)?;
        }
        let factory = py.import("ferropg.errors")?.getattr("_server_error")?;
        Ok(PyErr::from_value(factory.call1((dict, query))?))
    };
    build().unwrap_or_else(|err| err)
}

/// A protocol failure: the connection is unusable afterwards.
pub fn protocol_error(py: Python<'_>, err: &ProtocolError) -> PyErr {
    match err {
        // Startup errors (bad password, unknown database) are OperationalError in psycopg2.
        ProtocolError::Server(fields) => {
            let mut message = format!("{}:  {}", fields.severity(), fields.message());
            if let Some(detail) = fields.get(b'D') {
                message.push_str(&format!("\nDETAIL:  {detail}"));
            }
            operational_error(py, message)
        }
        ProtocolError::Authentication(m) => operational_error(py, m.clone()),
        ProtocolError::InvalidRequest(m) => programming_error(py, m.clone()),
        ProtocolError::Closed => interface_error(py, "connection already closed"),
        other => operational_error(py, other.to_string()),
    }
}

/// psycopg2's wording for a connection that dropped under us.
pub const SERVER_CLOSED: &str = "server closed the connection unexpectedly\n\
    \tThis probably means the server terminated abnormally\n\
    \tbefore or while processing the request.";
