//! ferropg's pure core: everything that needs neither Python nor a socket.
//!
//! - [`conninfo`]: libpq-compatible connection strings, keyword merge, PG* env, passfile.
//! - [`sql`]: the SQL lexer, `%s`/`%(name)s` -> `$n` conversion, statement
//!   classification and literal quoting.
//! - [`protocol`]: the sans-IO wire-protocol session (bytes in, events out).
//! - [`cache`]: the prepared-statement LRU.
//! - [`deadline`]: request deadlines watched by one background thread.
//! - [`json`]: a `json.loads`-exact JSON parser driving a caller's value builder.
//! - [`numeric`]: binary numeric to its exact text.
#![forbid(unsafe_code)]

pub mod cache;
pub mod conninfo;
pub mod deadline;
pub mod json;
pub mod numeric;
pub mod protocol;
pub mod sql;
