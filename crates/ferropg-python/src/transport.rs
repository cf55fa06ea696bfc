//! The connection's socket, plain or TLS, non-blocking and driven by loop readiness.

use bytes::{Buf, BytesMut};
use rustls::ClientConnection;
use socket2::Socket;
use std::io::{self, Read, Write};

/// How much to ask the kernel for per `recv`.
const READ_CHUNK: usize = 64 * 1024;

pub enum Transport {
    Plain(Socket),
    Tls {
        sock: Socket,
        tls: Box<ClientConnection>,
    },
}

impl Transport {
    pub fn socket(&self) -> &Socket {
        match self {
            Transport::Plain(sock) | Transport::Tls { sock, .. } => sock,
        }
    }

    /// Switch to TLS after the server accepted SSLRequest.
    pub fn start_tls(self, tls: ClientConnection) -> Transport {
        match self {
            Transport::Plain(sock) => Transport::Tls {
                sock,
                tls: Box::new(tls),
            },
            already => already,
        }
    }

    /// Hand `out` to the kernel. `Ok(true)`: all sent (or, mid-handshake, all that can
    /// go before the server answers); `Ok(false)`: the socket is full, call again once it
    /// is writable.
    pub fn send(&mut self, out: &mut BytesMut) -> io::Result<bool> {
        match self {
            Transport::Plain(sock) => {
                while !out.is_empty() {
                    match sock.send(out) {
                        Ok(n) => out.advance(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(true)
            }
            Transport::Tls { sock, tls } => loop {
                // rustls takes plaintext only up to its buffer limit (64 KiB): feed it
                // in turns with writing its records out, or a large request fails.
                let taken = tls.writer().write(out)?;
                out.advance(taken);
                if taken == 0 && !out.is_empty() && !tls.wants_write() {
                    // Still handshaking: rustls holds plaintext until the server answers,
                    // and the reader flushes again once it has.
                    return Ok(true);
                }
                while tls.wants_write() {
                    match tls.write_tls(&mut SocketIo(sock)) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if out.is_empty() {
                    return Ok(true);
                }
            },
        }
    }

    /// Append what the kernel has to `input`. Returns the number of plaintext bytes
    /// added; `Err(UnexpectedEof)` when the server closed the connection.
    pub fn recv(&mut self, input: &mut BytesMut) -> io::Result<usize> {
        match self {
            Transport::Plain(sock) => recv_plain(sock, input),
            Transport::Tls { sock, tls } => recv_tls(sock, tls, input),
        }
    }

    /// Whether TLS has records queued to send (handshake replies, alerts).
    pub fn wants_write(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls { tls, .. } => tls.wants_write(),
        }
    }

    /// Read exactly one byte (the answer to SSLRequest); `None` if none is there yet.
    pub fn recv_byte(&mut self) -> io::Result<Option<u8>> {
        let mut byte = [0u8; 1];
        loop {
            match self.socket().read(&mut byte) {
                Ok(0) => return Err(eof()),
                Ok(_) => return Ok(Some(byte[0])),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "server closed the connection unexpectedly",
    )
}

fn recv_plain(sock: &Socket, input: &mut BytesMut) -> io::Result<usize> {
    input.reserve(READ_CHUNK);
    let len = input.len();
    loop {
        match sock.recv(input.spare_capacity_mut()) {
            Ok(0) => return Err(eof()),
            Ok(n) => {
                // SAFETY: recv(2) initialized the first `n` bytes of the spare capacity it
                // was given, and `n` is at most that capacity, so len + n bytes are
                // initialized and within the allocation.
                unsafe { input.set_len(len + n) };
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn recv_tls(sock: &Socket, tls: &mut ClientConnection, input: &mut BytesMut) -> io::Result<usize> {
    match tls.read_tls(&mut SocketIo(sock)) {
        Ok(0) => return Err(eof()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    tls.process_new_packets()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("TLS error: {e}")))?;
    let mut added = 0;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match tls.reader().read(&mut chunk) {
            Ok(0) => {
                // A clean close_notify from the server.
                if added == 0 {
                    return Err(eof());
                }
                return Ok(added);
            }
            Ok(n) => {
                input.extend_from_slice(&chunk[..n]);
                added += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(added),
            Err(e) => return Err(e),
        }
    }
}

/// `Read`/`Write` over a shared socket reference, for rustls.
struct SocketIo<'a>(&'a Socket);

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
