//! Micro-benchmarks of the core's per-query work: the SQL lexer that turns aiopg's `%s`
//! into `$n` (run once per new SQL text, then cached), connection-string parsing
//! (once per connect), and the per-value decoders that live here: JSON (jsonb columns)
//! and binary numeric. `cargo bench -p ferropg-core`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ferropg_core::conninfo::parse_dsn;
use ferropg_core::json::{self, Builder};
use ferropg_core::numeric;
use ferropg_core::sql::Statement;

/// The statements the benchmark suite (bench/) runs, in aiopg's paramstyle.
const STATEMENTS: &[(&str, &str)] = &[
    ("select_1_plus_1", "SELECT 1+1"),
    (
        "pg_type",
        "select typname, typnamespace, typowner, typlen, typbyval, typcategory, typispreferred, \
         typisdefined, typdelim, typrelid, typelem, typarray from pg_type \
         where typtypmod = %s and typisdefined = %s",
    ),
    (
        "insert_7",
        "INSERT INTO _test (a, b, c, d, e, f, g) VALUES (%s, %s, %s, %s, %s, %s, %s);",
    ),
    (
        "quotes_comments",
        "SELECT E'it''s \\' 100%%', $tag$ 'q' $tag$, \"col\" -- note\n /* block */ FROM t WHERE a = %(a)s AND b = %(b)s",
    ),
];

fn lexer(c: &mut Criterion) {
    let mut group = c.benchmark_group("sql_lexer");
    for (name, sql) in STATEMENTS {
        group.bench_function(*name, |b| {
            b.iter(|| Statement::parse(black_box(sql), true, true).unwrap())
        });
    }
    let long = format!(
        "SELECT {} FROM t WHERE id = %s",
        vec!["'x'::text"; 200].join(", ")
    );
    group.bench_function("select_200_literals", |b| {
        b.iter(|| Statement::parse(black_box(&long), true, true).unwrap())
    });
    group.finish();
}

fn conninfo(c: &mut Criterion) {
    let mut group = c.benchmark_group("conninfo");
    let dsns = [
        ("keyword_value", "host=127.0.0.1 port=5432 dbname=app user=app sslmode=disable"),
        (
            "uri",
            "postgresql://app:secret@db1:5432,db2:5433/app?sslmode=verify-full&target_session_attrs=read-write",
        ),
    ];
    for (name, dsn) in dsns {
        group.bench_function(name, |b| b.iter(|| parse_dsn(black_box(dsn)).unwrap()));
    }
    group.finish();
}

/// Counts values: the parser's own cost, without building anything.
struct Count;

impl Builder for Count {
    type Value = usize;
    type Error = ();
    fn null(&mut self) -> Result<usize, ()> {
        Ok(1)
    }
    fn boolean(&mut self, _: bool) -> Result<usize, ()> {
        Ok(1)
    }
    fn int(&mut self, _: i64) -> Result<usize, ()> {
        Ok(1)
    }
    fn big_int(&mut self, _: &str) -> Result<usize, ()> {
        Ok(1)
    }
    fn float(&mut self, _: f64) -> Result<usize, ()> {
        Ok(1)
    }
    fn string(&mut self, _: &str) -> Result<usize, ()> {
        Ok(1)
    }
    fn key(&mut self, _: &str) -> Result<usize, ()> {
        Ok(0)
    }
    fn array(&mut self) -> Result<usize, ()> {
        Ok(1)
    }
    fn push(&mut self, array: &mut usize, item: usize) -> Result<(), ()> {
        *array += item;
        Ok(())
    }
    fn object(&mut self) -> Result<usize, ()> {
        Ok(1)
    }
    fn insert(&mut self, object: &mut usize, _: usize, value: usize) -> Result<(), ()> {
        *object += value;
        Ok(())
    }
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decoders");
    // The benchmark suite's mixed-types jsonb, and a larger document with escapes.
    let small = r#"{"id": 1, "tags": ["a", 1]}"#;
    let large = format!(
        "[{}]",
        vec![r#"{"name": "row \"quoted\" \u00e9", "score": 12.5, "ok": true, "n": null}"#; 50].join(", ")
    );
    group.bench_function("json_small", |b| {
        b.iter(|| json::parse(black_box(small), &mut Count))
    });
    group.bench_function("json_50_objects", |b| {
        b.iter(|| json::parse(black_box(&large), &mut Count))
    });
    // 12345.67 and -0.000000001234 as the server sends them.
    let numeric_a: &[u8] = &[0, 3, 0, 1, 0, 0, 0, 2, 0, 1, 9, 41, 26, 44];
    let numeric_b: &[u8] = &[0, 1, 255, 253, 64, 0, 0, 12, 4, 210];
    assert_eq!(numeric::binary_to_text(numeric_a).as_deref(), Ok("12345.67"));
    assert_eq!(
        numeric::binary_to_text(numeric_b).as_deref(),
        Ok("-0.000000001234")
    );
    group.bench_function("numeric_12345_67", |b| {
        b.iter(|| numeric::binary_to_text(black_box(numeric_a)))
    });
    group.bench_function("numeric_small_negative", |b| {
        b.iter(|| numeric::binary_to_text(black_box(numeric_b)))
    });
    group.finish();
}

criterion_group!(benches, lexer, conninfo, decoders);
criterion_main!(benches);
