//! Python face of `ferropg_core::conninfo`: `ConnParams` and `parse_conninfo`.
//!
//! Errors follow psycopg2: a malformed string is `ProgrammingError("invalid dsn:
//! ...")`, `database` with `dbname` is `TypeError`, and a value libpq would
//! reject at connect time is `OperationalError`. Messages end in a newline, as
//! libpq's (and so psycopg2's) do.
use crate::errors;
use ferropg_core::conninfo::{resolve, ConnInfo, ConnInfoError, Env, ErrorKind, Host};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// Connection parameters resolved as libpq does (DSN + keywords + PG* env + passfile).
#[pyclass(frozen, module = "ferropg._native")]
pub struct ConnParams {
    info: ConnInfo,
}

impl ConnParams {
    /// The resolved parameters, for the Rust side of the binding.
    pub fn inner(&self) -> &ConnInfo {
        &self.info
    }
}

#[pymethods]
impl ConnParams {
    /// `[(host, port)]`; a unix-socket host is its directory (an absolute path).
    /// `hostaddr` per entry of `hosts` (None when not given): where to dial, while the
    /// host name still serves TLS verification and the passfile.
    #[getter]
    fn hostaddrs(&self) -> Vec<Option<String>> {
        self.info
            .hosts
            .iter()
            .map(|h| match h {
                Host::Tcp { hostaddr, .. } => hostaddr.map(|a| a.to_string()),
                Host::Unix { .. } => None,
            })
            .collect()
    }
    #[getter]
    fn hosts(&self) -> Vec<(String, u16)> {
        self.info
            .hosts
            .iter()
            .map(|h| (h.name().to_owned(), h.port()))
            .collect()
    }
    #[getter]
    fn user(&self) -> &str {
        &self.info.user
    }
    #[getter]
    fn dbname(&self) -> &str {
        &self.info.dbname
    }
    #[getter]
    fn password(&self) -> Option<&str> {
        self.info.password.as_deref()
    }
    #[getter]
    fn sslmode(&self) -> &'static str {
        self.info.sslmode.as_str()
    }
    #[getter]
    fn sslrootcert(&self) -> Option<&str> {
        self.info.sslrootcert.as_deref()
    }
    #[getter]
    fn sslcert(&self) -> Option<&str> {
        self.info.sslcert.as_deref()
    }
    #[getter]
    fn sslkey(&self) -> Option<&str> {
        self.info.sslkey.as_deref()
    }
    /// Seconds per host (libpq's rounding applied), or None to wait indefinitely.
    #[getter]
    fn connect_timeout(&self) -> Option<f64> {
        self.info.connect_timeout.map(|d| d.as_secs_f64())
    }
    #[getter]
    fn target_session_attrs(&self) -> &'static str {
        self.info.target_session_attrs.as_str()
    }
    #[getter]
    fn load_balance_hosts(&self) -> &'static str {
        self.info.load_balance_hosts.as_str()
    }
    /// psycopg2's `connection.dsn`: the connection string, password shown as `xxx`.
    #[getter]
    fn dsn(&self) -> &str {
        self.info.masked_dsn()
    }

    /// The password for this server: the given one, else the passfile's entry.
    fn password_for(&self, host: &str, port: u16) -> Option<String> {
        let known = self
            .info
            .hosts
            .iter()
            .find(|h| h.name() == host && h.port() == port);
        match known {
            Some(h) => self.info.password_for(h),
            None => self.info.password_for(&Host::new(host, port)),
        }
    }

    fn __repr__(&self) -> String {
        let hosts: Vec<String> = self
            .info
            .hosts
            .iter()
            .map(|h| format!("{}:{}", h.name(), h.port()))
            .collect();
        format!(
            "<ConnParams hosts={:?} user={:?} dbname={:?} sslmode={}>",
            hosts.join(","),
            self.info.user,
            self.info.dbname,
            self.info.sslmode.as_str()
        )
    }
}

/// Parse and merge `dsn` and psycopg2-style keyword arguments (values: str, int,
/// or None for "not given") against the real environment.
#[pyfunction]
#[pyo3(signature = (dsn, kwargs))]
fn parse_conninfo(py: Python<'_>, dsn: Option<&str>, kwargs: &Bound<'_, PyDict>) -> PyResult<ConnParams> {
    let mut pairs: Vec<(String, Option<String>)> = Vec::with_capacity(kwargs.len());
    for (k, v) in kwargs.iter() {
        let key = k
            .downcast::<PyString>()
            .map_err(|_| {
                PyTypeError::new_err(format!("connection keyword must be a str, got {}", k.get_type()))
            })?
            .to_str()?
            .to_owned();
        // psycopg2 formats every value with str(); None means "not given".
        let value = if v.is_none() {
            None
        } else {
            Some(v.str()?.to_str()?.to_owned())
        };
        pairs.push((key, value));
    }
    let borrowed: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
    let env = process_env(py);
    let info = py
        .allow_threads(|| resolve(dsn, &borrowed, &env))
        .map_err(|e| to_py_err(py, e))?;
    Ok(ConnParams { info })
}

/// The environment, with the OS user and home taken from the password database
/// as libpq does (`getpwuid(geteuid())`), through Python's `pwd` module.
fn process_env(py: Python<'_>) -> Env {
    let mut env = Env::from_process();
    let entry = (|| -> PyResult<(String, String)> {
        let uid = py.import("os")?.call_method0("geteuid")?;
        let pw = py.import("pwd")?.call_method1("getpwuid", (uid,))?;
        Ok((
            pw.getattr("pw_name")?.extract()?,
            pw.getattr("pw_dir")?.extract()?,
        ))
    })();
    if let Ok((name, dir)) = entry {
        env.os_user = Some(name);
        if env.home.is_none() && !dir.is_empty() {
            env.home = Some(dir.into());
        }
    }
    env
}

/// psycopg2's exception class for each family of conninfo error.
fn to_py_err(py: Python<'_>, err: ConnInfoError) -> PyErr {
    match err.kind() {
        ErrorKind::Syntax => errors::programming_error(py, format!("invalid dsn: {err}\n")),
        ErrorKind::Value => errors::operational_error(py, format!("{err}\n")),
        ErrorKind::Argument => PyTypeError::new_err(err.to_string()),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ConnParams>()?;
    m.add_function(wrap_pyfunction!(parse_conninfo, m)?)?;
    Ok(())
}
