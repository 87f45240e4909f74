//! `switchyard analyze`: static analysis of a configuration, offline. For every proxy
//! target in the inputs (or the one named) it compiles the program and reports rules
//! that can never match, duplicate matches, precedence decided only by creation time,
//! VirtualService merges that move rules, HTTPRoute/GRPCRoute hostname conflicts,
//! dangling references, routes that route nothing, backends answered 500 and Istio
//! string prefixes that Gateway API would read differently; each with the file and line
//! to fix and, where one exists, a witness request the program was run on.

pub mod cli;
mod cover;
pub mod finding;
mod gateway_refs;
mod passes;
mod render;
pub mod witness;

use std::collections::BTreeSet;

use switchyard_bytecode::Program;

use crate::compile::{CompileOptions, Target, compile};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::gateway_api::backends::ClusterNaming;
use crate::input::Document;
use crate::locate::Locator;
use crate::resources::Resources;
use crate::status::route_statuses;

pub use finding::{Finding, Level};
pub use render::{render_json, render_sarif, render_text};

/// The targets analysed when none is named: every Gateway API Gateway, every Istio
/// Gateway, and the sidecar of every namespace with mesh routes.
pub fn default_targets(resources: &Resources) -> Vec<Target> {
    let mut targets: Vec<Target> = resources
        .gateways
        .iter()
        .map(|g| Target::Gateway(Some(g.meta.key())))
        .collect();
    targets.extend(
        resources
            .istio_gateways
            .iter()
            .map(|g| Target::IstioGateway(g.meta.key())),
    );
    let mut mesh: BTreeSet<String> = BTreeSet::new();
    for route in &resources.http_routes {
        if route.parent_refs.iter().any(|p| p.kind == "Service") {
            mesh.insert(route.meta.namespace.clone());
        }
    }
    for route in &resources.grpc_routes {
        if route.parent_refs.iter().any(|p| p.kind == "Service") {
            mesh.insert(route.meta.namespace.clone());
        }
    }
    for vs in &resources.virtual_services {
        if !vs.hosts.is_empty() && crate::istio::bind::vs_gateways(vs).iter().any(|g| g == "mesh") {
            mesh.insert(vs.meta.namespace.clone());
        }
    }
    targets.extend(mesh.into_iter().map(Target::Mesh));
    targets
}

/// Analyses `targets` (all of them when empty). Errors in the inputs come back as
/// diagnostics, as from `compile`.
pub fn analyze(
    documents: &[Document],
    options: &CompileOptions,
    targets: &[Target],
) -> Result<Vec<Finding>, Diagnostics> {
    let (resources, diagnostics) = Resources::from_documents(documents);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let targets = if targets.is_empty() {
        default_targets(&resources)
    } else {
        targets.to_vec()
    };
    let locator = Locator::new(&resources);
    let mut findings = Vec::new();
    let mut seen_programs: BTreeSet<Vec<u8>> = BTreeSet::new();
    for target in targets {
        let mesh = match &target {
            Target::Mesh(namespace) => Some(namespace.clone()),
            _ => None,
        };
        let compiled = compile(
            documents,
            &CompileOptions {
                target,
                ..options.clone()
            },
        )?;
        from_diagnostics(&compiled.ir.target, &compiled.diagnostics, &mut findings);
        // Istio Gateways with one selector share a program: analyse it once.
        if !seen_programs.insert(compiled.bytes.clone()) {
            continue;
        }
        let program = Program::from_bytes(&compiled.bytes).map_err(|e| {
            Diagnostics(vec![Diagnostic::error(
                Default::default(),
                format!("internal: {e}"),
            )])
        })?;
        let cx = passes::Context {
            compiled: &compiled,
            compiled_domain: options.cluster_domain.clone(),
            program: &program,
            resources: &resources,
            locator,
        };
        passes::shadowed(&cx, &mut findings);
        passes::ties(&cx, &mut findings);
        passes::virtual_service_merges(&cx, &mut findings);
        passes::string_prefixes(&cx, &mut findings);
        passes::unresolved_backends(&cx, &mut findings);
        if let Some(namespace) = &mesh {
            passes::dropped_mesh_virtual_services(&cx, namespace, &mut findings);
        }
    }
    from_statuses(&resources, &options.naming(), &mut findings);
    gateway_refs::unknown_gateways(&resources, &mut findings);
    findings.sort_by(|a, b| {
        (&a.place.file, a.place.line, a.kind, &a.message).cmp(&(
            &b.place.file,
            b.place.line,
            b.kind,
            &b.message,
        ))
    });
    findings.dedup_by(|a, b| a.kind == b.kind && a.place == b.place && a.message == b.message);
    Ok(findings)
}

/// Compiler warnings: references that do not resolve and rules Istio drops are
/// dangling references; the rest are reported as they are. Unresolved backendRefs are
/// left to the unresolved-backend pass, which has a witness.
fn from_diagnostics(target: &str, diagnostics: &Diagnostics, out: &mut Vec<Finding>) {
    for d in diagnostics.0.iter().filter(|d| d.severity == Severity::Warning) {
        // Left to passes with a witness, or to route status.
        if d.message.contains("; its share is answered ") || d.message.starts_with("not attached to") {
            continue;
        }
        let dangling = [
            "does not resolve",
            "no VirtualService",
            "not exported",
            "subset",
            "is dropped",
        ]
        .iter()
        .any(|needle| d.message.contains(needle));
        let kind = if dangling {
            finding::DANGLING
        } else {
            finding::COMPILE_WARNING
        };
        let what = match (&d.resource, &d.field) {
            (Some(resource), Some(field)) => format!("{resource} {field}"),
            (Some(resource), None) => resource.clone(),
            (None, Some(field)) => field.clone(),
            (None, None) => String::new(),
        };
        out.push(Finding::new(
            kind,
            target,
            d.message.clone(),
            finding::Place::new(Some(d.location.clone()), what),
        ));
    }
}

/// Gateway API route status: a parentRef not accepted routes nothing there; a
/// hostname conflict with a GRPCRoute/HTTPRoute; references that do not resolve.
fn from_statuses(resources: &Resources, naming: &ClusterNaming, out: &mut Vec<Finding>) {
    for status in route_statuses(resources, naming) {
        let what = format!("{} {}", status.kind, status.meta.key());
        let place = || {
            finding::Place::new(
                Some(crate::diag::Location {
                    file: status.meta.file.clone(),
                    line: status.meta.line,
                    column: 0,
                }),
                what.clone(),
            )
        };
        for parent in &status.parents {
            // `Gateway infra/web` as the compiled targets spell it: `gateway infra/web`.
            let target = match parent.parent.split_once(' ') {
                Some((kind, key)) => format!("{} {key}", kind.to_ascii_lowercase()),
                None => parent.parent.clone(),
            };
            if !parent.accepted.status {
                let kind = match parent.accepted.reason.as_str() {
                    "HostnameConflict" => finding::HOSTNAME_CONFLICT,
                    "NoMatchingParent" => finding::DANGLING,
                    _ => finding::ROUTES_NOTHING,
                };
                let message = format!(
                    "{what} parentRefs[{}] ({}): not accepted ({}): {}",
                    parent.index, parent.parent, parent.accepted.reason, parent.accepted.message
                );
                out.push(Finding::new(kind, &target, message, place()));
            }
            if !parent.resolved_refs.status && parent.resolved_refs.reason != "BackendNotFound" {
                let message = format!(
                    "{what}: references do not resolve ({}): {}",
                    parent.resolved_refs.reason, parent.resolved_refs.message
                );
                out.push(Finding::new(finding::DANGLING, &target, message, place()));
            }
        }
    }
}
