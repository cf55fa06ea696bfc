//! Arbitrary bytes (as lossy UTF-8) through the JSON parser: nothing may panic, and
//! whatever parses must come back unchanged from a plain re-serialization.
#![no_main]

use std::fmt::Write as _;

use ferropg_core::json::{parse, Builder};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Big(String),
    Float(f64),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Big(a), Value::Big(b)) | (Value::Str(a), Value::Str(b)) => a == b,
            // Bitwise, so -0.0 != 0.0.
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Arr(a), Value::Arr(b)) => a == b,
            (Value::Obj(a), Value::Obj(b)) => a == b,
            _ => false,
        }
    }
}

struct Tree;

impl Builder for Tree {
    type Value = Value;
    type Error = ();
    fn null(&mut self) -> Result<Value, ()> {
        Ok(Value::Null)
    }
    fn boolean(&mut self, v: bool) -> Result<Value, ()> {
        Ok(Value::Bool(v))
    }
    fn int(&mut self, v: i64) -> Result<Value, ()> {
        Ok(Value::Int(v))
    }
    fn big_int(&mut self, text: &str) -> Result<Value, ()> {
        assert!(text.trim_start_matches('-').len() > 18, "{text}");
        Ok(Value::Big(text.to_owned()))
    }
    fn float(&mut self, v: f64) -> Result<Value, ()> {
        assert!(!v.is_nan());
        Ok(Value::Float(v))
    }
    fn string(&mut self, s: &str) -> Result<Value, ()> {
        Ok(Value::Str(s.to_owned()))
    }
    fn key(&mut self, s: &str) -> Result<Value, ()> {
        Ok(Value::Str(s.to_owned()))
    }
    fn array(&mut self) -> Result<Value, ()> {
        Ok(Value::Arr(Vec::new()))
    }
    fn push(&mut self, array: &mut Value, item: Value) -> Result<(), ()> {
        let Value::Arr(items) = array else { return Err(()) };
        items.push(item);
        Ok(())
    }
    fn object(&mut self) -> Result<Value, ()> {
        Ok(Value::Obj(Vec::new()))
    }
    fn insert(&mut self, object: &mut Value, key: Value, value: Value) -> Result<(), ()> {
        let (Value::Obj(members), Value::Str(key)) = (object, key) else {
            return Err(());
        };
        // A Python dict: a repeated key keeps its place and takes the new value.
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => members.push((key, value)),
        }
        Ok(())
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < ' ' => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => write!(out, "{b}").unwrap(),
        Value::Int(i) => write!(out, "{i}").unwrap(),
        Value::Big(digits) => out.push_str(digits),
        Value::Float(f) if f.is_infinite() => out.push_str(if *f > 0.0 { "1e999" } else { "-1e999" }),
        Value::Float(f) => write!(out, "{f:e}").unwrap(),
        Value::Str(s) => write_str(s, out),
        Value::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(value) = parse(&text, &mut Tree) else {
        return;
    };
    let mut again = String::new();
    write(&value, &mut again);
    assert_eq!(parse(&again, &mut Tree).ok(), Some(value), "{again}");
});
