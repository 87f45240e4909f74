//! `switchyard emit`: deployable configuration around a compiled program. One file per
//! artifact; `envoy` holds the Envoy fragments they share; `yaml` renders them.
//!
//! - `wasmplugin`: an Istio WasmPlugin delivering the program as `{"bytecode": base64}`.
//! - `envoyfilter`: Istio EnvoyFilters inserting the wasm filter (raw bytecode) and the
//!   route that obeys the routing header.
//! - `bootstrap`: a standalone Envoy bootstrap (also what `switchyard test --engine
//!   envoy` runs).
//! - `envoy_routes`: the native Envoy route table for the same routes (for comparison).

pub mod base64;
pub mod bootstrap;
pub mod cli;
pub mod endpoints;
pub mod envoy;
pub mod envoy_routes;
pub mod envoyfilter;
mod object_size;
pub mod wasmplugin;
pub mod yaml;

use switchyard_bytecode::Program;

/// Which proxies the program was compiled for, from its target (`gateway ns/name`,
/// `istio-gateway ns/name` or `mesh ns`): it decides how the Istio resources select
/// workloads and which Envoy context they patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A Gateway API Gateway: Istio deploys its pods and labels them with its name.
    Gateway { namespace: String, name: String },
    /// An Istio Gateway: its pods are found by the Gateway's `selector`, which the
    /// program does not record, so `--selector` must name them.
    IstioGateway { namespace: String, name: String },
    /// The sidecars of a namespace (outbound traffic).
    Mesh { namespace: String },
}

impl Scope {
    pub fn of(program: &Program) -> Result<Self, String> {
        let target = program.target();
        let key = |k: &str| {
            let (namespace, name) = k.split_once('/').unwrap_or(("default", k));
            (namespace.to_string(), name.to_string())
        };
        if let Some(k) = target.strip_prefix("gateway ") {
            let (namespace, name) = key(k);
            Ok(Scope::Gateway { namespace, name })
        } else if let Some(k) = target.strip_prefix("istio-gateway ") {
            let (namespace, name) = key(k);
            Ok(Scope::IstioGateway { namespace, name })
        } else if let Some(namespace) = target.strip_prefix("mesh ") {
            Ok(Scope::Mesh {
                namespace: namespace.to_string(),
            })
        } else {
            Err(format!("the program's target {target:?} is not one emit knows"))
        }
    }

    fn namespace(&self) -> &str {
        match self {
            Scope::Gateway { namespace, .. }
            | Scope::IstioGateway { namespace, .. }
            | Scope::Mesh { namespace } => namespace,
        }
    }

    /// The EnvoyFilter `match.context`.
    fn context(&self) -> &'static str {
        match self {
            Scope::Mesh { .. } => "SIDECAR_OUTBOUND",
            _ => "GATEWAY",
        }
    }
}

/// Name and namespace of the emitted resources, and the proxies they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
    pub scope: Scope,
}

impl Metadata {
    /// `name` (default `switchyard`) in `namespace` (default: the target's: a policy
    /// attached to a Gateway must live beside it; a namespace's sidecars are selected
    /// from there).
    pub fn for_program(
        program: &Program,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Self, String> {
        let scope = Scope::of(program)?;
        Ok(Metadata {
            name: name.unwrap_or(envoy::PLUGIN_NAME).to_string(),
            namespace: namespace.unwrap_or(scope.namespace()).to_string(),
            scope,
        })
    }

    fn node(&self) -> yaml::Node {
        yaml::yaml_map! { "name" => &self.name, "namespace" => &self.namespace }
    }
}

/// The selector an Istio Gateway target needs, since the program cannot supply it.
fn selector_required(scope: &Scope) -> Result<(), String> {
    match scope {
        Scope::IstioGateway { namespace, name } => Err(format!(
            "the target is Istio Gateway {namespace}/{name}: give its pods' labels with --selector K=V (its spec.selector, e.g. istio=ingressgateway)"
        )),
        _ => Ok(()),
    }
}

/// Parses `key=value` (a label selector entry).
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("--selector {text:?}: expected KEY=VALUE")),
    }
}
