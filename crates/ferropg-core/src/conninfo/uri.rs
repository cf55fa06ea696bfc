//! `postgresql://` URIs, following libpq's `conninfo_uri_parse_options`.
//!
//! Shape: `scheme://[user[:password]@][host[:port][,host[:port]...]][/dbname][?k=v&...]`.
//! Every component is percent-decoded; hosts and ports are joined with commas so
//! a URI and a key=value string give the same raw options.
use super::error::ConnInfoError;
use super::parse::RawOptions;

pub(super) fn parse_uri(uri: &str, prefix: usize) -> Result<RawOptions, ConnInfoError> {
    let mut opts = RawOptions::new();
    let rest = &uri[prefix..];
    let netloc_start = parse_userinfo(rest, &mut opts)?;
    let (end, term) = parse_hosts(uri, prefix + netloc_start, &mut opts)?;
    let mut tail = &uri[end..];
    if term == Some(b'/') {
        tail = &tail[1..];
        let q = tail.find('?').unwrap_or(tail.len());
        // An empty path must not set dbname: that would hide PGDATABASE.
        if q > 0 {
            opts.set("dbname", &decode(&tail[..q], false)?)?;
        }
        tail = &tail[q..];
    }
    if let Some(query) = tail.strip_prefix('?') {
        parse_query(query, &mut opts)?;
    }
    Ok(opts)
}

/// `user[:password]@`, if an `@` comes before the first `/`; returns where the
/// host list starts within `rest`.
fn parse_userinfo(rest: &str, opts: &mut RawOptions) -> Result<usize, ConnInfoError> {
    let at = match rest.find(['@', '/']) {
        Some(i) if rest.as_bytes()[i] == b'@' => i,
        _ => return Ok(0),
    };
    let userinfo = &rest[..at];
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    if !user.is_empty() {
        opts.set("user", &decode(user, false)?)?;
    }
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        opts.set("password", &decode(p, true)?)?;
    }
    Ok(at + 1)
}

/// The comma-separated `host[:port]` list starting at byte `start` of `uri`.
/// Returns the end offset and the byte that ended the list (`/`, `?` or none).
fn parse_hosts(uri: &str, start: usize, opts: &mut RawOptions) -> Result<(usize, Option<u8>), ConnInfoError> {
    let b = uri.as_bytes();
    let (mut hosts, mut ports) = (String::new(), String::new());
    let mut p = start;
    loop {
        let host;
        if b.get(p) == Some(&b'[') {
            let open = p + 1;
            let close = uri[open..]
                .find(']')
                .map(|i| open + i)
                .ok_or_else(|| ConnInfoError::UriUnclosedBracket(redact(uri)))?;
            if close == open {
                return Err(ConnInfoError::UriEmptyIpv6(redact(uri)));
            }
            host = &uri[open..close];
            p = close + 1;
            if let Some(&c) = b.get(p).filter(|c| !b":/?,".contains(c)) {
                let ch = uri[p..].chars().next().unwrap_or(c as char);
                return Err(ConnInfoError::UriUnexpectedChar {
                    ch,
                    pos: p + 1,
                    uri: redact(uri),
                });
            }
        } else {
            let end = find_any(uri, p, b":/?,");
            host = &uri[p..end];
            p = end;
        }
        hosts.push_str(host);
        let mut term = b.get(p).copied();
        if term == Some(b':') {
            let end = find_any(uri, p + 1, b"/?,");
            ports.push_str(&uri[p + 1..end]);
            p = end;
            term = b.get(p).copied();
        }
        if term != Some(b',') {
            if !hosts.is_empty() {
                opts.set("host", &decode(&hosts, false)?)?;
            }
            if !ports.is_empty() {
                opts.set("port", &decode(&ports, false)?)?;
            }
            return Ok((p, term));
        }
        p += 1;
        hosts.push(',');
        ports.push(',');
    }
}

fn find_any(s: &str, from: usize, set: &[u8]) -> usize {
    s.as_bytes()[from..]
        .iter()
        .position(|c| set.contains(c))
        .map_or(s.len(), |i| from + i)
}

/// `k=v&k=v`: keys and values are percent-decoded; `ssl=true` is JDBC's spelling
/// of `sslmode=require`; unknown keys are an error.
fn parse_query(query: &str, opts: &mut RawOptions) -> Result<(), ConnInfoError> {
    let mut rest = query;
    while !rest.is_empty() {
        let (param, next) = rest.split_once('&').unwrap_or((rest, ""));
        rest = next;
        let (key, value) = match param.split_once('=') {
            None => return Err(ConnInfoError::UriMissingSeparator(param.into())),
            Some((k, v)) if v.contains('=') => return Err(ConnInfoError::UriExtraSeparator(k.into())),
            Some(kv) => kv,
        };
        let key = decode(key, false)?;
        let value = decode(value, key == "password")?;
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_owned(), "require".to_owned())
        } else {
            (key, value)
        };
        opts.set(&key, &value)
            .map_err(|_| ConnInfoError::UriInvalidParameter(key.clone()))?;
    }
    Ok(())
}

/// Percent-decode one URI component. A bad token in a password is reported
/// without the password's text.
pub fn decode(s: &str, secret: bool) -> Result<String, ConnInfoError> {
    let shown = || {
        if secret {
            "(password)".to_owned()
        } else {
            s.to_owned()
        }
    };
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
            return Err(ConnInfoError::InvalidPercentToken(shown()));
        };
        let c = (hi << 4 | lo) as u8;
        if c == 0 {
            return Err(ConnInfoError::PercentNul(shown()));
        }
        out.push(c);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| ConnInfoError::PercentNotUtf8(shown()))
}

/// Percent-encode everything outside RFC 3986's unreserved set.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// The URI with any userinfo password replaced by `xxx`, for error messages.
fn redact(uri: &str) -> String {
    let Some(prefix) = super::parse::uri_prefix_len(uri) else {
        return uri.to_owned();
    };
    let rest = &uri[prefix..];
    match rest.find(['@', '/']) {
        Some(at) if rest.as_bytes()[at] == b'@' => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:xxx{}", &uri[..prefix], &rest[at..]),
            None => uri.to_owned(),
        },
        _ => uri.to_owned(),
    }
}
