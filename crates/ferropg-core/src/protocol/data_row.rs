//! DataRow messages read in place, the hot path of every result.
//!
//! A result of n rows is n DataRow messages. Parsed as a general `Message`, each one
//! is split off the input into a reference-counted `Bytes` and matched through the
//! session's state machine, although a DataRow changes no session state. Here the
//! binding asks [`Session::data_row_len`](super::Session::data_row_len) whether the
//! input starts with a complete DataRow, reads its values straight from the input
//! buffer with [`DataRow`], and then discards the frame.

use super::ProtocolError;

/// A DataRow's body (after the type byte and length): a column count, then each
/// value as a 4-byte length (-1 for NULL) and that many bytes.
#[derive(Clone, Copy, Debug)]
pub struct DataRow<'a> {
    count: u16,
    values: &'a [u8],
}

impl<'a> DataRow<'a> {
    pub fn parse(body: &'a [u8]) -> Result<DataRow<'a>, ProtocolError> {
        match body {
            [hi, lo, values @ ..] => Ok(DataRow {
                count: u16::from_be_bytes([*hi, *lo]),
                values,
            }),
            _ => Err(ProtocolError::malformed("DataRow too short for its column count")),
        }
    }

    /// The number of columns the row declares.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Each column's value, None for NULL; an error for a value running past the
    /// message or bytes left over after the last one.
    pub fn values(&self) -> Values<'a> {
        Values {
            remaining: self.count,
            rest: self.values,
        }
    }
}

pub struct Values<'a> {
    remaining: u16,
    rest: &'a [u8],
}

impl<'a> Iterator for Values<'a> {
    type Item = Result<Option<&'a [u8]>, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            if self.rest.is_empty() {
                return None;
            }
            let extra = std::mem::take(&mut self.rest).len();
            return Some(Err(ProtocolError::malformed(format!(
                "DataRow has {extra} bytes after its last column"
            ))));
        }
        self.remaining -= 1;
        let Some((len, after)) = self.rest.split_first_chunk::<4>() else {
            return Some(self.stop("DataRow ends inside a value's length"));
        };
        let len = i32::from_be_bytes(*len);
        if len == -1 {
            self.rest = after;
            return Some(Ok(None));
        }
        let Ok(len) = usize::try_from(len) else {
            return Some(self.stop("DataRow has a negative value length"));
        };
        if len > after.len() {
            return Some(self.stop("DataRow value runs past the end of the message"));
        }
        let (value, rest) = after.split_at(len);
        self.rest = rest;
        Some(Ok(Some(value)))
    }
}

impl Values<'_> {
    /// Report `why` once, then end.
    fn stop<T>(&mut self, why: &str) -> Result<T, ProtocolError> {
        self.remaining = 0;
        self.rest = &[];
        Err(ProtocolError::malformed(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(values: &[Option<Vec<u8>>]) -> Vec<u8> {
        let mut body = (values.len() as u16).to_be_bytes().to_vec();
        for v in values {
            match v {
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(bytes) => {
                    body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    body.extend_from_slice(bytes);
                }
            }
        }
        body
    }

    fn read(body: &[u8]) -> Result<Vec<Option<Vec<u8>>>, ProtocolError> {
        DataRow::parse(body)?
            .values()
            .map(|v| v.map(|v| v.map(<[u8]>::to_vec)))
            .collect()
    }

    #[test]
    fn values_nulls_and_empty_values() {
        let row = vec![Some(b"42".to_vec()), None, Some(Vec::new())];
        let body = encode(&row);
        assert_eq!(DataRow::parse(&body).unwrap().len(), 3);
        assert_eq!(read(&body).unwrap(), row);
        assert_eq!(read(&encode(&[])).unwrap(), Vec::<Option<Vec<u8>>>::new());
    }

    #[test]
    fn malformed_rows_are_refused() {
        let good = encode(&[Some(b"abc".to_vec())]);
        for (body, why) in [
            (&[0u8][..], "too short for its column count"),
            (&good[..good.len() - 1], "runs past the end"),
            (&good[..4], "inside a value's length"),
            (&[0, 1, 0xff, 0xff, 0xff, 0xfe][..], "negative value length"),
        ] {
            let err = read(body).unwrap_err().to_string();
            assert!(err.contains(why), "{body:?}: {err}");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(read(&extra)
            .unwrap_err()
            .to_string()
            .contains("1 bytes after its last column"));
    }

    #[test]
    fn an_error_ends_the_iteration() {
        let mut values = DataRow::parse(&[0, 3, 0, 0]).unwrap().values();
        assert!(values.next().unwrap().is_err());
        assert!(values.next().is_none());
    }

    proptest! {
        #[test]
        fn round_trips(row in proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)), 0..20)) {
            prop_assert_eq!(read(&encode(&row)).unwrap(), row);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = read(&body);
        }
    }
}
