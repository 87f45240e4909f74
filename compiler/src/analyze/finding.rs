//! What `switchyard analyze` reports: findings, their kinds (with a default severity)
//! and severities.

use serde::Serialize;

use crate::diag::Location;

/// How serious a finding is; SARIF's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "note" => Some(Level::Note),
            "warning" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One kind of finding: its stable id (used in SARIF and JSON), level and summary.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub id: &'static str,
    pub level: Level,
    pub summary: &'static str,
}

pub const SHADOWED: Kind = Kind {
    id: "shadowed-rule",
    level: Level::Warning,
    summary: "A rule that can never match: every request it matches is taken by a rule evaluated before it",
};
pub const DUPLICATE: Kind = Kind {
    id: "duplicate-match",
    level: Level::Warning,
    summary: "Two rules with the same conditions on the same host: the later one never matches",
};
pub const ROUTES_NOTHING: Kind = Kind {
    id: "route-routes-nothing",
    level: Level::Warning,
    summary: "A route that is not attached to its parent, or attached but left with no rule for any host",
};
pub const TIE: Kind = Kind {
    id: "creation-order-tie",
    level: Level::Warning,
    summary: "Precedence between overlapping rules decided only by creation time or apply order, which Git cannot know",
};
pub const VS_MERGE: Kind = Kind {
    id: "virtualservice-merge",
    level: Level::Warning,
    summary: "Several VirtualServices for one host: Istio concatenates (gateway) or keeps only the oldest (sidecar)",
};
pub const HOSTNAME_CONFLICT: Kind = Kind {
    id: "hostname-conflict",
    level: Level::Warning,
    summary: "HTTPRoute and GRPCRoute claim the same hostname on one listener; only the older is accepted",
};
pub const DANGLING: Kind = Kind {
    id: "dangling-reference",
    level: Level::Error,
    summary: "A reference that does not resolve: backend, subset, ReferenceGrant, gateway or delegate",
};
pub const UNRESOLVED_BACKEND: Kind = Kind {
    id: "unresolved-backend",
    level: Level::Error,
    summary: "A rule whose requests (or a share of them) are answered 500 (gRPC: UNAVAILABLE) because a backend does not resolve",
};
pub const STRING_PREFIX: Kind = Kind {
    id: "istio-string-prefix",
    level: Level::Note,
    summary: "An Istio uri prefix that also matches inside a path segment; Gateway API's PathPrefix would not",
};
pub const COMPILE_WARNING: Kind = Kind {
    id: "compile-warning",
    level: Level::Warning,
    summary: "Something the compiler warned about",
};

/// Every kind, for SARIF's rule table.
pub const KINDS: [Kind; 10] = [
    SHADOWED,
    DUPLICATE,
    ROUTES_NOTHING,
    TIE,
    VS_MERGE,
    HOSTNAME_CONFLICT,
    DANGLING,
    UNRESOLVED_BACKEND,
    STRING_PREFIX,
    COMPILE_WARNING,
];

/// A place in the manifests a finding points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    pub file: String,
    pub line: u32,
    /// What is there, e.g. `HTTPRoute shop/api rule 1 match 0`.
    pub what: String,
}

impl Place {
    pub fn new(location: Option<Location>, what: String) -> Place {
        let location = location.unwrap_or_default();
        Place {
            file: location.file,
            line: location.line,
            what,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The kind's id.
    pub kind: &'static str,
    pub level: Level,
    /// The proxy target it was found for, e.g. `gateway infra/web`.
    pub target: String,
    pub message: String,
    /// Where to fix it.
    pub place: Place,
    /// The other side: the rule that shadows, the tied rule, the older VirtualService.
    pub related: Vec<Place>,
    /// A request that demonstrates it, as `explain --request` takes it, with headers.
    pub witness: Option<Witness>,
}

/// A request to replay: `switchyard explain -f ... --request REQUEST -H ...`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Witness {
    /// `GET http://host/path?query`
    pub request: String,
    pub port: u32,
    pub headers: Vec<String>,
    /// The random draw that picks among weighted backends (`--random`).
    pub random: u64,
    /// What happens to it, e.g. `won by HTTPRoute ns/a rule 0 match 0`.
    pub outcome: String,
}

impl Finding {
    pub fn new(kind: Kind, target: &str, message: String, place: Place) -> Finding {
        Finding {
            kind: kind.id,
            level: kind.level,
            target: target.to_string(),
            message,
            place,
            related: Vec::new(),
            witness: None,
        }
    }
}
