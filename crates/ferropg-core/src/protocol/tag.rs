//! CommandComplete tags: "INSERT 0 5", "SELECT 3", "CREATE TABLE", ...

/// What a CommandComplete tag tells: the affected/returned row count (None when the
/// command reports none, e.g. CREATE TABLE) and the oid of an inserted row (0 if none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagCounts {
    pub rows: Option<u64>,
    pub oid: u32,
}

pub fn parse_command_tag(tag: &str) -> TagCounts {
    let mut words = tag.split(' ');
    let verb = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    match (verb, rest.as_slice()) {
        ("INSERT", [oid, rows]) => TagCounts {
            rows: rows.parse().ok(),
            oid: oid.parse().unwrap_or(0),
        },
        ("SELECT" | "UPDATE" | "DELETE" | "MERGE" | "FETCH" | "MOVE" | "COPY", [rows]) => TagCounts {
            rows: rows.parse().ok(),
            oid: 0,
        },
        _ => TagCounts { rows: None, oid: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(
            parse_command_tag("INSERT 0 5"),
            TagCounts {
                rows: Some(5),
                oid: 0
            }
        );
        assert_eq!(
            parse_command_tag("INSERT 1234 1"),
            TagCounts {
                rows: Some(1),
                oid: 1234
            }
        );
        assert_eq!(
            parse_command_tag("SELECT 3"),
            TagCounts {
                rows: Some(3),
                oid: 0
            }
        );
        assert_eq!(
            parse_command_tag("UPDATE 0"),
            TagCounts {
                rows: Some(0),
                oid: 0
            }
        );
        assert_eq!(
            parse_command_tag("MOVE 2"),
            TagCounts {
                rows: Some(2),
                oid: 0
            }
        );
        assert_eq!(
            parse_command_tag("CREATE TABLE"),
            TagCounts { rows: None, oid: 0 }
        );
        assert_eq!(parse_command_tag("SET"), TagCounts { rows: None, oid: 0 });
        assert_eq!(parse_command_tag(""), TagCounts { rows: None, oid: 0 });
        assert_eq!(parse_command_tag("SELECT x"), TagCounts { rows: None, oid: 0 });
    }
}
