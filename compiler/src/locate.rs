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
        let (meta, line): (&Meta, Option<u32>) = match source.kind {
            SourceKind::HttpRoute => {
                let route = self.find(&self.resources.http_routes, |r| &r.meta, source)?;
                let line = route.rules.get(rule).map(|r| {
                    r.matches
                        .get(index)
                        .map(|m| m.line)
                        .filter(|&l| l > 0)
                        .unwrap_or(r.line)
                });
                (&route.meta, line)
            }
            SourceKind::GrpcRoute => {
                let route = self.find(&self.resources.grpc_routes, |r| &r.meta, source)?;
                let line = route.rules.get(rule).map(|r| {
                    r.matches
                        .get(index)
                        .map(|m| m.line)
                        .filter(|&l| l > 0)
                        .unwrap_or(r.line)
                });
                (&route.meta, line)
            }
            SourceKind::VirtualService => {
                let vs = self.find(&self.resources.virtual_services, |v| &v.meta, source)?;
                let line = vs.http.get(rule).map(|r| {
                    r.matches
                        .get(index)
                        .map(|m| m.line)
                        .filter(|&l| l > 0)
                        .unwrap_or(r.line)
                });
                (&vs.meta, line)
            }
            SourceKind::Unknown => return None,
        };
        Some(Location {
            file: meta.file.clone(),
            line: line.filter(|&l| l > 0).unwrap_or(meta.line),
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
