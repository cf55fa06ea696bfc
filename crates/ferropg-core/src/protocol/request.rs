//! Frontend messages for queries, written into the session's output buffer.
//!
//! Writing a request never touches a socket: the binding sends [`Session::output`].
//! Each method that ends a request (Sync, Query) counts the ReadyForQuery it is owed.

use super::{ProtocolError, Session};
use bytes::BytesMut;
use postgres_protocol::message::frontend;
use postgres_protocol::IsNull;

/// One bound parameter: its type oid (0 lets the server infer), format code
/// (0 text, 1 binary) and encoded value (None is NULL).
#[derive(Clone, Copy, Debug)]
pub struct Param<'a> {
    pub oid: u32,
    pub format: i16,
    pub value: Option<&'a [u8]>,
}

fn nul_error(what: &str) -> ProtocolError {
    ProtocolError::InvalidRequest(format!("{what} contains a NUL (0x00) character"))
}

impl Session {
    /// Parse into `statement` ("" = the unnamed statement).
    pub fn write_parse(
        &mut self,
        statement: &str,
        sql: &str,
        param_oids: &[u32],
    ) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::parse(statement, sql, param_oids.iter().copied(), buf).map_err(|_| nul_error("the query"))
    }

    /// Bind the unnamed portal to `statement` with `params`.
    pub fn write_bind(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
        result_formats: &[i16],
    ) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        bind_params(buf, statement, params, result_formats)
    }

    pub fn write_describe_portal(&mut self) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::describe(b'P', "", buf).map_err(ProtocolError::from_io)
    }

    pub fn write_describe_statement(&mut self, statement: &str) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::describe(b'S', statement, buf).map_err(ProtocolError::from_io)
    }

    /// Execute the unnamed portal to completion.
    pub fn write_execute(&mut self) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::execute("", 0, buf).map_err(ProtocolError::from_io)
    }

    pub fn write_close_statement(&mut self, statement: &str) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::close(b'S', statement, buf).map_err(ProtocolError::from_io)
    }

    /// End an extended-protocol request: the server answers with ReadyForQuery.
    pub fn write_sync(&mut self) -> Result<(), ProtocolError> {
        frontend::sync(self.request_buffer()?);
        self.expect_ready();
        Ok(())
    }

    /// A simple-protocol Query (may hold several statements).
    pub fn write_query(&mut self, sql: &str) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::query(sql, buf).map_err(|_| nul_error("the query"))?;
        self.expect_ready();
        Ok(())
    }

    /// Answer a CopyInResponse we never asked for: the server aborts the COPY.
    pub fn write_copy_fail(&mut self, reason: &str) -> Result<(), ProtocolError> {
        let buf = self.request_buffer()?;
        frontend::copy_fail(reason, buf).map_err(ProtocolError::from_io)
    }
}

/// A Bind message for the unnamed portal.
pub fn bind_params(
    buf: &mut BytesMut,
    statement: &str,
    params: &[Param<'_>],
    result_formats: &[i16],
) -> Result<(), ProtocolError> {
    if params.len() > i16::MAX as usize {
        return Err(ProtocolError::InvalidRequest(format!(
            "{} parameters given; the protocol allows at most {}",
            params.len(),
            i16::MAX
        )));
    }
    let formats = params.iter().map(|p| p.format);
    let serialize = |p: &Param<'_>, buf: &mut BytesMut| match p.value {
        Some(bytes) => {
            buf.extend_from_slice(bytes);
            Ok(IsNull::No)
        }
        None => Ok(IsNull::Yes),
    };
    frontend::bind(
        "",
        statement,
        formats,
        params.iter(),
        serialize,
        result_formats.iter().copied(),
        buf,
    )
    .map_err(|e| match e {
        frontend::BindError::Conversion(e) => ProtocolError::InvalidRequest(e.to_string()),
        frontend::BindError::Serialization(e) => ProtocolError::InvalidRequest(e.to_string()),
    })
}

/// The 16-byte CancelRequest for a session, sent on a separate connection.
pub fn encode_cancel_request(pid: i32, secret: i32) -> Vec<u8> {
    let mut buf = BytesMut::with_capacity(16);
    frontend::cancel_request(pid, secret, &mut buf);
    buf.to_vec()
}
