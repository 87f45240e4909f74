//! An owned, ordered name for one match of one rule of one resource: the unit entries
//! are compiled from, and the unit `diff` and `test --coverage` report on. `Program::source`
//! and `SourceIr` give the same facts borrowed; `crate::locate` turns them into a file
//! and line.

use switchyard_bytecode::ir::SourceIr;
use switchyard_bytecode::{SourceInfo, SourceKind};

use crate::diag::Location;
use crate::locate::Locator;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleRef {
    /// `HTTPRoute`, `GRPCRoute` or `VirtualService` (`SourceKind::as_str`).
    pub kind: &'static str,
    pub namespace: String,
    /// The resource's name; in parentheses for rules the compiler makes itself (a
    /// Service's default mesh route, an Istio Gateway's httpsRedirect).
    pub name: String,
    pub rule: u32,
    pub match_index: u32,
}

impl RuleRef {
    pub fn from_info(info: &SourceInfo<'_>) -> RuleRef {
        RuleRef {
            kind: info.kind.as_str(),
            namespace: info.namespace.to_string(),
            name: info.name.to_string(),
            rule: info.rule,
            match_index: info.match_index,
        }
    }

    pub fn from_ir(source: &SourceIr) -> RuleRef {
        RuleRef {
            kind: source.kind.as_str(),
            namespace: source.namespace.clone(),
            name: source.name.clone(),
            rule: u32::from(source.rule),
            match_index: u32::from(source.match_index),
        }
    }

    /// The borrowed form, for `Locator`.
    pub fn info(&self) -> SourceInfo<'_> {
        let kind = [
            SourceKind::HttpRoute,
            SourceKind::GrpcRoute,
            SourceKind::VirtualService,
        ]
        .into_iter()
        .find(|k| k.as_str() == self.kind)
        .unwrap_or(SourceKind::Unknown);
        SourceInfo {
            kind,
            namespace: &self.namespace,
            name: &self.name,
            rule: self.rule,
            match_index: self.match_index,
        }
    }

    /// Where the match is written, when a resource holds it.
    pub fn locate(&self, locator: &Locator<'_>) -> Option<Location> {
        locator.locate(&self.info())
    }

    /// A rule the compiler made rather than one a manifest spells out.
    pub fn implicit(&self) -> bool {
        self.name.starts_with('(')
    }

    /// The resource and rule, without the match: `HTTPRoute ns/name rule 2`.
    pub fn rule_label(&self) -> String {
        format!(
            "{} {}/{} rule {}",
            self.kind, self.namespace, self.name, self.rule
        )
    }
}

/// The same words as `SourceInfo`'s Display, so reports and listings agree.
impl core::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} match {}", self.rule_label(), self.match_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_ref_prints_as_the_program_source_does() {
        let rule = RuleRef {
            kind: "VirtualService",
            namespace: "default".into(),
            name: "shop".into(),
            rule: 2,
            match_index: 1,
        };
        assert_eq!(rule.to_string(), rule.info().to_string());
        assert_eq!(rule.info().kind, SourceKind::VirtualService);
        assert_eq!(RuleRef::from_info(&rule.info()), rule);
    }
}
