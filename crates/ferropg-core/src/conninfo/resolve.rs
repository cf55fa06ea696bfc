//! The merge: connection string, keyword arguments, environment, defaults.
use std::net::IpAddr;
use std::time::Duration;

use super::keywords::{self as kw, KEYWORDS};
use super::parse::{is_c_space, parse_dsn, RawOptions};
use super::{quote, ChannelBinding, ConnInfo, ConnInfoError, Env, Host, LoadBalanceHosts, Passfile};
use super::{SslMode, TargetSessionAttrs, DEFAULT_PORT, DEFAULT_SOCKET_DIR};

/// Resolve `dsn` and psycopg2-style keyword arguments (`None` = not given;
/// `database` is an alias of `dbname`) against `env`.
pub fn resolve(
    dsn: Option<&str>,
    kwargs: &[(&str, Option<&str>)],
    env: &Env,
) -> Result<ConnInfo, ConnInfoError> {
    let kwargs = normalize_kwargs(kwargs)?;
    let mut raw = match dsn {
        Some(d) => parse_dsn(d)?,
        None => RawOptions::new(),
    };
    for (k, v) in &kwargs {
        if let Some(v) = v {
            raw.set(k, v)?;
        }
    }
    let masked_dsn = masked_dsn(dsn, &kwargs)?;
    for (i, k) in KEYWORDS.iter().enumerate() {
        if raw.get(i).is_none() {
            if let Some(v) = k.env.and_then(|e| env.var(e)) {
                raw.set_index(i, Some(v.to_owned()));
            }
        }
    }
    build(raw, env, masked_dsn)
}

/// psycopg2's `make_dsn` keyword handling: `database` becomes `dbname` (moved
/// last, as psycopg2's dict pop/insert does), and both at once is an error.
fn normalize_kwargs<'a>(
    kwargs: &[(&'a str, Option<&'a str>)],
) -> Result<Vec<(&'a str, Option<&'a str>)>, ConnInfoError> {
    let has = |name| kwargs.iter().any(|(k, _)| *k == name);
    if has("database") && has("dbname") {
        return Err(ConnInfoError::DatabaseAndDbname);
    }
    let mut out: Vec<_> = kwargs.iter().filter(|(k, _)| *k != "database").copied().collect();
    if let Some((_, v)) = kwargs.iter().find(|(k, _)| *k == "database") {
        out.push(("dbname", *v));
    }
    Ok(out)
}

/// The string psycopg2 would connect with, then its password masking.
fn masked_dsn(dsn: Option<&str>, kwargs: &[(&str, Option<&str>)]) -> Result<String, ConnInfoError> {
    let given = match (dsn, kwargs.is_empty()) {
        (None, true) => String::new(),
        (Some(d), true) => d.to_owned(),
        (dsn, false) => {
            let parsed = dsn.map(parse_dsn).transpose()?.unwrap_or_default();
            let mut pairs: Vec<(&str, &str)> = parsed.iter().collect();
            for (k, v) in kwargs {
                let Some(v) = v else { continue };
                match pairs.iter_mut().find(|(pk, _)| pk == k) {
                    Some(pair) => pair.1 = v,
                    None => pairs.push((k, v)),
                }
            }
            quote::join(pairs)
        }
    };
    let parsed = parse_dsn(&given)?;
    if parsed.get(kw::PASSWORD).is_none() {
        return Ok(given);
    }
    Ok(quote::join(
        parsed
            .iter()
            .map(|(k, v)| (k, if k == "password" { "xxx" } else { v })),
    ))
}

fn build(raw: RawOptions, env: &Env, masked_dsn: String) -> Result<ConnInfo, ConnInfoError> {
    let given = |i: usize| raw.get(i).map(str::to_owned);
    let nonempty = |i: usize| raw.get(i).filter(|v| !v.is_empty()).map(str::to_owned);
    if let Some(service) = nonempty(kw::SERVICE) {
        return Err(ConnInfoError::ServiceUnsupported(service));
    }
    let hosts = hosts(&raw)?;
    let user = match nonempty(kw::USER) {
        Some(u) => u,
        None => env.os_user.clone().ok_or(ConnInfoError::UnknownLocalUser)?,
    };
    let dbname = nonempty(kw::DBNAME).unwrap_or_else(|| user.clone());
    let password = given(kw::PASSWORD);
    let passfile = match password.as_deref() {
        Some(p) if !p.is_empty() => None,
        _ => nonempty(kw::PASSFILE)
            .map(Into::into)
            .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")))
            .map(|path| Passfile::load(&path)),
    };
    let gss = raw.get(kw::GSSENCMODE).unwrap_or("prefer");
    match gss {
        "disable" | "prefer" => {}
        "require" => return Err(ConnInfoError::GssEncRequired),
        v => return Err(invalid("gssencmode", v)),
    }
    Ok(ConnInfo {
        hosts,
        user,
        dbname,
        password,
        passfile,
        sslmode: SslMode::parse(raw.get(kw::SSLMODE).unwrap_or("prefer"))?,
        sslrootcert: nonempty(kw::SSLROOTCERT),
        sslcert: nonempty(kw::SSLCERT),
        sslkey: nonempty(kw::SSLKEY),
        channel_binding: ChannelBinding::parse(raw.get(kw::CHANNEL_BINDING).unwrap_or("prefer"))?,
        connect_timeout: connect_timeout(raw.get(kw::CONNECT_TIMEOUT))?,
        application_name: given(kw::APPLICATION_NAME),
        options: nonempty(kw::OPTIONS),
        target_session_attrs: TargetSessionAttrs::parse(raw.get(kw::TARGET_SESSION_ATTRS).unwrap_or("any"))?,
        load_balance_hosts: LoadBalanceHosts::parse(raw.get(kw::LOAD_BALANCE_HOSTS).unwrap_or("disable"))?,
        client_encoding: nonempty(kw::CLIENT_ENCODING),
        raw,
        masked_dsn,
    })
}

fn invalid(option: &'static str, value: &str) -> ConnInfoError {
    ConnInfoError::InvalidValue {
        option,
        value: value.to_owned(),
    }
}

/// One host per entry of `hostaddr` (else of `host`, else the default), each
/// with its port: one port serves all, otherwise the counts must agree.
fn hosts(raw: &RawOptions) -> Result<Vec<Host>, ConnInfoError> {
    let list = |i: usize| {
        raw.get(i)
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').collect::<Vec<_>>())
    };
    let names = list(kw::HOST);
    let addrs = list(kw::HOSTADDR);
    let count = addrs.as_ref().or(names.as_ref()).map_or(1, Vec::len);
    if let (Some(n), Some(a)) = (&names, &addrs) {
        if n.len() != a.len() {
            return Err(ConnInfoError::HostaddrCount {
                names: n.len(),
                addrs: a.len(),
            });
        }
    }
    let ports = match list(kw::PORT) {
        None => vec![DEFAULT_PORT; count],
        Some(p) if p.len() == 1 => vec![parse_port(p[0])?; count],
        Some(p) if p.len() == count => p.into_iter().map(parse_port).collect::<Result<_, _>>()?,
        Some(p) => {
            return Err(ConnInfoError::PortCount {
                ports: p.len(),
                hosts: count,
            })
        }
    };
    let mut out = Vec::with_capacity(count);
    for (i, port) in ports.into_iter().enumerate() {
        let name = names.as_ref().map_or("", |n| n[i]);
        let addr = addrs.as_ref().map_or("", |a| a[i]);
        out.push(if !addr.is_empty() {
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| ConnInfoError::InvalidHostaddr(addr.to_owned()))?;
            let host = if name.is_empty() { addr } else { name };
            Host::Tcp {
                host: host.to_owned(),
                hostaddr: Some(ip),
                port,
            }
        } else if !name.is_empty() {
            Host::new(name, port)
        } else {
            Host::new(DEFAULT_SOCKET_DIR, port)
        });
    }
    Ok(out)
}

/// An empty entry means the default; otherwise an integer in 1..=65535.
fn parse_port(text: &str) -> Result<u16, ConnInfoError> {
    if text.is_empty() {
        return Ok(DEFAULT_PORT);
    }
    match parse_c_int(text) {
        Some(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(ConnInfoError::InvalidPort(text.to_owned())),
    }
}

/// libpq: whole seconds; zero or negative waits forever, and 1 means 2
/// (a one-second timer could fire almost at once).
fn connect_timeout(text: Option<&str>) -> Result<Option<Duration>, ConnInfoError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let secs = parse_c_int(text).ok_or_else(|| ConnInfoError::InvalidInteger {
        option: "connect_timeout",
        value: text.to_owned(),
    })?;
    Ok(match secs {
        s if s <= 0 => None,
        1 => Some(Duration::from_secs(2)),
        s => Some(Duration::from_secs(s as u64)),
    })
}

/// libpq's `parse_int_param`: `strtol` with surrounding whitespace allowed,
/// the value within a C int.
fn parse_c_int(text: &str) -> Option<i64> {
    let t = text.trim_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok().filter(|v| i32::try_from(*v).is_ok())
}
