//! Micro-benchmarks of the core's per-query work: the SQL lexer that turns aiopg's `%s`
//! into `$n` (run once per new SQL text, then cached) and connection-string parsing
//! (once per connect). `cargo bench -p ferropg-core`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ferropg_core::conninfo::parse_dsn;
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

criterion_group!(benches, lexer, conninfo);
criterion_main!(benches);
