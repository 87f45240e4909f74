//! An Istio `corsPolicy` as a Gateway API CORS filter, with what cannot be kept.
//!
//! Gateway API origins are `scheme://host[:port]` with an optional leading `*` label
//! (matched ASCII case-insensitively, default ports assumed); Istio's are Envoy string
//! matchers (case-sensitive exact, prefix, regex). Only exact origins that read the same
//! way in both carry over; the rest are left out and reported, since dropping an origin
//! narrows what the policy allows.

use serde_json::{Value, json};

use crate::resources::istio::{Cors, StringMatch};

/// The `cors` object of a Gateway API CORS filter, and a note per field that does not
/// keep its meaning (`(field under corsPolicy, reason)`).
pub fn cors_filter(cors: &Cors) -> (Value, Vec<(String, String)>) {
    let mut notes = Vec::new();
    let mut origins = Vec::new();
    for (i, origin) in cors.allow_origins.iter().enumerate() {
        let field = format!("allowOrigins[{i}]");
        match origin {
            StringMatch::Exact(text) if text == "*" || is_plain_origin(text) => origins.push(text.clone()),
            StringMatch::Exact(text) => notes.push((
                field,
                format!("origin {text:?} is not a Gateway API origin (scheme://host[:port]) or has a `*` that Gateway API reads as a wildcard; left out"),
            )),
            StringMatch::Prefix(text) => notes.push((
                field,
                format!("prefix origin {text:?} has no Gateway API equivalent; left out"),
            )),
            StringMatch::Regex(text) => notes.push((
                field,
                format!("regex origin {text:?} has no Gateway API equivalent; left out"),
            )),
            StringMatch::Present => {}
        }
    }
    let mut policy = json!({"allowOrigins": origins, "allowCredentials": cors.allow_credentials});
    if !cors.allow_methods.is_empty() {
        policy["allowMethods"] = json!(cors.allow_methods);
    }
    if !cors.allow_headers.is_empty() {
        policy["allowHeaders"] = json!(cors.allow_headers);
    }
    if !cors.expose_headers.is_empty() {
        policy["exposeHeaders"] = json!(cors.expose_headers);
    }
    match cors.max_age_seconds {
        Some(seconds) => policy["maxAge"] = json!(seconds),
        None => notes.push((
            "maxAge".to_string(),
            "unset: Istio sends no max-age, Gateway API's default is 5 seconds".to_string(),
        )),
    }
    if cors.forward_unmatched_preflights {
        notes.push((
            "unmatchedPreflights".to_string(),
            "a preflight from a disallowed origin is forwarded by Istio (FORWARD, the default), answered by Gateway API".to_string(),
        ));
    }
    notes.push((
        String::new(),
        "written as a CORS filter; Istio echoes the Origin and matches it case-sensitively, Gateway API may answer `*` and compares without case".to_string(),
    ));
    (policy, notes)
}

/// `http(s)://host[:port]` with a host of letters, digits, `-` and `.` only.
fn is_plain_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_exact_origins_carry_over_to_gateway_api() {
        let (policy, notes) = cors_filter(&Cors {
            allow_origins: vec![
                StringMatch::Exact("https://a.example:8443".into()),
                StringMatch::Exact("https://*.b.example".into()),
                StringMatch::Prefix("https://c".into()),
                StringMatch::Regex(".*".into()),
            ],
            max_age_seconds: Some(10),
            ..Cors::default()
        });
        assert_eq!(policy["allowOrigins"], json!(["https://a.example:8443"]));
        assert_eq!(policy["maxAge"], json!(10));
        for field in ["allowOrigins[1]", "allowOrigins[2]", "allowOrigins[3]"] {
            assert!(notes.iter().any(|(f, _)| f == field), "{field}: {notes:?}");
        }
        assert!(!notes.iter().any(|(f, _)| f == "unmatchedPreflights"));
    }
}
