//! The one place route precedence is decided: HTTPRoute ([`Precedence`]), GRPCRoute
//! ([`GrpcPrecedence`]), how entries of the two kinds sort together ([`RouteOrder`]) and
//! which of two routes is older ([`older_route_first`]).
//!
//! ## HTTPRoute
//!
//! Gateway API (`HTTPRouteRule`): "Proxy or Load Balancer routing configuration
//! generated from HTTPRoutes MUST prioritize matches based on the following criteria,
//! continuing on ties. Across all rules specified on applicable Routes, precedence must
//! be given to the match having:
//! * "Exact" path match.
//! * "Prefix" path match with largest number of characters.
//! * Method match.
//! * Largest number of header matches.
//! * Largest number of query param matches.
//!
//! If ties still exist across multiple Routes, matching precedence MUST be determined in
//! order of the following criteria, continuing on ties:
//! * The oldest Route based on creation timestamp.
//! * The Route appearing first in alphabetical order by "{namespace}/{name}".
//!
//! If ties still exist within an HTTPRoute, matching precedence MUST be granted to the
//! FIRST matching rule (in list order) with a match meeting the above criteria."
//!
//! Hostname precedence ("largest number of characters in a matching non-wildcard
//! hostname", then in a matching hostname) comes first and is carried by the vhost
//! order in the bytecode: exact names, then longer wildcards, then the catch-all.
//!
//! RegularExpression paths are ranked by the implementation: Switchyard ranks them after
//! every Exact and PathPrefix match, longer patterns first, as Istio does.

use std::cmp::{Ordering, Reverse};

use crate::resources::{GrpcMatch, PathType, RouteMatch, StringMatchType};

/// Gateway API (all route kinds): "If ties still exist across multiple Routes, matching
/// precedence MUST be determined in order of the following criteria, continuing on
/// ties: The oldest Route based on creation timestamp. The Route appearing first in
/// alphabetical order by "{namespace}/{name}"." Also decides which of an HTTPRoute and
/// a GRPCRoute with intersecting hostnames on one listener is accepted
/// (`grpcroute_types.go`). `Less`: `a` comes first.
pub fn older_route_first(a: (Option<&str>, &str), b: (Option<&str>, &str)) -> Ordering {
    by_creation(a.0, b.0).then_with(|| a.1.cmp(b.1))
}

/// The order of two matches whose criteria tie, for every route kind: across routes the
/// older (then by name) first; within a route, rule list order, then match order.
/// Arguments: (creationTimestamp, `namespace/name`, rule index, match index).
fn after_rank(a: (Option<&str>, &str, usize, usize), b: (Option<&str>, &str, usize, usize)) -> Ordering {
    older_route_first((a.0, a.1), (b.0, b.1))
        .then_with(|| a.2.cmp(&b.2))
        .then_with(|| a.3.cmp(&b.3))
}

/// Oldest first; a route without `creationTimestamp` (a manifest from Git, not yet
/// created) counts as newer than every created route.
fn by_creation(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        // RFC 3339 timestamps in UTC compare correctly as text.
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The HTTPRoute criteria as a sort key: path type, path length, method, headers,
/// query parameters, each larger-first.
type HttpRank = (
    Reverse<u8>,
    Reverse<usize>,
    Reverse<bool>,
    Reverse<usize>,
    Reverse<usize>,
);

/// Everything precedence looks at, for one match of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precedence {
    pub path_type: PathType,
    pub path_len: usize,
    pub has_method: bool,
    pub headers: usize,
    pub query_params: usize,
    /// `None`: not yet created (a manifest from Git), ordered after every created route.
    pub created: Option<String>,
    /// `namespace/name`.
    pub route: String,
    pub rule: usize,
    pub match_index: usize,
}

impl Precedence {
    pub fn of(m: &RouteMatch, created: Option<&str>, route: String, rule: usize, match_index: usize) -> Self {
        Precedence {
            path_type: m.path.kind,
            path_len: m.path.value.chars().count(),
            has_method: m.method.is_some(),
            headers: m.headers.len(),
            query_params: m.query_params.len(),
            created: created.map(str::to_string),
            route,
            rule,
            match_index,
        }
    }

    /// Equal on every criterion before the cross-route tie-breakers: which of the two
    /// wins is then decided by creation time or name alone.
    pub fn same_rank(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }

    /// The spec's criteria in order; smaller wins.
    fn rank(&self) -> HttpRank {
        (
            Reverse(self.path_rank()),
            Reverse(self.path_len),
            Reverse(self.has_method),
            Reverse(self.headers),
            Reverse(self.query_params),
        )
    }

    fn path_rank(&self) -> u8 {
        match self.path_type {
            PathType::Exact => 2,
            PathType::PathPrefix => 1,
            PathType::RegularExpression => 0,
        }
    }
}

impl Ord for Precedence {
    /// `Less` means "wins": sorting ascending gives evaluation order.
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank()).then_with(|| {
            after_rank(
                (self.created.as_deref(), &self.route, self.rule, self.match_index),
                (
                    other.created.as_deref(),
                    &other.route,
                    other.rule,
                    other.match_index,
                ),
            )
        })
    }
}

impl PartialOrd for Precedence {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// GRPCRoute precedence, for one match of one rule.
///
/// Gateway API (`GRPCRouteRule.matches`): "Proxy or Load Balancer routing configuration
/// generated from GRPCRoutes MUST prioritize rules based on the following criteria,
/// continuing on ties. Merging MUST not be done between GRPCRoutes and HTTPRoutes.
/// Precedence MUST be given to the rule with the largest number of:
/// * Characters in a matching non-wildcard hostname.
/// * Characters in a matching hostname.
/// * Characters in a matching service.
/// * Characters in a matching method.
/// * Header matches.
///
/// If ties still exist across multiple Routes, matching precedence MUST be determined in
/// order of the following criteria, continuing on ties:
/// * The oldest Route based on creation timestamp.
/// * The Route appearing first in alphabetical order by "{namespace}/{name}".
///
/// If ties still exist within the Route that has been given precedence, matching
/// precedence MUST be granted to the first matching rule meeting the above criteria."
///
/// As for HTTPRoute, hostname precedence is carried by the vhost order. A
/// `RegularExpression` method match is ranked by the implementation: Switchyard ranks it
/// after every `Exact` match (including a match without `method`, which matches every
/// call), then by the characters of its service and method patterns, as it ranks regex
/// paths after every Exact and PathPrefix path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcPrecedence {
    pub regex: bool,
    /// Characters in the service (pattern); 0 when the match names none.
    pub service_len: usize,
    /// Characters in the method (pattern); 0 when the match names none.
    pub method_len: usize,
    pub headers: usize,
    pub created: Option<String>,
    /// `namespace/name`.
    pub route: String,
    pub rule: usize,
    pub match_index: usize,
}

impl GrpcPrecedence {
    pub fn of(m: &GrpcMatch, created: Option<&str>, route: String, rule: usize, match_index: usize) -> Self {
        let len = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        GrpcPrecedence {
            regex: m
                .method
                .as_ref()
                .is_some_and(|m| m.kind == StringMatchType::RegularExpression),
            service_len: m.method.as_ref().map_or(0, |m| len(&m.service)),
            method_len: m.method.as_ref().map_or(0, |m| len(&m.method)),
            headers: m.headers.len(),
            created: created.map(str::to_string),
            route,
            rule,
            match_index,
        }
    }
}

impl GrpcPrecedence {
    /// Equal on every criterion before the cross-route tie-breakers.
    pub fn same_rank(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }

    /// The spec's criteria in order (regex methods after exact ones); smaller wins.
    fn rank(&self) -> (bool, Reverse<usize>, Reverse<usize>, Reverse<usize>) {
        (
            self.regex,
            Reverse(self.service_len),
            Reverse(self.method_len),
            Reverse(self.headers),
        )
    }
}

impl Ord for GrpcPrecedence {
    /// `Less` means "wins": sorting ascending gives evaluation order.
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank()).then_with(|| {
            after_rank(
                (self.created.as_deref(), &self.route, self.rule, self.match_index),
                (
                    other.created.as_deref(),
                    &other.route,
                    other.rule,
                    other.match_index,
                ),
            )
        })
    }
}

impl PartialOrd for GrpcPrecedence {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The precedence of an entry of either route kind, as the vhost sorts them.
///
/// HTTPRoutes and GRPCRoutes are never merged: on one listener, a GRPCRoute and an
/// HTTPRoute whose hostnames intersect are not both attached (the older one wins, see
/// `attach`), and listener isolation keeps listeners apart, so no vhost (nor any vhost
/// it falls back to) holds entries of both kinds. The order between kinds below (every
/// HTTPRoute entry before every GRPCRoute entry) only makes the order total.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteOrder {
    Http(Precedence),
    Grpc(GrpcPrecedence),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{HeaderMatch, PathMatch, QueryMatch, StringMatchType};

    fn base() -> Precedence {
        Precedence {
            path_type: PathType::PathPrefix,
            path_len: 1,
            has_method: false,
            headers: 0,
            query_params: 0,
            created: None,
            route: "ns/a".into(),
            rule: 0,
            match_index: 0,
        }
    }

    #[test]
    fn exact_path_beats_prefix_of_any_length() {
        let exact = Precedence {
            path_type: PathType::Exact,
            path_len: 2,
            ..base()
        };
        let prefix = Precedence {
            path_len: 50,
            ..base()
        };
        assert!(exact < prefix);
    }

    #[test]
    fn longer_prefix_beats_shorter_prefix() {
        assert!(
            Precedence {
                path_len: 5,
                ..base()
            } < Precedence {
                path_len: 4,
                ..base()
            }
        );
    }

    #[test]
    fn regex_path_ranks_after_every_prefix() {
        let regex = Precedence {
            path_type: PathType::RegularExpression,
            path_len: 40,
            ..base()
        };
        assert!(base() < regex);
    }

    #[test]
    fn method_match_beats_more_headers() {
        let method = Precedence {
            has_method: true,
            ..base()
        };
        let headers = Precedence {
            headers: 3,
            query_params: 3,
            ..base()
        };
        assert!(method < headers);
    }

    #[test]
    fn more_header_matches_beat_more_query_matches() {
        assert!(
            Precedence { headers: 2, ..base() }
                < Precedence {
                    headers: 1,
                    query_params: 5,
                    ..base()
                }
        );
    }

    #[test]
    fn more_query_param_matches_win_among_equals() {
        assert!(
            Precedence {
                query_params: 2,
                ..base()
            } < Precedence {
                query_params: 1,
                ..base()
            }
        );
    }

    #[test]
    fn oldest_route_wins_ties() {
        let old = Precedence {
            created: Some("2020-01-01T00:00:00Z".into()),
            route: "ns/z".into(),
            ..base()
        };
        let new = Precedence {
            created: Some("2024-01-01T00:00:00Z".into()),
            route: "ns/a".into(),
            ..base()
        };
        assert!(old < new);
        let uncreated = Precedence {
            route: "aa/a".into(),
            ..base()
        };
        assert!(new < uncreated, "a route not yet created is the newest");
    }

    #[test]
    fn alphabetical_namespace_name_breaks_timestamp_ties() {
        assert!(
            Precedence {
                route: "a/z".into(),
                ..base()
            } < Precedence {
                route: "b/a".into(),
                ..base()
            }
        );
    }

    #[test]
    fn first_rule_then_first_match_wins_within_a_route() {
        assert!(
            Precedence {
                rule: 0,
                match_index: 3,
                ..base()
            } < Precedence { rule: 1, ..base() }
        );
        assert!(
            Precedence {
                match_index: 0,
                ..base()
            } < Precedence {
                match_index: 1,
                ..base()
            }
        );
    }

    fn grpc() -> GrpcPrecedence {
        GrpcPrecedence {
            regex: false,
            service_len: 0,
            method_len: 0,
            headers: 0,
            created: None,
            route: "ns/a".into(),
            rule: 0,
            match_index: 0,
        }
    }

    #[test]
    fn grpc_longer_service_beats_longer_method() {
        let service = GrpcPrecedence {
            service_len: 10,
            ..grpc()
        };
        let method = GrpcPrecedence {
            service_len: 9,
            method_len: 40,
            ..grpc()
        };
        assert!(service < method);
    }

    #[test]
    fn grpc_longer_method_beats_more_headers() {
        let method = GrpcPrecedence {
            service_len: 3,
            method_len: 4,
            ..grpc()
        };
        let headers = GrpcPrecedence {
            service_len: 3,
            method_len: 3,
            headers: 16,
            ..grpc()
        };
        assert!(method < headers);
    }

    #[test]
    fn grpc_more_header_matches_win_among_equal_methods() {
        assert!(GrpcPrecedence { headers: 2, ..grpc() } < GrpcPrecedence { headers: 1, ..grpc() });
    }

    #[test]
    fn grpc_regex_method_ranks_after_every_exact_match() {
        let regex = GrpcPrecedence {
            regex: true,
            service_len: 30,
            method_len: 30,
            headers: 3,
            ..grpc()
        };
        assert!(grpc() < regex, "a match without method outranks a regex match");
        assert!(
            regex
                < GrpcPrecedence {
                    regex: true,
                    service_len: 29,
                    ..grpc()
                }
        );
    }

    #[test]
    fn grpc_oldest_route_then_namespace_name_then_rule_order() {
        let old = GrpcPrecedence {
            created: Some("2020-01-01T00:00:00Z".into()),
            route: "z/z".into(),
            rule: 5,
            ..grpc()
        };
        let a = GrpcPrecedence {
            route: "a/a".into(),
            rule: 3,
            ..grpc()
        };
        let b = GrpcPrecedence {
            route: "b/b".into(),
            ..grpc()
        };
        assert!(old < a && a < b);
        assert!(
            GrpcPrecedence {
                rule: 0,
                match_index: 9,
                ..grpc()
            } < GrpcPrecedence { rule: 1, ..grpc() }
        );
    }

    #[test]
    fn older_route_first_orders_by_timestamp_then_name() {
        use std::cmp::Ordering::*;
        assert_eq!(
            older_route_first((Some("2020"), "b/b"), (Some("2021"), "a/a")),
            Less
        );
        assert_eq!(older_route_first((None, "a/a"), (Some("2021"), "b/b")), Greater);
        assert_eq!(older_route_first((None, "a/a"), (None, "b/b")), Less);
    }

    #[test]
    fn http_entries_sort_before_grpc_entries() {
        assert!(RouteOrder::Http(base()) < RouteOrder::Grpc(grpc()));
    }

    #[test]
    fn of_reads_the_match() {
        let m = RouteMatch {
            path: PathMatch {
                kind: PathType::Exact,
                value: "/abc".into(),
            },
            headers: vec![HeaderMatch {
                kind: StringMatchType::Exact,
                name: "a".into(),
                value: "b".into(),
            }],
            query_params: vec![QueryMatch {
                kind: StringMatchType::Exact,
                name: "q".into(),
                value: "v".into(),
            }],
            method: Some("GET".into()),
            line: 1,
        };
        let p = Precedence::of(&m, None, "ns/r".into(), 1, 2);
        assert_eq!(
            (p.path_len, p.has_method, p.headers, p.query_params),
            (4, true, 1, 1)
        );
    }
}
