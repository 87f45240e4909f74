//! Lowering HTTPRoute filters, timeouts and retries to bytecode filter steps.

use switchyard_bytecode::ir::{BackendIr, CorsIr, FilterIr, HeaderEditIr, PortDerivation, RedirectIr};

use crate::resources::filters::{Filter, HeaderModifier, PathModifier};
use crate::resources::{HttpRoute, Resources, RouteMatch, RouteRule};

use super::backends::{ClusterNaming, Unresolved, resolve, unresolved_backend};

/// What a rule's (or a backend's) filters lower to.
#[derive(Debug, Default)]
pub struct Lowered {
    pub steps: Vec<FilterIr>,
    /// A RequestRedirect replaces forwarding.
    pub redirect: Option<RedirectIr>,
    /// Mirror references that did not resolve: (filter index, reason).
    pub unresolved_mirrors: Vec<(usize, Unresolved)>,
}

/// Context for resolving mirror backends.
#[derive(Debug)]
pub struct Scope<'a> {
    pub route: &'a HttpRoute,
    pub resources: &'a Resources,
    pub naming: &'a ClusterNaming,
    /// Compiling for a mesh sidecar: GAMMA routes reach backends in any namespace
    /// without a ReferenceGrant (GEP-1294).
    pub mesh: bool,
}

/// Lowers `filters` in their listed order ("implementations SHOULD apply filters in the
/// order listed"). `the_match` supplies the matched prefix for ReplacePrefixMatch.
pub fn lower_filters(filters: &[Filter], the_match: &RouteMatch, scope: &Scope<'_>) -> Lowered {
    let mut lowered = Lowered::default();
    for (index, filter) in filters.iter().enumerate() {
        match filter {
            Filter::RequestHeaderModifier(m) => header_steps(m, FilterIr::RequestHeader, &mut lowered.steps),
            Filter::ResponseHeaderModifier(m) => {
                header_steps(m, FilterIr::ResponseHeader, &mut lowered.steps)
            }
            Filter::UrlRewrite(rewrite) => {
                if let Some(host) = &rewrite.hostname {
                    lowered.steps.push(FilterIr::SetHost(host.clone()));
                }
                if let Some(path) = &rewrite.path {
                    lowered.steps.push(path_step(path, the_match));
                }
            }
            Filter::RequestRedirect(redirect) => {
                if let Some(path) = &redirect.path {
                    lowered.steps.push(path_step(path, the_match));
                }
                lowered.redirect = Some(RedirectIr {
                    status: redirect.status,
                    scheme: redirect.scheme.clone(),
                    host: redirect.hostname.clone(),
                    port: redirect.port.map(|p| p as u16),
                    derive: PortDerivation::GatewayApi,
                });
            }
            Filter::RequestMirror(mirror) => {
                let backend = match resolve(&mirror.backend, scope) {
                    Ok(backend) => backend,
                    // "If the backend cannot be resolved, the mirror is dropped" (and the
                    // route reports ResolvedRefs=False).
                    Err(why) => {
                        lowered.unresolved_mirrors.push((index, why));
                        unresolved_backend(&mirror.backend)
                    }
                };
                lowered.steps.push(FilterIr::Mirror {
                    backend,
                    per_million: mirror.per_million,
                });
            }
            Filter::Cors(cors) => lowered.steps.push(FilterIr::Cors(CorsIr {
                allow_origins: cors.allow_origins.clone(),
                allow_credentials: cors.allow_credentials,
                allow_methods: cors.allow_methods.clone(),
                allow_headers: cors.allow_headers.clone(),
                expose_headers: cors.expose_headers.clone(),
                max_age_seconds: cors.max_age_seconds,
                envoy: None,
            })),
        }
    }
    lowered
}

/// `set`, then `add`, then `remove`: names are distinct across the three, so the order
/// between them does not change the result.
fn header_steps(m: &HeaderModifier, wrap: fn(HeaderEditIr) -> FilterIr, steps: &mut Vec<FilterIr>) {
    steps.extend(
        m.set
            .iter()
            .map(|(n, v)| wrap(HeaderEditIr::Set(n.clone(), v.clone()))),
    );
    steps.extend(
        m.add
            .iter()
            .map(|(n, v)| wrap(HeaderEditIr::Add(n.clone(), v.clone()))),
    );
    steps.extend(m.remove.iter().map(|n| wrap(HeaderEditIr::Remove(n.clone()))));
}

fn path_step(path: &PathModifier, the_match: &RouteMatch) -> FilterIr {
    match path {
        PathModifier::ReplaceFullPath(value) => FilterIr::SetPath(value.clone()),
        // Validation guarantees the rule's single match is a PathPrefix.
        PathModifier::ReplacePrefixMatch(value) => FilterIr::ReplacePrefix {
            prefix: the_match.path.value.clone(),
            replacement: value.clone(),
        },
    }
}

/// The rule's timeouts and retry as steps (after its filters).
pub fn router_steps(rule: &RouteRule) -> Vec<FilterIr> {
    let mut steps = Vec::new();
    let ms = |v: Option<u64>| v.map(|v| u32::try_from(v).unwrap_or(u32::MAX - 1));
    if rule.timeouts.request_ms.is_some() || rule.timeouts.backend_request_ms.is_some() {
        steps.push(FilterIr::Timeout {
            request_ms: ms(rule.timeouts.request_ms),
            backend_ms: ms(rule.timeouts.backend_request_ms),
        });
    }
    if let Some(retry) = &rule.retry {
        // Gateway API retry codes map to Envoy's retriable-status-codes; `backoff` has no
        // per-request header in Envoy and is not carried.
        steps.push(FilterIr::Retry {
            attempts: retry.attempts,
            retry_on: "retriable-status-codes".to_string(),
            codes: retry.codes.clone(),
        });
    }
    steps
}

/// A resolved backend with its own filters lowered; a RequestRedirect among them makes
/// the backend answer with the redirect when it is chosen ("Filters defined at this
/// level should be executed if and only if the request is being forwarded to the
/// backend defined here").
pub fn with_filters(
    mut backend: BackendIr,
    filters: &[Filter],
    the_match: &RouteMatch,
    scope: &Scope<'_>,
) -> BackendIr {
    let lowered = lower_filters(filters, the_match, scope);
    backend.filters = lowered.steps;
    backend.redirect = lowered.redirect.map(Box::new);
    backend
}
