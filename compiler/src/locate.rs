//! From a program entry's source (resource, rule index, match index) back to the file
//! and line it was written at, for traces, analysis findings and diffs: users fix YAML,
//! so every report points into it.

use switchyard_bytecode::{SourceInfo, SourceKind};

use crate::diag::Location;
use crate::resources::Resources;
use crate::resources::meta::Meta;

/// Looks up source positions in the resources a program was compiled from.
#[derive(Debug, Clone, Copy)]
pub struct Locator<'r> {
    resources: &'r Resources,
}

impl<'r> Locator<'r> {
    pub fn new(resources: &'r Resources) -> Self {
        Locator { resources }
    }

    /// The line of the match (or of the rule, or of the resource when the index does
    /// not exist in it, as for generated rules); `None` for rules with no resource
    /// behind them (e.g. a Service's default mesh route).
    pub fn locate(&self, source: &SourceInfo<'_>) -> Option<Location> {
        let (rule, index) = (source.rule as usize, source.match_index as usize);
        // Each kind: the resource, and (rule line, its match lines) of the rule.
        let (meta, lines): (&Meta, Option<(u32, Vec<u32>)>) = match source.kind {
            SourceKind::HttpRoute => {
                let route = self.find(&self.resources.http_routes, |r| &r.meta, source)?;
                let lines = route
                    .rules
                    .get(rule)
                    .map(|r| (r.line, r.matches.iter().map(|m| m.line).collect()));
                (&route.meta, lines)
            }
            SourceKind::GrpcRoute => {
                let route = self.find(&self.resources.grpc_routes, |r| &r.meta, source)?;
                let lines = route
                    .rules
                    .get(rule)
                    .map(|r| (r.line, r.matches.iter().map(|m| m.line).collect()));
                (&route.meta, lines)
            }
            SourceKind::VirtualService => {
                let vs = self.find(&self.resources.virtual_services, |v| &v.meta, source)?;
                let lines = vs
                    .http
                    .get(rule)
                    .map(|r| (r.line, r.matches.iter().map(|m| m.line).collect()));
                (&vs.meta, lines)
            }
            SourceKind::Unknown => return None,
        };
        // The match's line, else the rule's, else the resource's.
        let line = lines
            .and_then(|(rule_line, matches)| {
                matches.get(index).copied().filter(|&l| l > 0).or(Some(rule_line))
            })
            .filter(|&l| l > 0)
            .unwrap_or(meta.line);
        Some(Location {
            file: meta.file.clone(),
            line,
            column: 0,
        })
    }

    fn find<'a, T>(
        &self,
        list: &'a [T],
        meta: impl Fn(&T) -> &Meta,
        source: &SourceInfo<'_>,
    ) -> Option<&'a T> {
        list.iter().find(|item| {
            let m = meta(item);
            m.namespace == source.namespace && m.name == source.name
        })
    }
}
