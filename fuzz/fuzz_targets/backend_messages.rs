//! Arbitrary server bytes through the protocol session, in the startup phase and
//! after startup with a request in flight: errors are fine, panics and hangs are not.
#![no_main]

use bytes::BytesMut;
use ferropg_core::protocol::{Credentials, DataRow, Session};
use libfuzzer_sys::fuzz_target;

const TRUST_STARTUP: &[u8] = b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I";

fn session() -> Session {
    let params = vec![("user".to_owned(), "fuzz".to_owned())];
    Session::new(&params, Credentials { user: "fuzz".into(), password: Some("pw".into()) })
        .expect("constant parameters without NUL")
}

fn drain(s: &mut Session, input: &mut BytesMut) {
    // Each step consumes at least one message, so this terminates. DataRows are read in
    // place first, as the binding reads them.
    loop {
        if let Some(n) = s.data_row_len(input) {
            if let Ok(row) = DataRow::parse(&input[5..n]) {
                for value in row.values() {
                    let _ = value;
                }
            }
            let _ = input.split_to(n);
            continue;
        }
        if !matches!(s.next_event(input), Ok(Some(_))) {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let split = (split as usize).min(data.len());

    // Startup phase, fed in two pieces.
    let mut s = session();
    let mut input = BytesMut::from(&data[..split]);
    drain(&mut s, &mut input);
    input.extend_from_slice(&data[split..]);
    drain(&mut s, &mut input);

    // Ready phase with a query in flight.
    let mut s = session();
    let mut input = BytesMut::from(TRUST_STARTUP);
    drain(&mut s, &mut input);
    if s.write_query("SELECT 1").is_ok() {
        input.extend_from_slice(data);
        drain(&mut s, &mut input);
    }
});
