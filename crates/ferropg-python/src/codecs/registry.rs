//! Per-connection codec settings and the Python objects the hot path needs, looked up once.
use std::collections::HashMap;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDelta, PyType, PyTzInfo};

use super::datetime::Zone;
use super::oids::{self, Oid};
use super::{Decoder, Kind};

/// Per-connection decoding/encoding settings, created at connect and updated from
/// ParameterStatus messages.
pub struct TypeRegistry {
    pub(crate) enable_hstore: bool,
    pub(crate) enable_uuid: bool,
    /// json and jsonb as their text (`str`), not decoded: the `json_as_text` option.
    json_as_text: bool,
    /// bytea as `bytes`, not memoryview: the `bytea_as_bytes` option.
    bytea_as_bytes: bool,
    pub(crate) hstore_oid: Option<Oid>,
    pub(crate) hstore_array_oid: Option<Oid>,
    pub(crate) zone: Zone,
    pub(crate) standard_conforming_strings: bool,
    pub(crate) decimal_cls: PyObject,
    pub(crate) uuid_cls: PyObject,
    pub(crate) json_loads: PyObject,
    pub(crate) json_keys: Mutex<super::json::KeyCache>,
    pub(crate) uuid_safe_unknown: PyObject,
    pub(crate) timezone_cls: PyObject,
    pub(crate) zoneinfo_cls: PyObject,
    /// `datetime.timezone` objects per UTC offset in seconds, so rows share them.
    offsets: Mutex<HashMap<i32, Py<PyTzInfo>>>,
    /// `datetime.timezone.utc`: the common offset, answered without the cache's lock.
    utc: Py<PyTzInfo>,
}

impl TypeRegistry {
    /// `enable_json` is accepted for aiopg's signature but changes nothing: psycopg2
    /// registers its json/jsonb typecasters globally, so aiopg decodes json either way.
    /// `json_as_text` and `bytea_as_bytes` are ferropg's own options (what asyncpg returns
    /// for those types): the objects psycopg2 builds there cost the most to make.
    pub fn new(
        py: Python<'_>,
        _enable_json: bool,
        enable_hstore: bool,
        enable_uuid: bool,
        json_as_text: bool,
        bytea_as_bytes: bool,
    ) -> PyResult<Self> {
        let datetime = py.import("datetime")?;
        Ok(TypeRegistry {
            enable_hstore,
            enable_uuid,
            json_as_text,
            bytea_as_bytes,
            hstore_oid: None,
            hstore_array_oid: None,
            zone: Zone::Utc,
            standard_conforming_strings: true,
            decimal_cls: py.import("decimal")?.getattr("Decimal")?.unbind(),
            uuid_cls: py
                .import("uuid")?
                .getattr("UUID")?
                .downcast_into::<PyType>()?
                .into_any()
                .unbind(),
            json_loads: py.import("json")?.getattr("loads")?.unbind(),
            json_keys: Mutex::new(super::json::KeyCache::new()),
            uuid_safe_unknown: py
                .import("uuid")?
                .getattr("SafeUUID")?
                .getattr("unknown")?
                .unbind(),
            timezone_cls: datetime.getattr("timezone")?.unbind(),
            zoneinfo_cls: py.import("zoneinfo")?.getattr("ZoneInfo")?.unbind(),
            offsets: Mutex::new(HashMap::new()),
            utc: datetime
                .getattr("timezone")?
                .getattr("utc")?
                .downcast_into::<PyTzInfo>()?
                .unbind(),
        })
    }

    pub fn set_hstore_oids(&mut self, oid: Oid, array_oid: Oid) {
        self.hstore_oid = Some(oid);
        self.hstore_array_oid = Some(array_oid);
    }

    /// Called for every ParameterStatus (TimeZone, standard_conforming_strings, ...).
    pub fn on_parameter_status(&mut self, py: Python<'_>, name: &str, value: &str) -> PyResult<()> {
        match name {
            "TimeZone" => self.zone = Zone::resolve(py, &self.zoneinfo_cls, value),
            "standard_conforming_strings" => self.standard_conforming_strings = value == "on",
            "integer_datetimes" if value != "on" => {
                return Err(PyValueError::new_err(
                    "server uses floating-point datetimes (integer_datetimes=off), which are not supported",
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a column of this type can be requested in binary format. For timestamptz
    /// this depends on the session TimeZone (a zone we cannot resolve is read as text,
    /// where the server prints the offset): ask again after TimeZone changes.
    pub fn has_binary_decoder(&self, oid: Oid) -> bool {
        match self.classify(oid) {
            Some((Kind::Text, _)) => matches!(
                oid,
                oids::TEXT
                    | oids::VARCHAR
                    | oids::BPCHAR
                    | oids::NAME
                    | oids::TEXT_ARRAY
                    | oids::VARCHAR_ARRAY
                    | oids::BPCHAR_ARRAY
                    | oids::NAME_ARRAY
            ),
            Some((Kind::TimestampTz, _)) => self.zone.resolved(),
            Some(_) => true,
            None => false,
        }
    }

    /// Resolves once per result column per statement, then used for every row.
    pub fn decoder(&self, oid: Oid, binary: bool) -> Decoder {
        match self.classify(oid) {
            Some((kind, array)) => Decoder::new(kind, array, binary),
            // Unknown types are requested as text and returned as str, as psycopg2 does.
            None => Decoder::new(Kind::Text, false, binary),
        }
    }

    /// The family of a type oid and whether it is an array of it; None for types psycopg2
    /// returns as the server's text (arrays of unknown elements included).
    pub(crate) fn classify(&self, oid: Oid) -> Option<(Kind, bool)> {
        use oids::*;
        let scalar = |k| Some((k, false));
        let array = |k| Some((k, true));
        match oid {
            BOOL => scalar(Kind::Bool),
            INT2 => scalar(Kind::Int2),
            INT4 => scalar(Kind::Int4),
            INT8 => scalar(Kind::Int8),
            OID => scalar(Kind::Oid),
            FLOAT4 => scalar(Kind::Float4),
            FLOAT8 => scalar(Kind::Float8),
            NUMERIC => scalar(Kind::Numeric),
            TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN => scalar(Kind::Text),
            CHAR => scalar(Kind::Char),
            BYTEA if self.bytea_as_bytes => scalar(Kind::Bytes),
            BYTEA => scalar(Kind::Bytea),
            DATE => scalar(Kind::Date),
            TIME => scalar(Kind::Time),
            TIMETZ => scalar(Kind::TimeTz),
            TIMESTAMP => scalar(Kind::Timestamp),
            TIMESTAMPTZ => scalar(Kind::TimestampTz),
            INTERVAL => scalar(Kind::Interval),
            UUID if self.enable_uuid => scalar(Kind::Uuid),
            // as text, a json value is the server's text output (requested in text format)
            JSON | JSONB if self.json_as_text => scalar(Kind::Text),
            JSON => scalar(Kind::Json),
            JSONB => scalar(Kind::Jsonb),
            BOOL_ARRAY => array(Kind::Bool),
            INT2_ARRAY => array(Kind::Int2),
            INT4_ARRAY => array(Kind::Int4),
            INT8_ARRAY => array(Kind::Int8),
            OID_ARRAY => array(Kind::Oid),
            FLOAT4_ARRAY => array(Kind::Float4),
            FLOAT8_ARRAY => array(Kind::Float8),
            NUMERIC_ARRAY => array(Kind::Numeric),
            TEXT_ARRAY | VARCHAR_ARRAY | BPCHAR_ARRAY | NAME_ARRAY => array(Kind::Text),
            INET_ARRAY | CIDR_ARRAY | MACADDR_ARRAY => array(Kind::Text),
            CHAR_ARRAY => array(Kind::Char),
            BYTEA_ARRAY if self.bytea_as_bytes => array(Kind::Bytes),
            BYTEA_ARRAY => array(Kind::Bytea),
            DATE_ARRAY => array(Kind::Date),
            TIME_ARRAY => array(Kind::Time),
            TIMETZ_ARRAY => array(Kind::TimeTz),
            TIMESTAMP_ARRAY => array(Kind::Timestamp),
            TIMESTAMPTZ_ARRAY => array(Kind::TimestampTz),
            INTERVAL_ARRAY => array(Kind::Interval),
            UUID_ARRAY if self.enable_uuid => array(Kind::Uuid),
            JSON_ARRAY | JSONB_ARRAY if self.json_as_text => array(Kind::Text),
            JSON_ARRAY => array(Kind::Json),
            JSONB_ARRAY => array(Kind::Jsonb),
            _ if self.enable_hstore && Some(oid) == self.hstore_oid => scalar(Kind::Hstore),
            _ if self.enable_hstore && Some(oid) == self.hstore_array_oid => array(Kind::Hstore),
            _ => None,
        }
    }

    /// The shared `datetime.timezone` for a UTC offset in seconds.
    pub(crate) fn tz_for_offset<'py>(&self, py: Python<'py>, seconds: i32) -> PyResult<Bound<'py, PyTzInfo>> {
        if seconds == 0 {
            return Ok(self.utc.bind(py).clone());
        }
        if let Ok(cache) = self.offsets.lock() {
            if let Some(tz) = cache.get(&seconds) {
                return Ok(tz.bind(py).clone());
            }
        }
        let delta = PyDelta::new(py, 0, seconds, 0, true)?;
        let tz = self
            .timezone_cls
            .bind(py)
            .call1((delta,))?
            .downcast_into::<PyTzInfo>()?;
        if let Ok(mut cache) = self.offsets.lock() {
            if cache.len() < 1024 {
                cache.insert(seconds, tz.clone().unbind());
            }
        }
        Ok(tz)
    }
}
