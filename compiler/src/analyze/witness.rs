//! Witness requests: a concrete request that meets every condition of one entry, and a
//! check of whether an entry, alone, matches a request. Findings quote a witness so a
//! user can replay it (`switchyard explain --request`).

use switchyard_bytecode::ir::{EntryIr, HostPattern, ListenerIr, PathIr, PredicateIr, ProgramIr, VhostIr};
use switchyard_bytecode::{Program, Request, Scratch, write_program};

use crate::equivalence::TestRequest;
use crate::equivalence::generate::regex_samples;

/// A request on `port` for a host `host` serves that meets all of `entry`'s conditions;
/// `None` when none could be built (checked with the entry itself).
pub fn witness(port: u32, host: &HostPattern, entry: &EntryIr) -> Option<TestRequest> {
    let mut request = TestRequest {
        port,
        authority: match host {
            HostPattern::Exact(name) => name.clone(),
            HostPattern::Wildcard(suffix) => format!("www{suffix}"),
            HostPattern::Any => "any.example".to_string(),
        },
        method: "GET".to_string(),
        path: path_meeting(&entry.path)?,
        scheme: "http".to_string(),
        headers: Vec::new(),
        random: 0,
    };
    let mut query: Vec<(String, String)> = Vec::new();
    for predicate in &entry.predicates {
        meet(predicate, &mut request, &mut query)?;
    }
    if !query.is_empty() {
        let pairs: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
        request.path = format!("{}?{}", request.path, pairs.join("&"));
    }
    matches_alone(entry, &request).then_some(request)
}

/// Whether `entry`, as the only rule of a catch-all host, matches `request`.
pub fn matches_alone(entry: &EntryIr, request: &TestRequest) -> bool {
    let ir = ProgramIr {
        routing_header: "x-switchyard-analysis".to_string(),
        target: "analysis".to_string(),
        pass_unknown_hosts: false,
        listeners: vec![ListenerIr {
            port: request.port,
            vhosts: vec![VhostIr {
                host: HostPattern::Any,
                fallback: false,
                entries: vec![entry.clone()],
            }],
            ..ListenerIr::default()
        }],
    };
    let Ok(bytes) = write_program(&ir) else {
        return false;
    };
    let Ok(program) = Program::from_bytes(&bytes) else {
        return false;
    };
    let view = as_request(request);
    program.evaluate(&view, &mut Scratch::new()).entry.is_some()
}

/// The evaluator's view of a generated request.
pub fn as_request(request: &TestRequest) -> Request<'_> {
    Request {
        port: request.port,
        authority: &request.authority,
        method: &request.method,
        path: &request.path,
        scheme: &request.scheme,
        headers: (&request.headers).into(),
        random: request.random,
        sni: None,
    }
}

fn path_meeting(path: &PathIr) -> Option<String> {
    Some(match path {
        PathIr::Exact(value) => value.clone(),
        PathIr::Prefix(segments) => format!("/{}", segments.join("/")),
        PathIr::StringPrefix(value) if value.starts_with('/') => value.clone(),
        PathIr::StringPrefix(value) => format!("/{value}"),
        PathIr::Regex(pattern) => matching_sample(pattern, true)?,
    })
}

/// A string the (unanchored in the IR, whole-match in effect) pattern matches.
fn matching_sample(pattern: &str, path: bool) -> Option<String> {
    let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).ok()?;
    regex_samples(pattern)
        .into_iter()
        .flat_map(|s| {
            let bare = s.trim_start_matches('/').to_string();
            if path { vec![s, bare] } else { vec![bare, s] }
        })
        .find(|s| re.is_match(s))
}

fn set_header(request: &mut TestRequest, name: &str, value: Option<String>) {
    match name {
        ":method" => {
            if let Some(v) = value {
                request.method = v;
            }
        }
        ":authority" => {
            if let Some(v) = value {
                request.authority = v;
            }
        }
        ":scheme" => {
            if let Some(v) = value {
                request.scheme = v;
            }
        }
        ":path" => {}
        _ => {
            request.headers.retain(|(n, _)| n != name);
            if let Some(v) = value {
                request.headers.push((name.to_string(), v));
            }
        }
    }
}

fn set_query(query: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    query.retain(|(n, _)| n != name);
    if let Some(v) = value {
        query.push((name.to_string(), v));
    }
}

/// Changes the request so that `predicate` holds.
fn meet(predicate: &PredicateIr, request: &mut TestRequest, query: &mut Vec<(String, String)>) -> Option<()> {
    match predicate {
        PredicateIr::Method(m) => request.method = m.clone(),
        PredicateIr::HeaderExact { name, value } | PredicateIr::HeaderPrefix { name, value } => {
            set_header(request, name, Some(value.clone()));
        }
        PredicateIr::HeaderRegex { name, pattern } => {
            set_header(request, name, Some(matching_sample(pattern, false)?));
        }
        PredicateIr::HeaderPresent(name) => {
            if !request.headers.iter().any(|(n, _)| n == name) {
                set_header(request, name, Some("x".to_string()));
            }
        }
        PredicateIr::HeaderAbsent(name) => set_header(request, name, None),
        PredicateIr::QueryExact { name, value } | PredicateIr::QueryPrefix { name, value } => {
            set_query(query, name, Some(value.clone()));
        }
        PredicateIr::QueryRegex { name, pattern } => {
            set_query(query, name, Some(matching_sample(pattern, false)?));
        }
        PredicateIr::QueryPresent(name) => {
            if !query.iter().any(|(n, _)| n == name) {
                set_query(query, name, Some("x".to_string()));
            }
        }
        PredicateIr::PathPrefix(prefix) => {
            if !request.path.starts_with(prefix.as_str()) {
                request.path = prefix.clone();
            }
        }
        PredicateIr::PathExact(path) => request.path = path.clone(),
        PredicateIr::IgnoreCase(inner) => meet(inner, request, query)?,
        PredicateIr::Not(inner) => match inner.as_ref() {
            PredicateIr::HeaderExact { name, .. }
            | PredicateIr::HeaderPrefix { name, .. }
            | PredicateIr::HeaderRegex { name, .. }
            | PredicateIr::HeaderPresent(name) => set_header(request, name, None),
            PredicateIr::HeaderAbsent(name) => set_header(request, name, Some("x".to_string())),
            PredicateIr::QueryExact { name, .. }
            | PredicateIr::QueryPrefix { name, .. }
            | PredicateIr::QueryRegex { name, .. }
            | PredicateIr::QueryPresent(name) => set_query(query, name, None),
            _ => return None,
        },
    }
    Some(())
}
