//! JSON text to values through a caller-supplied [`Builder`], so the Python crate can
//! build dict/list/str/int/float straight from `json`/`jsonb` column text instead of
//! calling `json.loads` once per value.
//!
//! The contract: an `Ok` result is exactly what `json.loads(text)` (Python 3.11,
//! default arguments) returns. Whatever this parser would not handle exactly like
//! `json.loads` is [`ParseError::Unsupported`], and the caller hands the text to
//! `json.loads`, which produces its own result or error. Falling back is always
//! allowed, so the parser stays strict: the JSON grammar, JSON whitespace only, no
//! `NaN`/`Infinity`, no lone surrogates, bounded nesting, bounded integer size.

use ParseError::Unsupported;

/// Deeper nesting is left to `json.loads` (which has its own recursion limit); this
/// bounds the parser's stack use.
pub const MAX_DEPTH: usize = 256;

/// Integers with more digits are left to `json.loads`: Python's default
/// `int_max_str_digits` makes it raise there, and the decimal conversion is quadratic.
pub const MAX_INT_DIGITS: usize = 4300;

/// Builds the values of one document. Containers are created empty when they open and
/// filled in document order; on an error the parse stops and partial values are dropped.
pub trait Builder {
    type Value;
    type Error;
    fn null(&mut self) -> Result<Self::Value, Self::Error>;
    fn boolean(&mut self, v: bool) -> Result<Self::Value, Self::Error>;
    /// An integer literal that fits i64 (`-0` comes as 0, as in Python).
    fn int(&mut self, v: i64) -> Result<Self::Value, Self::Error>;
    /// An integer literal too big for i64: its exact text (optional `-`, then 20 to
    /// [`MAX_INT_DIGITS`] digits without leading zeros). Convert it as Python's `int(text)`
    /// does, so a lowered `sys.set_int_max_str_digits` raises as it would in `json.loads`.
    fn big_int(&mut self, text: &str) -> Result<Self::Value, Self::Error>;
    /// A number with a fraction or exponent, correctly rounded as Python's `float(text)`
    /// reads it (overflow gives ±inf, underflow ±0.0, as there).
    fn float(&mut self, v: f64) -> Result<Self::Value, Self::Error>;
    fn string(&mut self, s: &str) -> Result<Self::Value, Self::Error>;
    /// An object key (kept apart from [`Builder::string`] so the builder may cache keys).
    fn key(&mut self, s: &str) -> Result<Self::Value, Self::Error>;
    fn array(&mut self) -> Result<Self::Value, Self::Error>;
    fn push(&mut self, array: &mut Self::Value, item: Self::Value) -> Result<(), Self::Error>;
    fn object(&mut self) -> Result<Self::Value, Self::Error>;
    /// Called once per member in document order. Duplicate keys: the later value replaces
    /// the earlier one, which keeps its position (a Python dict does that on its own).
    fn insert(
        &mut self,
        object: &mut Self::Value,
        key: Self::Value,
        value: Self::Value,
    ) -> Result<(), Self::Error>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError<E> {
    /// Not handled exactly like `json.loads` would (including all malformed input): use
    /// `json.loads` instead.
    Unsupported,
    /// The builder failed; the parse stopped there.
    Build(E),
}

/// Parses one JSON document (surrounding JSON whitespace allowed) through `builder`.
pub fn parse<B: Builder>(text: &str, builder: &mut B) -> Result<B::Value, ParseError<B::Error>> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        buf: String::new(),
        builder,
    };
    p.skip_ws();
    let value = p.value()?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(Unsupported);
    }
    Ok(value)
}

type Res<T, B> = Result<T, ParseError<<B as Builder>::Error>>;

fn build<T, E>(r: Result<T, E>) -> Result<T, ParseError<E>> {
    r.map_err(ParseError::Build)
}

struct Parser<'a, 'b, B> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// The decoded text of the current string when it has escapes; reused across strings.
    buf: String,
    builder: &'b mut B,
}

/// Where a scanned string's text is: a slice of the input, or `buf`.
enum Scanned {
    Raw(usize, usize),
    Buf,
}

impl<B: Builder> Parser<'_, '_, B> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let found = self.bytes.get(self.pos) == Some(&b);
        self.pos += usize::from(found);
        found
    }

    fn value(&mut self) -> Res<B::Value, B> {
        match self.bytes.get(self.pos) {
            Some(b'"') => self.string_with(|b, s| b.string(s)),
            Some(b'[') => self.array(),
            Some(b'{') => self.object(),
            Some(b't') => {
                self.literal(b"true")?;
                build(self.builder.boolean(true))
            }
            Some(b'f') => {
                self.literal(b"false")?;
                build(self.builder.boolean(false))
            }
            Some(b'n') => {
                self.literal(b"null")?;
                build(self.builder.null())
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            // NaN and Infinity (json.loads takes them), end of input, garbage.
            _ => Err(Unsupported),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Res<(), B> {
        if self.bytes.get(self.pos..self.pos + word.len()) != Some(word) {
            return Err(Unsupported);
        }
        self.pos += word.len();
        Ok(())
    }

    /// Steps over an opening bracket into one more level of nesting.
    fn enter(&mut self) -> Res<(), B> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn array(&mut self) -> Res<B::Value, B> {
        self.enter()?;
        let mut array = build(self.builder.array())?;
        self.skip_ws();
        if !self.eat(b']') {
            loop {
                let item = self.value()?;
                build(self.builder.push(&mut array, item))?;
                self.skip_ws();
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(Unsupported);
                }
                self.skip_ws();
            }
        }
        self.depth -= 1;
        Ok(array)
    }

    fn object(&mut self) -> Res<B::Value, B> {
        self.enter()?;
        let mut object = build(self.builder.object())?;
        self.skip_ws();
        if !self.eat(b'}') {
            loop {
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return Err(Unsupported);
                }
                let key = self.string_with(|b, s| b.key(s))?;
                self.skip_ws();
                if !self.eat(b':') {
                    return Err(Unsupported);
                }
                self.skip_ws();
                let value = self.value()?;
                build(self.builder.insert(&mut object, key, value))?;
                self.skip_ws();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(Unsupported);
                }
                self.skip_ws();
            }
        }
        self.depth -= 1;
        Ok(object)
    }

    /// Scans the string whose opening quote is next and hands its text to `f`.
    fn string_with<T>(&mut self, f: impl FnOnce(&mut B, &str) -> Result<T, B::Error>) -> Res<T, B> {
        let s = match self.scan_string()? {
            Scanned::Raw(start, end) => self.text.get(start..end).ok_or(Unsupported)?,
            Scanned::Buf => self.buf.as_str(),
        };
        build(f(self.builder, s))
    }

    fn scan_string(&mut self) -> Res<Scanned, B> {
        let start = self.pos + 1;
        // Start of the current run without escapes.
        let mut run = start;
        let mut escaped = false;
        loop {
            let i = find_special(self.bytes, run);
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    if !escaped {
                        return Ok(Scanned::Raw(start, i));
                    }
                    self.buf.push_str(self.text.get(run..i).ok_or(Unsupported)?);
                    return Ok(Scanned::Buf);
                }
                Some(b'\\') => {
                    if !escaped {
                        self.buf.clear();
                        escaped = true;
                    }
                    self.buf.push_str(self.text.get(run..i).ok_or(Unsupported)?);
                    run = self.escape(i + 1)?;
                }
                // A raw control character (an error in json.loads' default strict mode), or
                // the end of input.
                _ => return Err(Unsupported),
            }
        }
    }

    /// Decodes the escape whose letter is at `at` into `buf`; returns the index after it.
    fn escape(&mut self, at: usize) -> Res<usize, B> {
        let c = match self.bytes.get(at) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(at + 1),
            _ => return Err(Unsupported),
        };
        self.buf.push(c);
        Ok(at + 1)
    }

    /// A `\u` escape whose four hex digits start at `at`; a high surrogate must be followed
    /// by a `\u` escape of a low one, and the pair makes one character.
    fn unicode_escape(&mut self, at: usize) -> Res<usize, B> {
        let hi = hex4(self.bytes, at).ok_or(Unsupported)?;
        let (code, next) = if (0xD800..0xDC00).contains(&hi) {
            // Anything but a low surrogate next leaves json.loads with a lone surrogate,
            // which a &str cannot hold.
            if self.bytes.get(at + 4..at + 6) != Some(b"\\u") {
                return Err(Unsupported);
            }
            let lo = hex4(self.bytes, at + 6).ok_or(Unsupported)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(Unsupported);
            }
            (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), at + 10)
        } else {
            (hi, at + 4)
        };
        // None for a lone low surrogate.
        self.buf.push(char::from_u32(code).ok_or(Unsupported)?);
        Ok(next)
    }

    fn number(&mut self) -> Res<B::Value, B> {
        let b = self.bytes;
        let start = self.pos;
        let negative = b.get(start) == Some(&b'-');
        let int_start = start + usize::from(negative);
        let int_end = match b.get(int_start) {
            Some(b'0') => int_start + 1,
            Some(b'1'..=b'9') => skip_digits(b, int_start + 1),
            // "-Infinity", a lone "-".
            _ => return Err(Unsupported),
        };
        let mut end = int_end;
        if b.get(end) == Some(&b'.') {
            let frac_end = skip_digits(b, end + 1);
            if frac_end == end + 1 {
                return Err(Unsupported);
            }
            end = frac_end;
        }
        if let Some(b'e' | b'E') = b.get(end) {
            let mut exp_start = end + 1;
            if let Some(b'+' | b'-') = b.get(exp_start) {
                exp_start += 1;
            }
            let exp_end = skip_digits(b, exp_start);
            if exp_end == exp_start {
                return Err(Unsupported);
            }
            end = exp_end;
        }
        self.pos = end;
        let text = self.text.get(start..end).ok_or(Unsupported)?;
        if end != int_end {
            // Correctly rounded like Python's float(); both overflow to ±inf.
            let v = text.parse::<f64>().map_err(|_| Unsupported)?;
            return build(self.builder.float(v));
        }
        let digits = b.get(int_start..int_end).ok_or(Unsupported)?;
        match int_value(digits, negative) {
            Some(v) => build(self.builder.int(v)),
            None if digits.len() <= MAX_INT_DIGITS => build(self.builder.big_int(text)),
            None => Err(Unsupported),
        }
    }
}

/// The value of an ASCII digit string (at least one digit) if it fits i64.
fn int_value(digits: &[u8], negative: bool) -> Option<i64> {
    // 19 digits always fit u64.
    if digits.len() > 19 {
        return None;
    }
    let magnitude = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d.wrapping_sub(b'0')));
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

fn skip_digits(bytes: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(i) {
        i += 1;
    }
    i
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    digits
        .iter()
        .try_fold(0, |acc, &d| Some(acc << 4 | char::from(d).to_digit(16)?))
}

const ONES: u64 = u64::from_le_bytes([1; 8]);

/// Whether any of the eight bytes is `"`, `\` or below 0x20: the "has a byte less than n"
/// bit trick (exact for n <= 128), with n = 1 on the xors for `"` and `\`.
fn has_special(w: u64) -> bool {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let found = (quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (w.wrapping_sub(ONES * 0x20) & !w);
    found & (ONES * 0x80) != 0
}

/// Index of the first `"`, `\` or control character at or after `from`, else `bytes.len()`.
fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    // Eight bytes at a time over plain text, then byte by byte to the exact spot.
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        if has_special(u64::from_le_bytes(*word)) {
            break;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    /// An owned JSON tree; objects keep insertion order like a Python dict.
    #[derive(Debug, Clone)]
    enum J {
        Null,
        Bool(bool),
        Int(i64),
        Big(String),
        Float(f64),
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    impl PartialEq for J {
        fn eq(&self, other: &J) -> bool {
            match (self, other) {
                (J::Null, J::Null) => true,
                (J::Bool(a), J::Bool(b)) => a == b,
                (J::Int(a), J::Int(b)) => a == b,
                (J::Big(a), J::Big(b)) | (J::Str(a), J::Str(b)) => a == b,
                // Bitwise, so -0.0 != 0.0.
                (J::Float(a), J::Float(b)) => a.to_bits() == b.to_bits(),
                (J::Arr(a), J::Arr(b)) => a == b,
                (J::Obj(a), J::Obj(b)) => a == b,
                _ => false,
            }
        }
    }

    /// Python dict assignment: a new key goes last, an existing one keeps its place.
    fn dict_insert(members: &mut Vec<(String, J)>, key: String, value: J) {
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => members.push((key, value)),
        }
    }

    /// What a Python dict makes of objects with duplicate keys.
    fn normalize(v: &J) -> J {
        match v {
            J::Arr(items) => J::Arr(items.iter().map(normalize).collect()),
            J::Obj(members) => {
                let mut out = Vec::new();
                for (k, v) in members {
                    dict_insert(&mut out, k.clone(), normalize(v));
                }
                J::Obj(out)
            }
            other => other.clone(),
        }
    }

    #[derive(Default)]
    struct Tree {
        /// A key that makes the builder fail.
        fail_on: Option<&'static str>,
    }

    impl Builder for Tree {
        type Value = J;
        type Error = String;
        fn null(&mut self) -> Result<J, String> {
            Ok(J::Null)
        }
        fn boolean(&mut self, v: bool) -> Result<J, String> {
            Ok(J::Bool(v))
        }
        fn int(&mut self, v: i64) -> Result<J, String> {
            Ok(J::Int(v))
        }
        fn big_int(&mut self, text: &str) -> Result<J, String> {
            Ok(J::Big(text.to_owned()))
        }
        fn float(&mut self, v: f64) -> Result<J, String> {
            Ok(J::Float(v))
        }
        fn string(&mut self, s: &str) -> Result<J, String> {
            Ok(J::Str(s.to_owned()))
        }
        fn key(&mut self, s: &str) -> Result<J, String> {
            if self.fail_on == Some(s) {
                return Err(format!("bad key {s}"));
            }
            Ok(J::Str(s.to_owned()))
        }
        fn array(&mut self) -> Result<J, String> {
            Ok(J::Arr(Vec::new()))
        }
        fn push(&mut self, array: &mut J, item: J) -> Result<(), String> {
            let J::Arr(items) = array else {
                return Err("push to a non-array".into());
            };
            items.push(item);
            Ok(())
        }
        fn object(&mut self) -> Result<J, String> {
            Ok(J::Obj(Vec::new()))
        }
        fn insert(&mut self, object: &mut J, key: J, value: J) -> Result<(), String> {
            let (J::Obj(members), J::Str(key)) = (object, key) else {
                return Err("bad insert".into());
            };
            dict_insert(members, key, value);
            Ok(())
        }
    }

    fn try_parse(text: &str) -> Result<J, ParseError<String>> {
        parse(text, &mut Tree::default())
    }

    #[track_caller]
    fn ok(text: &str) -> J {
        try_parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    #[track_caller]
    fn unsupported(text: &str) {
        assert_eq!(try_parse(text), Err(ParseError::Unsupported), "{text:?}");
    }

    fn s(x: &str) -> J {
        J::Str(x.to_owned())
    }

    fn obj(members: &[(&str, J)]) -> J {
        J::Obj(
            members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn literals() {
        assert_eq!(ok("null"), J::Null);
        assert_eq!(ok("true"), J::Bool(true));
        assert_eq!(ok("false"), J::Bool(false));
        for bad in [
            "nul", "nulll", "null1", "Null", "True", "tru", "falsey", "none", "t", "n",
        ] {
            unsupported(bad);
        }
    }

    #[test]
    fn integers() {
        assert_eq!(ok("0"), J::Int(0));
        assert_eq!(ok("-0"), J::Int(0));
        assert_eq!(ok("123"), J::Int(123));
        assert_eq!(ok("-123"), J::Int(-123));
        assert_eq!(ok("9223372036854775807"), J::Int(i64::MAX));
        assert_eq!(ok("-9223372036854775808"), J::Int(i64::MIN));
        assert_eq!(ok("1000000000000000000"), J::Int(1_000_000_000_000_000_000));
        assert_eq!(ok("9999999999999999999"), J::Big("9999999999999999999".into()));
        assert_eq!(ok("9223372036854775808"), J::Big("9223372036854775808".into()));
        assert_eq!(ok("-9223372036854775809"), J::Big("-9223372036854775809".into()));
        assert_eq!(ok("18446744073709551616"), J::Big("18446744073709551616".into()));
        let long = format!("-{}", "7".repeat(MAX_INT_DIGITS));
        assert_eq!(ok(&long), J::Big(long.clone()));
        // Python's int_max_str_digits.
        unsupported(&"7".repeat(MAX_INT_DIGITS + 1));
        unsupported(&format!("[-{}]", "7".repeat(MAX_INT_DIGITS + 1)));
    }

    #[test]
    fn floats() {
        assert_eq!(ok("1.5e3"), J::Float(1500.0));
        assert_eq!(ok("1.5"), J::Float(1.5));
        assert_eq!(ok("-0.0"), J::Float(-0.0));
        assert_eq!(ok("0.0"), J::Float(0.0));
        assert_eq!(ok("0e0"), J::Float(0.0));
        assert_eq!(ok("-0e5"), J::Float(-0.0));
        assert_eq!(ok("1E5"), J::Float(1e5));
        assert_eq!(ok("1e+5"), J::Float(1e5));
        assert_eq!(ok("1e-5"), J::Float(1e-5));
        assert_eq!(ok("0.1"), J::Float(0.1));
        assert_eq!(ok("1e400"), J::Float(f64::INFINITY));
        assert_eq!(ok("-1e400"), J::Float(f64::NEG_INFINITY));
        assert_eq!(ok("1e-400"), J::Float(0.0));
        assert_eq!(ok("-1e-400"), J::Float(-0.0));
        assert_eq!(ok("1e99999999999999999999999"), J::Float(f64::INFINITY));
        assert_eq!(
            ok("2.2250738585072011e-308"),
            J::Float(2.225_073_858_507_201e-308)
        );
        assert_eq!(ok("9007199254740993.0"), J::Float(9_007_199_254_740_992.0));
        assert_eq!(
            ok("123456789012345678901234567890.5"),
            J::Float(1.234_567_890_123_456_8e29)
        );
        assert_eq!(ok("5e-324"), J::Float(f64::from_bits(1)));
    }

    #[test]
    fn malformed_numbers() {
        for bad in [
            "01",
            "-01",
            "00",
            "+1",
            ".5",
            "-.5",
            "1.",
            "1.e5",
            "1e",
            "1e+",
            "1E-",
            "-",
            "--1",
            "1.5.",
            "1.5.5",
            "0x10",
            "1_000",
            "1e5.5",
            "１",
            "1 2",
            "[01]",
            "[1.]",
            "{\"a\":-}",
            "-a",
            "1ee5",
            "1e5e5",
        ] {
            unsupported(bad);
        }
        // json.loads takes these; they are left to it.
        for special in ["NaN", "Infinity", "-Infinity", "[NaN]", "{\"a\": -Infinity}"] {
            unsupported(special);
        }
    }

    #[test]
    fn postgres_jsonb_output() {
        assert_eq!(
            ok(r#"{"id": 1, "tags": ["a", 1]}"#),
            obj(&[("id", J::Int(1)), ("tags", J::Arr(vec![s("a"), J::Int(1)]))])
        );
        assert_eq!(
            ok(r#"{"a": {"b": [1, {"c": null}]}, "d": [], "e": {}, "f": 1.25, "g": true}"#),
            obj(&[
                (
                    "a",
                    obj(&[("b", J::Arr(vec![J::Int(1), obj(&[("c", J::Null)])]))])
                ),
                ("d", J::Arr(vec![])),
                ("e", obj(&[])),
                ("f", J::Float(1.25)),
                ("g", J::Bool(true)),
            ])
        );
        assert_eq!(ok("[]"), J::Arr(vec![]));
        assert_eq!(ok("{}"), obj(&[]));
        assert_eq!(ok("[[]]"), J::Arr(vec![J::Arr(vec![])]));
        assert_eq!(ok("[{}]"), J::Arr(vec![obj(&[])]));
        assert_eq!(ok(r#""plain""#), s("plain"));
    }

    #[test]
    fn whitespace() {
        assert_eq!(ok(" \t\n\r1 \t\n\r"), J::Int(1));
        assert_eq!(ok("[ 1 , 2 ]"), J::Arr(vec![J::Int(1), J::Int(2)]));
        assert_eq!(ok("[ ]"), J::Arr(vec![]));
        assert_eq!(ok("{ \n }"), obj(&[]));
        assert_eq!(
            ok("\n{\r\n\t\"a\" :\t1 ,\"b\":[ ] }\n"),
            obj(&[("a", J::Int(1)), ("b", J::Arr(vec![]))])
        );
        // Only JSON's four whitespace characters.
        for bad in [
            "\u{b}1",
            "1\u{c}",
            "\u{a0}1",
            "\u{feff}1",
            "[1,\u{2028}2]",
            "1\0",
            "{\"a\":\u{85}1}",
            "1 x",
        ] {
            unsupported(bad);
        }
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(ok(r#""""#), s(""));
        assert_eq!(ok(r#""abc""#), s("abc"));
        assert_eq!(ok(r#""\"\\\/\b\f\n\r\t""#), s("\"\\/\u{8}\u{c}\n\r\t"));
        assert_eq!(ok(r#""\u0041\u00e9\u20AC\uFFFF""#), s("Aé€\u{ffff}"));
        assert_eq!(ok(r#""\u0000""#), s("\0"));
        assert_eq!(ok("\"é\\n€ \u{7f} \u{2028}\""), s("é\n€ \u{7f} \u{2028}"));
        // Surrogate pairs, hex in either case.
        assert_eq!(ok(r#""\ud83d\ude00""#), s("😀"));
        assert_eq!(ok(r#""\uD83D\uDE00x""#), s("😀x"));
        assert_eq!(ok(r#""\udbff\udfff""#), s("\u{10ffff}"));
        assert_eq!(ok("\"😀\""), s("😀"));
        // Escapes at every offset around the eight-byte blocks.
        for n in 0..20 {
            let pad = "x".repeat(n);
            assert_eq!(ok(&format!("\"{pad}\\n{pad}\"")), s(&format!("{pad}\n{pad}")));
            assert_eq!(
                ok(&format!("[\"{pad}\", \"{pad}\"]")),
                J::Arr(vec![s(&pad), s(&pad)])
            );
            unsupported(&format!("\"{pad}\u{1}{pad}\""));
        }
        // The escape buffer is reused: a plain string between escaped ones, escaped keys.
        assert_eq!(
            ok(r#"{"k\t": ["a\nb", "c", "d\te"], "\u0041": "\"x\""}"#),
            obj(&[
                ("k\t", J::Arr(vec![s("a\nb"), s("c"), s("d\te")])),
                ("A", s("\"x\""))
            ])
        );
    }

    #[test]
    fn unsupported_strings() {
        for bad in [
            // Raw control characters (json.loads' strict mode).
            "\"\0\"",
            "\"\u{1f}\"",
            "\"a\nb\"",
            "\"\t\"",
            "\"\r\"",
            // Unterminated.
            "\"",
            "\"abc",
            "\"abc\\",
            "\"abc\\\"",
            "\"\\u00",
            "[\"a]",
            "{\"a",
            // Unknown or short escapes.
            r#""\x41""#,
            r#""\a""#,
            r#""\'""#,
            r#""\U0041""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\u{41}""#,
            r#""\u 123""#,
            r#""\u+123""#,
            "\"\\\u{e9}\"",
            // Lone surrogates.
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800x""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#""\ud800\n""#,
            r#""\ud800\udc0""#,
            r#""\ud800\udc0g""#,
            r#""\udfff\ud800""#,
            r#""\ud800\""#,
            // Single quotes.
            "'a'",
        ] {
            unsupported(bad);
        }
    }

    #[test]
    fn unsupported_structure() {
        for bad in [
            "",
            "   ",
            "[",
            "]",
            "[1",
            "[1,",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1,,2]",
            "[1]]",
            "{",
            "}",
            "{}}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{a:1}",
            "{'a':1}",
            "{1:1}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "{,}",
            "{\"a\"::1}",
            "[1]x",
            "1,",
            "[] []",
            "{\"a\":1}}",
            "[}",
            "{]",
            "\u{feff}[]",
        ] {
            unsupported(bad);
        }
    }

    #[test]
    fn duplicate_keys_keep_the_first_position_and_the_last_value() {
        assert_eq!(
            ok(r#"{"a": 1, "b": 2, "a": 3}"#),
            obj(&[("a", J::Int(3)), ("b", J::Int(2))])
        );
        assert_eq!(
            ok(r#"{"a": 1, "\u0061": [2]}"#),
            obj(&[("a", J::Arr(vec![J::Int(2)]))])
        );
    }

    #[test]
    fn nesting_depth() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let mut expected = J::Arr(vec![]);
        for _ in 1..MAX_DEPTH {
            expected = J::Arr(vec![expected]);
        }
        assert_eq!(ok(&nested(MAX_DEPTH)), expected);
        unsupported(&nested(MAX_DEPTH + 1));
        let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(try_parse(&objects(MAX_DEPTH)).is_ok());
        unsupported(&objects(MAX_DEPTH + 1));
        // Siblings do not add up.
        let wide = format!("[{}]", vec![nested(MAX_DEPTH - 1); 3].join(","));
        assert!(try_parse(&wide).is_ok());
        // No stack overflow, however deep.
        unsupported(&"[".repeat(1_000_000));
        unsupported(&"{\"a\":".repeat(1_000_000));
    }

    #[test]
    fn builder_errors_stop_the_parse() {
        let mut tree = Tree { fail_on: Some("x") };
        assert_eq!(
            parse(r#"{"a": 1, "x": 2}"#, &mut tree),
            Err(ParseError::Build("bad key x".into()))
        );
        // Unsupported input after the failing key does not matter: the parse stopped.
        assert_eq!(
            parse(r#"{"x": NaN"#, &mut tree),
            Err(ParseError::Build("bad key x".into()))
        );
    }

    /// Records, per string, whether it was handed over as a slice of the input.
    struct Borrows {
        input: std::ops::Range<usize>,
        borrowed: Vec<bool>,
    }

    impl Borrows {
        fn record(&mut self, s: &str) -> Result<(), ()> {
            let at = s.as_ptr() as usize;
            self.borrowed
                .push(self.input.contains(&at) && self.input.contains(&(at + s.len() - 1)));
            Ok(())
        }
    }

    impl Builder for Borrows {
        type Value = ();
        type Error = ();
        fn null(&mut self) -> Result<(), ()> {
            Ok(())
        }
        fn boolean(&mut self, _: bool) -> Result<(), ()> {
            Ok(())
        }
        fn int(&mut self, _: i64) -> Result<(), ()> {
            Ok(())
        }
        fn big_int(&mut self, text: &str) -> Result<(), ()> {
            self.record(text)
        }
        fn float(&mut self, _: f64) -> Result<(), ()> {
            Ok(())
        }
        fn string(&mut self, s: &str) -> Result<(), ()> {
            self.record(s)
        }
        fn key(&mut self, s: &str) -> Result<(), ()> {
            self.record(s)
        }
        fn array(&mut self) -> Result<(), ()> {
            Ok(())
        }
        fn push(&mut self, _: &mut (), _: ()) -> Result<(), ()> {
            Ok(())
        }
        fn object(&mut self) -> Result<(), ()> {
            Ok(())
        }
        fn insert(&mut self, _: &mut (), _: (), _: ()) -> Result<(), ()> {
            Ok(())
        }
    }

    #[test]
    fn plain_strings_are_slices_of_the_input() {
        let text = r#"{"plain": ["é€", "a\nb", "c"], "k\"": 123456789012345678901234}"#;
        let start = text.as_ptr() as usize;
        let mut b = Borrows {
            input: start..start + text.len(),
            borrowed: Vec::new(),
        };
        parse(text, &mut b).unwrap();
        assert_eq!(b.borrowed, [true, true, false, true, false, true]);
    }

    #[test]
    fn find_special_examples() {
        assert_eq!(find_special(b"", 0), 0);
        assert_eq!(find_special(b"abcdefghijklmnop", 0), 16);
        assert_eq!(find_special(b"abcdefghij\"klmnop", 3), 10);
        assert_eq!(find_special(b"abcdefghijklmno\\p", 0), 15);
        assert_eq!(find_special(b"\x1fabcdefghijklmnop", 0), 0);
        assert_eq!(find_special("ééééé\u{7f}\u{ff}\x01".as_bytes(), 0), 13);
        assert_eq!(find_special(b"ab", 5), 5);
    }

    // ---- Property tests: a serializer with random whitespace and escapes. ----

    /// xorshift64*: the serializer's choices, reproducible from one proptest seed.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Rng {
            Rng(seed | 1)
        }
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// True one time in `n`.
        fn one_in(&mut self, n: u64) -> bool {
            self.next().is_multiple_of(n)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len())]
        }
    }

    fn ws(out: &mut String, rng: &mut Rng) {
        while rng.one_in(3) {
            out.push(rng.pick(&[' ', '\t', '\n', '\r']));
        }
    }

    fn u_escape(c: char, out: &mut String, rng: &mut Rng) {
        for unit in c.encode_utf16(&mut [0; 2]) {
            let hex = format!("{unit:04x}");
            out.push_str("\\u");
            out.push_str(&if rng.one_in(2) { hex.to_uppercase() } else { hex });
        }
    }

    fn write_str(text: &str, out: &mut String, rng: &mut Rng) {
        out.push('"');
        for c in text.chars() {
            let short = match c {
                '"' => Some('"'),
                '\\' => Some('\\'),
                '/' => Some('/'),
                '\u{8}' => Some('b'),
                '\u{c}' => Some('f'),
                '\n' => Some('n'),
                '\r' => Some('r'),
                '\t' => Some('t'),
                _ => None,
            };
            let must_escape = c < ' ' || c == '"' || c == '\\';
            match short {
                Some(e) if (must_escape || rng.one_in(2)) && !rng.one_in(4) => {
                    out.push('\\');
                    out.push(e);
                }
                _ if must_escape || rng.one_in(8) => u_escape(c, out, rng),
                _ => out.push(c),
            }
        }
        out.push('"');
    }

    fn write_float(f: f64, out: &mut String, rng: &mut Rng) {
        if f.is_infinite() {
            out.push_str(if f > 0.0 { "1e999" } else { "-1e999" });
        } else if rng.one_in(2) {
            write!(out, "{f:?}").unwrap();
        } else {
            // Shortest round-trip digits with an exponent, in any of its spellings.
            let text = format!("{f:e}");
            let (mantissa, exp) = text.split_once('e').unwrap();
            let e = if rng.one_in(2) { 'e' } else { 'E' };
            let plus = if !exp.starts_with('-') && rng.one_in(2) {
                "+"
            } else {
                ""
            };
            write!(out, "{mantissa}{e}{plus}{exp}").unwrap();
        }
    }

    fn write_json(v: &J, out: &mut String, rng: &mut Rng) {
        match v {
            J::Null => out.push_str("null"),
            J::Bool(b) => write!(out, "{b}").unwrap(),
            J::Int(i) => write!(out, "{i}").unwrap(),
            J::Big(digits) => out.push_str(digits),
            J::Float(f) => write_float(*f, out, rng),
            J::Str(text) => write_str(text, out, rng),
            J::Arr(items) => {
                out.push('[');
                ws(out, rng);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        ws(out, rng);
                    }
                    write_json(item, out, rng);
                    ws(out, rng);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                ws(out, rng);
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        ws(out, rng);
                    }
                    write_str(k, out, rng);
                    ws(out, rng);
                    out.push(':');
                    ws(out, rng);
                    write_json(v, out, rng);
                    ws(out, rng);
                }
                out.push('}');
            }
        }
    }

    fn serialize(v: &J, rng: &mut Rng) -> String {
        let mut out = String::new();
        ws(&mut out, rng);
        write_json(v, &mut out, rng);
        ws(&mut out, rng);
        out
    }

    fn key() -> impl Strategy<Value = String> {
        // A small alphabet makes duplicate keys common.
        prop_oneof!["[ab\"\\\\é]{0,2}", any::<String>()]
    }

    fn leaf() -> impl Strategy<Value = J> {
        prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<i64>().prop_map(J::Int),
            (-1000i64..1000).prop_map(J::Int),
            // 20 digits and more never fit i64.
            "-?[1-9][0-9]{19,60}".prop_map(J::Big),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(J::Float),
            Just(J::Float(-0.0)),
            any::<String>().prop_map(J::Str),
            "[\\\\\"/\u{0}-\u{1f}a\u{e9}\u{20ac}\u{1f600}]{0,12}".prop_map(J::Str),
        ]
    }

    fn tree() -> impl Strategy<Value = J> {
        leaf().prop_recursive(6, 96, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(J::Arr),
                prop::collection::vec((key(), inner), 0..8).prop_map(J::Obj),
            ]
        })
    }

    /// One character of JSON-ish noise for mutations.
    const NOISE: &[char] = &[
        '[', ']', '{', '}', '"', ',', ':', '\\', 'u', 'd', '0', '1', '9', '-', '+', '.', 'e', 'E', ' ', '\n',
        '\t', '\u{b}', '\0', 'n', 't', 'f', 'N', 'I', 'é', '😀',
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any tree, serialized with random whitespace and escapes, parses back to itself
        /// (duplicate keys resolved as a dict does).
        #[test]
        fn round_trip(value in tree(), seed in any::<u64>()) {
            let text = serialize(&value, &mut Rng::new(seed));
            prop_assert_eq!(try_parse(&text), Ok(normalize(&value)), "{}", text);
        }

        #[test]
        fn arbitrary_strings_never_panic(text in any::<String>()) {
            let _ = try_parse(&text);
        }

        #[test]
        fn jsonish_strings_never_panic(text in "[\\[\\]{}\",:0-9eE.+\\-\\\\u dtfnrlaINy \t\n\u{b}\u{0}\u{e9}]{0,48}") {
            if let Ok(v) = try_parse(&text) {
                // What parses re-serializes to the same value.
                let again = serialize(&v, &mut Rng::new(1));
                prop_assert_eq!(try_parse(&again), Ok(v));
            }
        }

        /// Truncated and mutated documents: never a panic, and what still parses is consistent.
        #[test]
        fn mutations_never_panic(value in tree(), seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let text = serialize(&value, &mut rng);
            let mut chars: Vec<char> = text.chars().collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(chars.len() + 1);
                match rng.below(4) {
                    0 => chars.truncate(at),
                    1 if at < chars.len() => chars[at] = rng.pick(NOISE),
                    2 if at < chars.len() => { chars.remove(at); }
                    _ => chars.insert(at, rng.pick(NOISE)),
                }
            }
            let mutated: String = chars.into_iter().collect();
            if let Ok(v) = try_parse(&mutated) {
                let again = serialize(&v, &mut rng);
                prop_assert_eq!(try_parse(&again), Ok(v));
            }
        }

        #[test]
        fn find_special_matches_a_plain_scan(
            bytes in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(0x1f), Just(0x20), Just(0x7f), any::<u8>(), 0x21u8..0x7e], 0..40),
            from in 0usize..45,
        ) {
            let expected = (from..bytes.len())
                .find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(from.max(bytes.len()));
            prop_assert_eq!(find_special(&bytes, from), expected);
        }
    }

    // ---- Cross-check against Python's json.loads, when a python3 is around. ----

    /// The same canonical form on both sides: exact ints, float bits, UTF-8 hex.
    const CANONICAL_PY: &str = r#"
import json, struct, sys
def enc(v, out):
    if v is None: out.append('n')
    elif v is True: out.append('t')
    elif v is False: out.append('f')
    elif isinstance(v, int): out.append('i%d;' % v)
    elif isinstance(v, float): out.append('d%x;' % struct.unpack('<Q', struct.pack('<d', v))[0])
    elif isinstance(v, str): out.append('s%s;' % v.encode('utf-8', 'surrogatepass').hex())
    elif isinstance(v, list):
        out.append('[')
        for x in v: enc(x, out)
        out.append(']')
    else:
        out.append('{')
        for k, x in v.items():
            enc(k, out)
            enc(x, out)
        out.append('}')
for line in sys.stdin:
    text = bytes.fromhex(line.strip()).decode('utf-8')
    try:
        v = json.loads(text)
    except (ValueError, RecursionError):
        print('E')
        continue
    out = []
    enc(v, out)
    print(''.join(out))
"#;

    fn canonical(v: &J, out: &mut String) {
        match v {
            J::Null => out.push('n'),
            J::Bool(true) => out.push('t'),
            J::Bool(false) => out.push('f'),
            J::Int(i) => write!(out, "i{i};").unwrap(),
            J::Big(digits) => write!(out, "i{digits};").unwrap(),
            J::Float(f) => write!(out, "d{:x};", f.to_bits()).unwrap(),
            J::Str(text) => {
                out.push('s');
                for b in text.bytes() {
                    write!(out, "{b:02x}").unwrap();
                }
                out.push(';');
            }
            J::Arr(items) => {
                out.push('[');
                items.iter().for_each(|item| canonical(item, out));
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (k, v) in members {
                    canonical(&J::Str(k.clone()), out);
                    canonical(v, out);
                }
                out.push('}');
            }
        }
    }

    fn random_string(rng: &mut Rng) -> String {
        const PALETTE: &[char] = &[
            'a',
            'z',
            ' ',
            'é',
            '€',
            '😀',
            '"',
            '\\',
            '/',
            '\n',
            '\0',
            '\u{1f}',
            '\u{7f}',
            '\u{2028}',
            '\u{ffff}',
            '\u{10ffff}',
            '\u{feff}',
        ];
        (0..rng.below(10)).map(|_| rng.pick(PALETTE)).collect()
    }

    fn random_number_text(rng: &mut Rng) -> String {
        let digits = |rng: &mut Rng, n: usize| -> String {
            (0..n).map(|_| rng.pick(&['0', '1', '5', '9', '4'])).collect()
        };
        let mut t = String::new();
        if rng.one_in(2) {
            t.push('-');
        }
        let n = 1 + rng.below(20);
        t.push(rng.pick(&['1', '2', '5', '9']));
        t.push_str(&digits(rng, n - 1));
        if rng.one_in(2) {
            t.push('.');
            let n = 1 + rng.below(25);
            t.push_str(&digits(rng, n));
        }
        if rng.one_in(2) {
            write!(t, "{}{}", rng.pick(&["e", "E", "e+", "e-", "E-"]), rng.below(400)).unwrap();
        }
        t
    }

    fn random_tree(rng: &mut Rng, depth: usize) -> J {
        match rng.below(if depth == 0 { 7 } else { 9 }) {
            0 => J::Null,
            1 => J::Bool(rng.one_in(2)),
            2 => J::Int(rng.next() as i64 >> rng.below(64)),
            3 => J::Big(format!(
                "{}{}",
                rng.pick(&["", "-"]),
                u128::from(rng.next()) * 1_000_000 + 99
            )),
            4 => J::Float(
                Some(f64::from_bits(rng.next()))
                    .filter(|f| f.is_finite())
                    .unwrap_or(0.5),
            ),
            5 | 6 => J::Str(random_string(rng)),
            7 => J::Arr((0..rng.below(5)).map(|_| random_tree(rng, depth - 1)).collect()),
            _ => J::Obj(
                (0..rng.below(5))
                    .map(|_| (random_string(rng), random_tree(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    fn cross_check_inputs() -> Vec<String> {
        let mut inputs: Vec<String> = [
            "-0",
            "1e400",
            "-0.0",
            "0e999999999999",
            "\u{feff}1",
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            "[1,]",
            "NaN",
            "-Infinity",
            "01",
            "1.",
            r#"{"a": 1, "a": 2}"#,
            "9007199254740993.0",
            "2.2250738585072011e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "0.1000000000000000055511151231257827021181583404541015625",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push("7".repeat(MAX_INT_DIGITS));
        inputs.push(format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)));
        let mut rng = Rng::new(0x5eed);
        for _ in 0..3000 {
            inputs.push(random_number_text(&mut rng));
        }
        for _ in 0..3000 {
            let text = serialize(&random_tree(&mut rng, 3), &mut rng);
            inputs.push(text.clone());
            // And a mutated copy.
            let mut chars: Vec<char> = text.chars().collect();
            let at = rng.below(chars.len() + 1);
            match rng.below(3) {
                0 => chars.truncate(at),
                1 if at < chars.len() => chars[at] = rng.pick(NOISE),
                _ => chars.insert(at, rng.pick(NOISE)),
            }
            inputs.push(chars.into_iter().collect());
        }
        for _ in 0..3000 {
            let n = rng.below(12);
            inputs.push((0..n).map(|_| rng.pick(NOISE)).collect());
        }
        inputs
    }

    /// Every `Ok` equals json.loads' result. Skipped without python3.
    #[test]
    fn agrees_with_python_json_loads() {
        use std::io::Write as _;
        use std::process::{Command, Stdio};

        let spawned = Command::new("python3")
            // -I: no PYTHON* variables (PYTHONINTMAXSTRDIGITS would change the int limit).
            .args(["-I", "-c", CANONICAL_PY])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = spawned else {
            eprintln!("python3 not available; skipping the json.loads cross-check");
            return;
        };
        let inputs = cross_check_inputs();
        let mut stdin = child.stdin.take().unwrap();
        let lines: String = inputs
            .iter()
            .map(|t| t.bytes().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
            .collect();
        let writer = std::thread::spawn(move || stdin.write_all(lines.as_bytes()));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(output.status.success(), "python3 failed");
        let results = String::from_utf8(output.stdout).unwrap();
        let results: Vec<&str> = results.lines().collect();
        assert_eq!(results.len(), inputs.len());
        let (mut ours, mut theirs) = (0, 0);
        for (text, py) in inputs.iter().zip(results) {
            theirs += usize::from(py != "E");
            if let Ok(v) = try_parse(text) {
                ours += 1;
                let mut mine = String::new();
                canonical(&v, &mut mine);
                assert_eq!(mine, py, "{text:?}");
            }
        }
        eprintln!(
            "cross-check: {} inputs, {ours} ok here, {theirs} ok in python",
            inputs.len()
        );
        // The inputs must exercise both outcomes.
        assert!(
            ours > inputs.len() / 3 && theirs > ours && theirs < inputs.len(),
            "{ours} {theirs}"
        );
    }
}
