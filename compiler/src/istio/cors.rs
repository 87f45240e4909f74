//! Istio `corsPolicy` to a bytecode CORS policy with Envoy semantics
//! (`TranslateCORSPolicy`, `pilot/pkg/networking/core/route/route.go`): origins become
//! Envoy string matchers (`ConvertToEnvoyMatches`), methods and headers are joined with
//! `,`, `maxAge` becomes whole seconds when set, and `unmatchedPreflights: IGNORE` turns
//! off Envoy's `forward_not_matching_preflights` (on otherwise).

use switchyard_bytecode::ir::{CorsIr, EnvoyCorsIr, OriginMatchIr};

use crate::resources::istio::{Cors, StringMatch};

pub fn cors_policy(cors: &Cors) -> CorsIr {
    let joined = |list: &[String]| {
        Some(list.join(","))
            .filter(|s| !s.is_empty())
            .into_iter()
            .collect::<Vec<_>>()
    };
    CorsIr {
        allow_origins: Vec::new(),
        allow_credentials: cors.allow_credentials,
        allow_methods: joined(&cors.allow_methods),
        allow_headers: joined(&cors.allow_headers),
        expose_headers: joined(&cors.expose_headers),
        max_age_seconds: cors.max_age_seconds.unwrap_or(0),
        envoy: Some(EnvoyCorsIr {
            origins: cors
                .allow_origins
                .iter()
                .filter_map(|m| match m {
                    StringMatch::Exact(text) => Some(OriginMatchIr::Exact(text.clone())),
                    StringMatch::Prefix(text) => Some(OriginMatchIr::Prefix(text.clone())),
                    StringMatch::Regex(pattern) => Some(OriginMatchIr::Regex(pattern.clone())),
                    // The reader refuses it; Istio drops a matcher it cannot convert.
                    StringMatch::Present => None,
                })
                .collect(),
            forward_unmatched_preflights: cors.forward_unmatched_preflights,
            send_max_age: cors.max_age_seconds.is_some(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_cors_keeps_every_origin_kind_and_joins_lists_with_commas() {
        let policy = cors_policy(&Cors {
            allow_origins: vec![
                StringMatch::Exact("https://a.example".into()),
                StringMatch::Prefix("https://b".into()),
                StringMatch::Regex(r".*\.c\.example".into()),
            ],
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: Vec::new(),
            expose_headers: vec!["x-a".into()],
            max_age_seconds: None,
            allow_credentials: true,
            forward_unmatched_preflights: false,
        });
        let envoy = policy.envoy.expect("envoy semantics");
        assert_eq!(envoy.origins.len(), 3);
        assert!(!envoy.forward_unmatched_preflights);
        assert!(!envoy.send_max_age);
        assert_eq!(policy.allow_methods, vec!["GET,POST".to_string()]);
        assert!(policy.allow_headers.is_empty());
        assert!(policy.allow_credentials);
    }
}
