//! inet, cidr, macaddr, macaddr8: psycopg2 returns them as the server's text (str), and
//! their arrays as lists of str. Their binary forms would need PostgreSQL's exact text
//! rendering rebuilt (cidr abbreviation, IPv6 zero runs), so these columns are read as
//! text and go through the text decoder; this module only names the oids involved.
use super::oids::Oid;

pub(crate) const INET: Oid = 869;
pub(crate) const CIDR: Oid = 650;
pub(crate) const MACADDR: Oid = 829;
pub(crate) const MACADDR8: Oid = 774;

/// Whether psycopg2 gives this network type (scalar) back as str; used by tests and by
/// callers that want to know why no binary decoder exists for it.
pub(crate) fn is_network(oid: Oid) -> bool {
    matches!(oid, INET | CIDR | MACADDR | MACADDR8)
}
