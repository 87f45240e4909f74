//! Requests that exercise every entry of one or more programs: for each entry, on each
//! host its listener serves, the path at, just inside and just across each boundary,
//! and each header, query parameter and method condition met, met with another value and
//! left out.

use std::collections::BTreeSet;

use switchyard_bytecode::ir::{EntryIr, HostPattern, ListenerIr, PathIr, PredicateIr, ProgramIr};

/// One generated request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestRequest {
    pub port: u32,
    pub authority: String,
    pub method: String,
    /// With the query string.
    pub path: String,
    pub scheme: String,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    /// The random number both programs see.
    pub random: u64,
}

impl core::fmt::Display for TestRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {}://{}{} (port {})",
            self.method, self.scheme, self.authority, self.path, self.port
        )?;
        for (name, value) in &self.headers {
            write!(f, " {name}: {value:?}")?;
        }
        Ok(())
    }
}

/// A request under construction: the parts conditions set.
#[derive(Debug, Clone, Default)]
struct Parts {
    method: Option<String>,
    scheme: Option<String>,
    authority: Option<String>,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
}

impl Parts {
    fn header(&mut self, name: &str, value: Option<String>) {
        match name {
            ":method" => self.method = value,
            ":scheme" => self.scheme = value,
            ":authority" => self.authority = value,
            ":path" => {}
            _ => {
                self.headers.retain(|(n, _)| n != name);
                if let Some(value) = value {
                    self.headers.push((name.to_string(), value));
                }
            }
        }
    }

    fn query(&mut self, name: &str, value: Option<String>) {
        self.query.retain(|(n, _)| n != name);
        if let Some(value) = value {
            self.query.push((name.to_string(), value));
        }
    }
}

/// Every request, deduplicated, in a stable order; each carries its own random number.
pub fn generate(programs: &[&ProgramIr]) -> Vec<TestRequest> {
    let mut ports: BTreeSet<u32> = BTreeSet::new();
    for ir in programs {
        ports.extend(ir.listeners.iter().map(|l| l.port));
    }
    let mut out: BTreeSet<TestRequest> = BTreeSet::new();
    for &port in &ports {
        let listeners: Vec<&ListenerIr> = programs
            .iter()
            .flat_map(|ir| ir.listeners.iter().filter(|l| l.port == port))
            .collect();
        let mut all_hosts: BTreeSet<String> = BTreeSet::new();
        for listener in &listeners {
            for vhost in &listener.vhosts {
                all_hosts.extend(host_samples(&vhost.host));
            }
        }
        for listener in &listeners {
            for vhost in &listener.vhosts {
                let own_hosts = host_samples(&vhost.host);
                for entry in &vhost.entries {
                    entry_requests(port, entry, &own_hosts, &all_hosts, &mut out);
                }
            }
        }
        // A path no rule names, on every host.
        for host in &all_hosts {
            out.insert(request(port, host, "/switchyard-unmatched", &Parts::default()));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r.random = splitmix(i as u64);
            r
        })
        .collect()
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hosts a pattern matches, and one beside it that it does not.
fn host_samples(pattern: &HostPattern) -> Vec<String> {
    match pattern {
        HostPattern::Exact(name) => vec![name.clone()],
        HostPattern::Wildcard(suffix) => {
            let bare = suffix.trim_start_matches('.').to_string();
            vec![format!("x{suffix}"), format!("a.b{suffix}"), bare]
        }
        HostPattern::Any => vec!["unlisted.example".to_string()],
    }
}

fn entry_requests(
    port: u32,
    entry: &EntryIr,
    own_hosts: &[String],
    all_hosts: &BTreeSet<String>,
    out: &mut BTreeSet<TestRequest>,
) {
    let mut base = Parts::default();
    let mut paths = path_samples(&entry.path);
    for predicate in &entry.predicates {
        satisfy(predicate, &mut base, &mut paths);
    }
    if paths.is_empty() {
        paths.push("/".to_string());
    }
    // Every path sample with every condition met, on every host of the listener (a
    // request for another host shows whether rules leak across hosts).
    for host in all_hosts.iter().chain(own_hosts) {
        for path in &paths {
            out.insert(request(port, host, path, &base));
        }
    }
    // Each condition broken alone, on the entry's own hosts, at the first path.
    for (i, predicate) in entry.predicates.iter().enumerate() {
        for variant in break_one(predicate) {
            let mut parts = Parts::default();
            let mut ignored = Vec::new();
            for (j, other) in entry.predicates.iter().enumerate() {
                if i != j {
                    satisfy(other, &mut parts, &mut ignored);
                }
            }
            variant(&mut parts);
            for host in own_hosts {
                out.insert(request(port, host, &paths[0], &parts));
            }
        }
    }
    // The bare request (no header, query or method condition) and the authority with a
    // port, at the first path.
    for host in own_hosts {
        out.insert(request(port, host, &paths[0], &Parts::default()));
        let mut with_port = base.clone();
        if with_port.authority.is_none() {
            with_port.authority = Some(format!("{host}:{port}"));
        }
        out.insert(request(port, host, &paths[0], &with_port));
    }
}

fn request(port: u32, host: &str, path: &str, parts: &Parts) -> TestRequest {
    let mut path = path.to_string();
    for (i, (name, value)) in parts.query.iter().enumerate() {
        path.push(if i == 0 && !path.contains('?') { '?' } else { '&' });
        path.push_str(name);
        path.push('=');
        path.push_str(value);
    }
    let mut headers = parts.headers.clone();
    headers.sort();
    TestRequest {
        port,
        authority: parts.authority.clone().unwrap_or_else(|| host.to_string()),
        method: parts.method.clone().unwrap_or_else(|| "GET".to_string()),
        path,
        scheme: parts.scheme.clone().unwrap_or_else(|| "http".to_string()),
        headers,
        random: 0,
    }
}

/// Paths at, inside and across the boundary of a path condition.
fn path_samples(path: &PathIr) -> Vec<String> {
    match path {
        PathIr::Exact(value) => boundary(value),
        PathIr::Prefix(segments) => {
            if segments.is_empty() {
                vec!["/".to_string(), "/x".to_string()]
            } else {
                let value = format!("/{}", segments.join("/"));
                let mut samples = boundary(&value);
                samples.push(format!("{value}/"));
                samples
            }
        }
        PathIr::StringPrefix(value) if value.is_empty() || value == "/" => {
            vec!["/".to_string(), "/x".to_string()]
        }
        PathIr::StringPrefix(value) => {
            let mut samples = boundary(value);
            samples.push(format!("{value}/x"));
            samples
        }
        PathIr::Regex(pattern) => regex_samples(pattern),
    }
}

/// `v`, `v/x`, `vx`, `v` less its last character, and `v` in upper case.
fn boundary(value: &str) -> Vec<String> {
    let mut samples = vec![value.to_string()];
    let trimmed = value.trim_end_matches('/');
    samples.push(format!("{trimmed}/x"));
    samples.push(format!("{trimmed}x"));
    let mut shorter = value.to_string();
    shorter.pop();
    if shorter.is_empty() {
        shorter.push('/');
    }
    samples.push(shorter);
    let upper = value.to_ascii_uppercase();
    if upper != value {
        samples.push(upper);
    }
    samples
}

/// Strings a regex probably matches, and a few beside them: the pattern with its
/// repetitions removed or filled in, checked against the pattern.
pub fn regex_samples(pattern: &str) -> Vec<String> {
    let stripped = pattern
        .trim_start_matches("(?i)")
        .trim_start_matches('^')
        .trim_end_matches('$');
    let mut candidates = Vec::new();
    for fill in ["", "x", "x/y"] {
        candidates.push(fill_regex(stripped, fill));
    }
    // The literal head, before the first metacharacter.
    let head: String = literal_head(stripped);
    if !head.is_empty() {
        candidates.push(head.clone());
        candidates.push(format!("{head}x"));
        candidates.push(format!("{head}/x"));
        let mut shorter = head;
        shorter.pop();
        candidates.push(shorter);
    }
    let mut out = Vec::new();
    for c in candidates {
        let c = if c.starts_with('/') { c } else { format!("/{c}") };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    // Samples that match first.
    if let Ok(re) = regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
        out.sort_by_key(|s| !re.is_match(s));
    }
    out
}

fn literal_head(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if !n.is_ascii_alphanumeric() => out.push(n),
                _ => break,
            },
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => {
                // A quantifier applies to the character before it.
                if matches!(c, '*' | '?' | '{') {
                    out.pop();
                }
                break;
            }
            _ => out.push(c),
        }
    }
    out
}

/// The pattern as a string: `.*`, `.+`, `[^/]+`, `\w+`... replaced by `fill` (or `x`
/// where one character is needed), escapes unescaped, groups and alternatives opened
/// (the first alternative kept).
fn fill_regex(pattern: &str, fill: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut depth_skip: Option<usize> = None;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if let Some(d) = depth_skip {
            match c {
                '(' => depth += 1,
                ')' => {
                    if depth == d {
                        depth_skip = None;
                    }
                    depth = depth.saturating_sub(1);
                }
                '\\' => i += 1,
                _ => {}
            }
            i += 1;
            continue;
        }
        // The atom, then its quantifier.
        let (atom, next): (Option<String>, usize) = match c {
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                let atom = match n {
                    'd' => "1".to_string(),
                    'w' | 'S' => "x".to_string(),
                    's' => " ".to_string(),
                    _ => n.to_string(),
                };
                (Some(atom), i + 2)
            }
            '.' => (Some("x".to_string()), i + 1),
            '[' => {
                let mut j = i + 1;
                let negated = chars.get(j) == Some(&'^');
                if negated {
                    j += 1;
                }
                let first = chars.get(j).copied();
                while j < chars.len() && (chars[j] != ']' || j == i + 1) {
                    j += 1;
                }
                let atom = if negated {
                    "x".to_string()
                } else {
                    first.unwrap_or('x').to_string()
                };
                (Some(atom), j + 1)
            }
            '(' => {
                depth += 1;
                // Skip `(?:` and `(?P<name>`.
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    while j < chars.len() && chars[j] != ':' && chars[j] != '>' && chars[j] != ')' {
                        j += 1;
                    }
                    j += 1;
                }
                (None, j)
            }
            ')' => {
                depth = depth.saturating_sub(1);
                (None, i + 1)
            }
            '|' => {
                // Keep the first alternative: skip to the end of the group.
                depth_skip = Some(depth);
                (None, i + 1)
            }
            '^' | '$' => (None, i + 1),
            _ => (Some(c.to_string()), i + 1),
        };
        i = next;
        let quantifier = chars.get(i).copied();
        match (atom, quantifier) {
            (Some(_), Some('*')) => {
                out.push_str(fill);
                i += 1;
            }
            (Some(_), Some('?')) => i += 1,
            (Some(atom), Some('+')) => {
                // The atom once, then the fill for the rest of the repetition.
                out.push_str(&atom);
                out.push_str(fill);
                i += 1;
            }
            (Some(atom), Some('{')) => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |p| i + p);
                let count: usize = chars[i + 1..end]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .parse()
                    .unwrap_or(1);
                out.push_str(&atom.repeat(count.max(1)));
                i = end + 1;
            }
            (Some(atom), _) => out.push_str(&atom),
            (None, Some('*' | '?' | '+')) => i += 1,
            (None, _) => {}
        }
    }
    out
}

/// Sets the request parts so that `predicate` holds; path conditions add path samples.
fn satisfy(predicate: &PredicateIr, parts: &mut Parts, paths: &mut Vec<String>) {
    match predicate {
        PredicateIr::Method(m) => parts.method = Some(m.clone()),
        PredicateIr::HeaderExact { name, value } => parts.header(name, Some(value.clone())),
        PredicateIr::HeaderPrefix { name, value } => parts.header(name, Some(format!("{value}x"))),
        PredicateIr::HeaderRegex { name, pattern } => {
            let sample = value_sample(pattern);
            parts.header(name, Some(sample));
        }
        PredicateIr::HeaderPresent(name) => parts.header(name, Some("present".to_string())),
        PredicateIr::HeaderAbsent(name) => parts.header(name, None),
        PredicateIr::QueryExact { name, value } => parts.query(name, Some(value.clone())),
        PredicateIr::QueryPrefix { name, value } => parts.query(name, Some(format!("{value}x"))),
        PredicateIr::QueryRegex { name, pattern } => parts.query(name, Some(value_sample(pattern))),
        PredicateIr::QueryPresent(name) => parts.query(name, Some("present".to_string())),
        PredicateIr::PathPrefix(value) => {
            paths.extend(boundary(value));
            paths.push(format!("{value}/x"));
        }
        PredicateIr::PathExact(value) => paths.extend(boundary(value)),
        PredicateIr::Not(inner) => match inner.as_ref() {
            PredicateIr::HeaderExact { name, .. }
            | PredicateIr::HeaderPrefix { name, .. }
            | PredicateIr::HeaderRegex { name, .. }
            | PredicateIr::HeaderPresent(name) => parts.header(name, None),
            PredicateIr::HeaderAbsent(name) => parts.header(name, Some("present".to_string())),
            other => {
                // Path or query negations: meet the inner condition's samples anyway
                // so that both sides of it are generated.
                let mut ignored = Parts::default();
                satisfy(other, &mut ignored, paths);
            }
        },
        PredicateIr::IgnoreCase(inner) => {
            let before = paths.len();
            satisfy(inner, parts, paths);
            let extra: Vec<String> = paths[before..]
                .iter()
                .flat_map(|p| [p.to_ascii_uppercase(), p.to_ascii_lowercase()])
                .collect();
            paths.extend(extra);
        }
    }
}

/// A value `pattern` (a full-match regex) matches, if one is easy to find.
fn value_sample(pattern: &str) -> String {
    let candidates = [fill_regex(pattern, ""), fill_regex(pattern, "x"), "x".to_string()];
    let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).ok();
    for c in &candidates {
        if re.as_ref().is_none_or(|re| re.is_match(c)) {
            return c.clone();
        }
    }
    candidates[0].clone()
}

type Variant = Box<dyn Fn(&mut Parts)>;

/// Ways to break `predicate`: another value, and the header or parameter left out.
fn break_one(predicate: &PredicateIr) -> Vec<Variant> {
    match predicate.clone() {
        PredicateIr::Method(m) => {
            let other = if m == "POST" { "GET" } else { "POST" };
            vec![Box::new(move |p: &mut Parts| p.method = Some(other.to_string()))]
        }
        PredicateIr::HeaderExact { name, .. }
        | PredicateIr::HeaderPrefix { name, .. }
        | PredicateIr::HeaderRegex { name, .. }
        | PredicateIr::HeaderPresent(name) => {
            let absent = name.clone();
            vec![
                Box::new(move |p: &mut Parts| p.header(&name, Some("switchyard-other".to_string()))),
                Box::new(move |p: &mut Parts| p.header(&absent, None)),
            ]
        }
        PredicateIr::HeaderAbsent(name) => {
            vec![Box::new(move |p: &mut Parts| {
                p.header(&name, Some("present".to_string()))
            })]
        }
        PredicateIr::QueryExact { name, .. }
        | PredicateIr::QueryPrefix { name, .. }
        | PredicateIr::QueryRegex { name, .. }
        | PredicateIr::QueryPresent(name) => {
            let absent = name.clone();
            vec![
                Box::new(move |p: &mut Parts| p.query(&name, Some("switchyard-other".to_string()))),
                Box::new(move |p: &mut Parts| p.query(&absent, None)),
            ]
        }
        PredicateIr::Not(inner) => {
            // Meet the inner condition (and its empty value) instead.
            let inner = *inner;
            let mut out: Vec<Variant> = vec![Box::new(move |p: &mut Parts| {
                let mut ignored = Vec::new();
                satisfy(&inner, p, &mut ignored);
            })];
            if let PredicateIr::HeaderExact { name, .. }
            | PredicateIr::HeaderPrefix { name, .. }
            | PredicateIr::HeaderRegex { name, .. } = predicate_inner(predicate)
            {
                let name = name.clone();
                out.push(Box::new(move |p: &mut Parts| {
                    p.header(&name, Some(String::new()))
                }));
            }
            out
        }
        PredicateIr::IgnoreCase(inner) => break_one(&inner),
        PredicateIr::PathPrefix(_) | PredicateIr::PathExact(_) => Vec::new(),
    }
}

fn predicate_inner(predicate: &PredicateIr) -> &PredicateIr {
    match predicate {
        PredicateIr::Not(inner) | PredicateIr::IgnoreCase(inner) => inner,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_samples_match_their_pattern_first() {
        let samples = regex_samples("/foo.*");
        assert_eq!(samples[0], "/foo");
        assert!(samples.contains(&"/foox".to_string()));
        assert!(samples.contains(&"/fo".to_string()));
        assert_eq!(regex_samples("/v[0-9]+/items")[0], "/v0/items");
        assert_eq!(value_sample("a|b"), "a");
    }

    #[test]
    fn prefix_boundaries() {
        assert_eq!(
            path_samples(&PathIr::StringPrefix("/foo".into())),
            ["/foo", "/foo/x", "/foox", "/fo", "/FOO", "/foo/x"]
        );
    }
}
