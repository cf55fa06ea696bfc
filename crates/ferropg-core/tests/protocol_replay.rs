//! Replays of server byte streams through the sans-IO session: every message kind,
//! split at every byte boundary, plus malformed and out-of-place input.

use bytes::{BufMut, BytesMut};
use ferropg_core::protocol::{
    Credentials, DataRow, Event, Message, Param, ProtocolError, Session, TransactionStatus,
};
use proptest::prelude::*;

/// One backend message: tag, length, body.
fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn auth(code: i32, extra: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(extra);
    msg(b'R', &body)
}

fn parameter_status(name: &str, value: &str) -> Vec<u8> {
    msg(b'S', &[cstr(name), cstr(value)].concat())
}

fn backend_key(pid: i32, secret: i32) -> Vec<u8> {
    msg(b'K', &[pid.to_be_bytes(), secret.to_be_bytes()].concat())
}

fn ready(status: u8) -> Vec<u8> {
    msg(b'Z', &[status])
}

fn error_fields(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (code, value) in fields {
        body.push(*code);
        body.extend(cstr(value));
    }
    body.push(0);
    msg(tag, &body)
}

fn row_description(columns: &[(&str, u32)]) -> Vec<u8> {
    let mut body = (columns.len() as u16).to_be_bytes().to_vec();
    for (name, oid) in columns {
        body.extend(cstr(name));
        body.extend_from_slice(&0u32.to_be_bytes()); // table oid
        body.extend_from_slice(&0i16.to_be_bytes()); // column id
        body.extend_from_slice(&oid.to_be_bytes());
        body.extend_from_slice(&4i16.to_be_bytes());
        body.extend_from_slice(&(-1i32).to_be_bytes());
        body.extend_from_slice(&0i16.to_be_bytes());
    }
    msg(b'T', &body)
}

fn data_row(values: &[Option<&[u8]>]) -> Vec<u8> {
    let mut body = (values.len() as u16).to_be_bytes().to_vec();
    for v in values {
        match v {
            Some(bytes) => {
                body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                body.extend_from_slice(bytes);
            }
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    msg(b'D', &body)
}

fn command_complete(tag: &str) -> Vec<u8> {
    msg(b'C', &cstr(tag))
}

fn notification(pid: i32, channel: &str, payload: &str) -> Vec<u8> {
    msg(
        b'A',
        &[pid.to_be_bytes().to_vec(), cstr(channel), cstr(payload)].concat(),
    )
}

fn session(password: Option<&str>) -> Session {
    let params = vec![
        ("user".to_owned(), "alice".to_owned()),
        ("database".to_owned(), "db".to_owned()),
    ];
    Session::new(
        &params,
        Credentials {
            user: "alice".into(),
            password: password.map(str::to_owned),
        },
    )
    .unwrap()
}

/// A short name per event, to compare whole replays.
fn describe(event: &Event) -> String {
    match event {
        Event::Response(m) => format!("Response({})", ferropg_core::protocol::message_name(m)),
        Event::ReadyForQuery(s) => format!("Ready({s:?})"),
        Event::Connected => "Connected".into(),
        Event::ParameterStatus { name, value } => format!("Param({name}={value})"),
        Event::Notice(f) => format!("Notice({})", f.message()),
        Event::Notification {
            pid,
            channel,
            payload,
        } => format!("Notify({pid},{channel},{payload})"),
        Event::UnsolicitedError(f) => format!("Unsolicited({})", f.sqlstate()),
    }
}

/// Feed `stream` in `chunk`-sized pieces, collecting every event.
fn replay(s: &mut Session, stream: &[u8], chunk: usize) -> Result<Vec<String>, ProtocolError> {
    replay_with(s, stream, chunk, false)
}

/// As `replay`; with `rows_in_place`, DataRows are taken in place (`data_row_len`) as
/// the binding does, and described with their values.
fn replay_with(
    s: &mut Session,
    stream: &[u8],
    chunk: usize,
    rows_in_place: bool,
) -> Result<Vec<String>, ProtocolError> {
    let mut input = BytesMut::new();
    let mut events = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        input.put_slice(piece);
        loop {
            if let Some(n) = s.data_row_len(&input).filter(|_| rows_in_place) {
                let values = DataRow::parse(&input[5..n])?
                    .values()
                    .collect::<Result<Vec<_>, _>>()?;
                events.push(format!("Row({values:?})"));
                let _ = input.split_to(n);
                continue;
            }
            match s.next_event(&mut input)? {
                Some(event) => events.push(describe(&event)),
                None => break,
            }
        }
    }
    assert!(input.is_empty(), "bytes left over after a complete stream");
    Ok(events)
}

fn trust_startup() -> Vec<u8> {
    [
        auth(0, &[]),
        parameter_status("server_version", "15.4"),
        parameter_status("TimeZone", "UTC"),
        backend_key(42, 7),
        ready(b'I'),
    ]
    .concat()
}

#[test]
fn nul_in_a_startup_parameter_is_refused() {
    let params = vec![("application_name".to_owned(), "a\0b".to_owned())];
    let err = Session::new(&params, Credentials::default()).err().unwrap();
    assert!(err.to_string().contains("NUL"), "{err}");
}

#[test]
fn startup_message_is_queued() {
    let mut s = session(None);
    let out = s.output().to_vec();
    // length, protocol 3.0, then user/database pairs.
    assert_eq!(&out[4..8], &196608u32.to_be_bytes());
    assert!(out.windows(6).any(|w| w == b"alice\0"));
}

#[test]
fn trust_startup_at_every_split() {
    let stream = trust_startup();
    for chunk in 1..=stream.len() {
        let mut s = session(None);
        let events = replay(&mut s, &stream, chunk).unwrap();
        assert_eq!(
            events,
            ["Param(server_version=15.4)", "Param(TimeZone=UTC)", "Connected"]
        );
        assert_eq!(s.backend_key(), Some((42, 7)));
        assert!(s.is_ready());
    }
}

#[test]
fn cleartext_password_is_sent() {
    let mut s = session(Some("sekret"));
    s.output().clear();
    replay(&mut s, &auth(3, &[]), 1).unwrap();
    let out = s.output().to_vec();
    assert_eq!(out[0], b'p');
    assert_eq!(&out[5..], b"sekret\0");
}

#[test]
fn md5_password_is_hashed_with_the_salt() {
    let mut s = session(Some("sekret"));
    s.output().clear();
    replay(&mut s, &auth(5, &[1, 2, 3, 4]), 3).unwrap();
    let out = s.output().to_vec();
    let expected = postgres_protocol::authentication::md5_hash(b"alice", b"sekret", [1, 2, 3, 4]);
    assert_eq!(out[0], b'p');
    assert_eq!(&out[5..out.len() - 1], expected.as_bytes());
}

#[test]
fn scram_starts_with_a_client_first_message() {
    let mut s = session(Some("sekret"));
    s.output().clear();
    replay(&mut s, &auth(10, &[cstr("SCRAM-SHA-256"), vec![0]].concat()), 2).unwrap();
    let out = s.output().to_vec();
    assert_eq!(out[0], b'p');
    assert!(out.windows(14).any(|w| w == b"SCRAM-SHA-256\0"));
    assert!(out.windows(7).any(|w| w == b"n,,n=,r"));
    // A server-first message without the client's nonce is refused.
    let bogus = auth(11, b"r=nope,s=c2FsdA==,i=4096");
    let err = replay(&mut s, &bogus, 100).unwrap_err();
    assert!(matches!(err, ProtocolError::Authentication(_)), "{err:?}");
}

#[test]
fn scram_refuses_ok_without_server_proof() {
    let mut s = session(Some("sekret"));
    let stream = [auth(10, &[cstr("SCRAM-SHA-256"), vec![0]].concat()), auth(0, &[])].concat();
    let err = replay(&mut s, &stream, 100).unwrap_err();
    assert!(err.to_string().contains("without proving"), "{err}");
}

#[test]
fn password_requested_but_none_given() {
    let mut s = session(None);
    let err = replay(&mut s, &auth(3, &[]), 100).unwrap_err();
    assert!(err.to_string().contains("no password was supplied"), "{err}");
}

#[test]
fn unsupported_methods_are_named() {
    for code in [2, 6, 7, 9] {
        let mut s = session(Some("x"));
        let err = replay(&mut s, &auth(code, &[]), 100).unwrap_err();
        assert!(
            matches!(err, ProtocolError::Authentication(_)),
            "code {code}: {err:?}"
        );
    }
    let mut s = session(Some("x"));
    let err = replay(
        &mut s,
        &auth(10, &[cstr("SCRAM-SHA-256-PLUS"), vec![0]].concat()),
        100,
    )
    .unwrap_err();
    assert!(err.to_string().contains("SCRAM-SHA-256-PLUS"), "{err}");
}

#[test]
fn startup_error_carries_every_field() {
    let mut s = session(Some("x"));
    let stream = error_fields(
        b'E',
        &[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed"),
        ],
    );
    match replay(&mut s, &stream, 4).unwrap_err() {
        ProtocolError::Server(f) => {
            assert_eq!(f.sqlstate(), "28P01");
            assert_eq!(f.severity(), "FATAL");
            assert_eq!(f.fields.len(), 4);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.request_buffer(), Err(ProtocolError::Closed)));
}

fn connected() -> Session {
    let mut s = session(None);
    replay(&mut s, &trust_startup(), 1000).unwrap();
    s.output().clear();
    s
}

#[test]
fn extended_query_round_trip_at_every_split() {
    let stream = [
        msg(b'1', &[]),
        msg(b'2', &[]),
        row_description(&[("a", 23), ("b", 25)]),
        data_row(&[Some(&1i32.to_be_bytes()), None]),
        data_row(&[Some(&2i32.to_be_bytes()), Some(b"x")]),
        command_complete("SELECT 2"),
        ready(b'T'),
    ]
    .concat();
    for chunk in [1, 2, 3, 7, stream.len()] {
        let mut s = connected();
        s.write_parse("", "SELECT $1", &[23]).unwrap();
        s.write_bind(
            "",
            &[Param {
                oid: 23,
                format: 1,
                value: Some(&[0, 0, 0, 1]),
            }],
            &[1],
        )
        .unwrap();
        s.write_describe_portal().unwrap();
        s.write_execute().unwrap();
        s.write_sync().unwrap();
        assert!(s.is_busy());
        let out = s.output().to_vec();
        let tags: Vec<u8> = frame_tags(&out);
        assert_eq!(tags, b"PBDES");
        let events = replay(&mut s, &stream, chunk).unwrap();
        assert_eq!(
            events,
            [
                "Response(ParseComplete)",
                "Response(BindComplete)",
                "Response(RowDescription)",
                "Response(DataRow)",
                "Response(DataRow)",
                "Response(CommandComplete)",
                "Ready(InTransaction)"
            ]
        );
        assert!(!s.is_busy());
        assert_eq!(s.transaction_status(), TransactionStatus::InTransaction);
    }
}

#[test]
fn data_rows_read_in_place_at_every_split() {
    let stream = [
        msg(b'1', &[]),
        msg(b'2', &[]),
        row_description(&[("a", 23), ("b", 25)]),
        data_row(&[Some(&1i32.to_be_bytes()), None]),
        data_row(&[Some(&2i32.to_be_bytes()), Some(b"x")]),
        data_row(&[]),
        command_complete("SELECT 3"),
        ready(b'I'),
    ]
    .concat();
    for chunk in 1..=stream.len() {
        let mut s = connected();
        s.expect_ready();
        let events = replay_with(&mut s, &stream, chunk, true).unwrap();
        assert_eq!(
            events,
            [
                "Response(ParseComplete)",
                "Response(BindComplete)",
                "Response(RowDescription)",
                "Row([Some([0, 0, 0, 1]), None])",
                "Row([Some([0, 0, 0, 2]), Some([120])])",
                "Row([])",
                "Response(CommandComplete)",
                "Ready(Idle)"
            ],
            "split every {chunk} bytes"
        );
        assert!(!s.is_busy());
    }
}

#[test]
fn data_row_len_leaves_everything_else_to_next_event() {
    let row = data_row(&[Some(b"x")]);
    let mut s = connected();
    // no request in flight: the row is the server's error, next_event reports it
    assert_eq!(s.data_row_len(&row), None);
    assert!(s.next_event(&mut BytesMut::from(&row[..])).is_err());
    let mut s = connected();
    s.expect_ready();
    assert_eq!(s.data_row_len(&row), Some(row.len()));
    assert_eq!(s.data_row_len(&row[..row.len() - 1]), None); // incomplete
    assert_eq!(s.data_row_len(&row[..3]), None);
    assert_eq!(s.data_row_len(&command_complete("SELECT 1")), None);
    // a declared length below 4 is malformed: next_event says so
    let bad = [b'D', 0, 0, 0, 3, 0];
    assert_eq!(s.data_row_len(&bad), None);
    assert!(s.next_event(&mut BytesMut::from(&bad[..])).is_err());
}

proptest! {
    /// The in-place reader agrees with postgres-protocol's DataRow parser on any body.
    #[test]
    fn data_row_reader_agrees_with_message_parse(body in proptest::collection::vec(any::<u8>(), 0..48)) {
        let framed = msg(b'D', &body);
        let theirs = match Message::parse(&mut BytesMut::from(&framed[..])) {
            Ok(Some(Message::DataRow(row))) => {
                let buf = row.buffer().to_vec();
                let mut ranges = row.ranges();
                let mut values = Vec::new();
                let mut ok = true;
                loop {
                    match fallible_iterator::FallibleIterator::next(&mut ranges) {
                        Ok(Some(r)) => values.push(r.map(|r| buf[r].to_vec())),
                        Ok(None) => break,
                        Err(_) => { ok = false; break; }
                    }
                }
                ok.then_some(values)
            }
            _ => None,
        };
        let ours = DataRow::parse(&body)
            .and_then(|r| r.values().map(|v| v.map(|v| v.map(<[u8]>::to_vec))).collect::<Result<Vec<_>, _>>())
            .ok();
        prop_assert_eq!(ours, theirs);
    }
}

/// The tags of the frontend messages in `out`.
fn frame_tags(out: &[u8]) -> Vec<u8> {
    let mut tags = Vec::new();
    let mut rest = out;
    while rest.len() >= 5 {
        tags.push(rest[0]);
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        rest = &rest[1 + len..];
    }
    tags
}

#[test]
fn data_row_values_are_reachable() {
    let mut s = connected();
    s.write_query("SELECT 1").unwrap();
    let mut input = BytesMut::from(&data_row(&[Some(b"hello"), None])[..]);
    match s.next_event(&mut input).unwrap() {
        Some(Event::Response(Message::DataRow(body))) => {
            use fallible_iterator::FallibleIterator;
            let ranges: Vec<_> = body.ranges().collect().unwrap();
            assert_eq!(&body.buffer()[ranges[0].clone().unwrap()], b"hello");
            assert!(ranges[1].is_none());
        }
        _ => panic!("expected a DataRow"),
    }
}

#[test]
fn asynchronous_messages_in_every_phase() {
    // During startup, while a query runs, and while idle.
    let mut s = session(None);
    let startup = [
        auth(0, &[]),
        error_fields(b'N', &[(b'S', "NOTICE"), (b'M', "hi")]),
        backend_key(1, 2),
        ready(b'I'),
    ]
    .concat();
    assert_eq!(replay(&mut s, &startup, 1).unwrap(), ["Notice(hi)", "Connected"]);
    s.write_query("LISTEN c").unwrap();
    let running = [
        notification(9, "c", "p"),
        parameter_status("TimeZone", "Europe/Paris"),
        command_complete("LISTEN"),
        ready(b'I'),
    ]
    .concat();
    assert_eq!(
        replay(&mut s, &running, 1).unwrap(),
        [
            "Notify(9,c,p)",
            "Param(TimeZone=Europe/Paris)",
            "Response(CommandComplete)",
            "Ready(Idle)"
        ]
    );
    let idle = [notification(9, "c", ""), error_fields(b'N', &[(b'M', "late")])].concat();
    assert_eq!(
        replay(&mut s, &idle, 3).unwrap(),
        ["Notify(9,c,)", "Notice(late)"]
    );
}

#[test]
fn fatal_while_idle_is_surfaced() {
    let mut s = connected();
    let stream = error_fields(
        b'E',
        &[
            (b'S', "FATAL"),
            (b'C', "57P01"),
            (b'M', "terminating connection due to administrator command"),
        ],
    );
    assert_eq!(replay(&mut s, &stream, 5).unwrap(), ["Unsolicited(57P01)"]);
}

#[test]
fn response_without_request_breaks_the_session() {
    let mut s = connected();
    let err = replay(&mut s, &data_row(&[None]), 100).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::Unexpected {
                message: "DataRow",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(s.request_buffer(), Err(ProtocolError::Closed)));
}

#[test]
fn authentication_after_startup_is_refused() {
    let mut s = connected();
    s.write_query("SELECT 1").unwrap();
    let err = replay(&mut s, &auth(0, &[]), 100).unwrap_err();
    assert!(err.to_string().contains("Authentication"), "{err}");
}

#[test]
fn malformed_frames() {
    // Unknown tag.
    let mut s = connected();
    s.write_query("SELECT 1").unwrap();
    assert!(matches!(
        replay(&mut s, &msg(b'?', &[1]), 100),
        Err(ProtocolError::Malformed(_))
    ));
    // A length below 4 and one beyond PostgreSQL's limit: refused before allocating.
    for len in [0u32, 3, 0x7fff_ffff] {
        let mut s = connected();
        let mut frame = vec![b'D'];
        frame.extend_from_slice(&len.to_be_bytes());
        assert!(
            matches!(replay(&mut s, &frame, 100), Err(ProtocolError::Malformed(_))),
            "len {len}"
        );
    }
    // A ReadyForQuery with an unknown status.
    let mut s = connected();
    s.write_query("SELECT 1").unwrap();
    assert!(matches!(
        replay(&mut s, &ready(b'X'), 100),
        Err(ProtocolError::Malformed(_))
    ));
    // A truncated ParameterStatus (no terminating NUL).
    let mut s = connected();
    assert!(matches!(
        replay(&mut s, &msg(b'S', b"TimeZone"), 100),
        Err(ProtocolError::Malformed(_))
    ));
}

#[test]
fn requests_before_ready_or_after_terminate() {
    let mut s = session(None);
    assert!(matches!(s.write_query("SELECT 1"), Err(ProtocolError::NotReady)));
    let mut s = connected();
    s.terminate();
    assert_eq!(s.output().to_vec(), msg(b'X', &[]));
    assert!(matches!(s.write_query("SELECT 1"), Err(ProtocolError::Closed)));
}

#[test]
fn nul_in_query_is_a_request_error() {
    let mut s = connected();
    let err = s.write_query("SELECT '\0'").unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
    assert!(!s.is_busy());
}

#[test]
fn cancel_request_layout() {
    let packet = ferropg_core::protocol::encode_cancel_request(42, 7);
    assert_eq!(packet.len(), 16);
    assert_eq!(&packet[4..8], &80877102u32.to_be_bytes());
    assert_eq!(&packet[8..12], &42i32.to_be_bytes());
}

proptest! {
    /// Arbitrary bytes never panic the session, in any phase, at any split.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512), chunk in 1usize..64, ready_first in any::<bool>()) {
        let mut s = if ready_first { connected() } else { session(Some("pw")) };
        if ready_first { s.write_query("SELECT 1").unwrap(); }
        let _ = replay_lenient(&mut s, &data, chunk);
    }

    /// Valid streams decode the same whatever the chunking.
    #[test]
    fn chunking_does_not_matter(chunk in 1usize..40, rows in 0usize..20) {
        let mut stream = vec![row_description(&[("n", 23)])];
        for i in 0..rows { stream.push(data_row(&[Some(&(i as i32).to_be_bytes())])); }
        stream.push(command_complete(&format!("SELECT {rows}")));
        stream.push(ready(b'I'));
        let stream = stream.concat();
        let mut a = connected();
        a.write_query("q").unwrap();
        let mut b = connected();
        b.write_query("q").unwrap();
        prop_assert_eq!(replay(&mut a, &stream, chunk).unwrap(), replay(&mut b, &stream, stream.len()).unwrap());
    }
}

/// Like `replay`, but stops at the first error and tolerates leftovers.
fn replay_lenient(s: &mut Session, stream: &[u8], chunk: usize) -> Result<(), ProtocolError> {
    let mut input = BytesMut::new();
    for piece in stream.chunks(chunk) {
        input.put_slice(piece);
        while s.next_event(&mut input)?.is_some() {}
    }
    Ok(())
}
