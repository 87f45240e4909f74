//! From documents to bytecode for one proxy target.

use switchyard_bytecode::ir::ProgramIr;
use switchyard_bytecode::write_program;

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::gateway_api::attach::serves_http;
use crate::gateway_api::backends::{ClusterNaming, ISTIO_TEMPLATE};
use crate::gateway_api::compile_gateway;
use crate::gateway_api::mesh::compile_mesh;
use crate::input::{Document, load_inputs_each};
use crate::istio::compile_istio_gateway;
use crate::istio::mesh::{apply_mesh_service_entries, apply_mesh_virtual_services};
use crate::resources::{Gateway, Resources, ResourcesBuilder};

/// The header the plugin sets by default.
pub const DEFAULT_ROUTING_HEADER: &str = "x-switchyard-cluster";
/// The Kubernetes cluster domain by default.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// Which proxy the program is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Gateway API Gateway, `namespace/name` or `name` (namespace `default`); `None`
    /// when the inputs hold exactly one Gateway.
    Gateway(Option<String>),
    /// The sidecar of a client in this namespace (GAMMA: routes with Service parents;
    /// Istio: VirtualServices bound to `mesh`).
    Mesh(String),
    /// The proxy selected by this Istio Gateway's selector (`namespace/name` or `name`),
    /// serving every Istio Gateway with the same selector.
    IstioGateway(String),
}

/// The port a mesh request arrives on when a test does not say.
const MESH_DEFAULT_PORT: u32 = 80;

#[derive(Debug, Clone)]
pub struct CompileOptions {
    pub target: Target,
    pub cluster_domain: String,
    /// `None`: Istio's cluster names.
    pub cluster_template: Option<String>,
    pub routing_header: String,
}

impl CompileOptions {
    /// How backends become Envoy cluster names under these options.
    pub fn naming(&self) -> ClusterNaming {
        ClusterNaming {
            template: self
                .cluster_template
                .clone()
                .unwrap_or_else(|| ISTIO_TEMPLATE.to_string()),
            cluster_domain: self.cluster_domain.clone(),
        }
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            target: Target::Gateway(None),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            cluster_template: None,
            routing_header: DEFAULT_ROUTING_HEADER.to_string(),
        }
    }
}

/// A compiled program and what the compiler had to say.
#[derive(Debug)]
pub struct Compiled {
    pub ir: ProgramIr,
    pub bytes: Vec<u8>,
    /// Notes and warnings (never errors: those fail the compilation).
    pub diagnostics: Diagnostics,
    /// The port a request arrives on when a test does not say.
    pub default_port: u32,
}

/// Reads resources and compiles them for `options.target`.
pub fn compile(documents: &[Document], options: &CompileOptions) -> Result<Compiled, Diagnostics> {
    let (resources, diagnostics) = Resources::from_documents(documents);
    compile_resources(resources, diagnostics, options)
}

/// Reads `paths` (files, folders, `-`, as [`load_inputs`] does) and compiles them,
/// reading each document into a resource as soon as it is parsed: YAML trees are the
/// largest thing in memory, and holding them all at once doubled the peak of a large
/// compile. Diagnostics are those of [`load_inputs`] then [`compile`].
pub fn compile_inputs(paths: &[String], options: &CompileOptions) -> Result<Compiled, Diagnostics> {
    let mut builder = ResourcesBuilder::default();
    load_inputs_each(paths, &mut |document| builder.add(&document))?;
    let (resources, diagnostics) = builder.finish();
    compile_resources(resources, diagnostics, options)
}

fn compile_resources(
    resources: Resources,
    mut diagnostics: Diagnostics,
    options: &CompileOptions,
) -> Result<Compiled, Diagnostics> {
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let fail = |mut diagnostics: Diagnostics, message: String| {
        diagnostics.push(Diagnostic::error(
            Location {
                file: "<command line>".into(),
                ..Location::default()
            },
            message,
        ));
        Err(diagnostics)
    };
    if let Some(template) = &options.cluster_template
        && let Err(message) = ClusterNaming::validate_template(template)
    {
        return fail(diagnostics, message);
    }
    let naming = options.naming();
    let (target, listeners, default_port) = match &options.target {
        Target::Gateway(wanted) => {
            let gateway = match find_gateway(&resources, wanted.as_deref()) {
                Ok(gateway) => gateway,
                Err(message) => return fail(diagnostics, message),
            };
            let listeners = compile_gateway(gateway, &resources, &naming, &mut diagnostics);
            let default_port = gateway
                .listeners
                .iter()
                .find(|l| serves_http(l))
                .map_or(80, |l| l.port);
            (format!("gateway {}", gateway.meta.key()), listeners, default_port)
        }
        Target::Mesh(namespace) => {
            let mut listeners = compile_mesh(namespace, &resources, &naming, &mut diagnostics);
            apply_mesh_virtual_services(namespace, &resources, &naming, &mut diagnostics, &mut listeners);
            apply_mesh_service_entries(namespace, &resources, &naming, &mut diagnostics, &mut listeners);
            (format!("mesh {namespace}"), listeners, MESH_DEFAULT_PORT)
        }
        Target::IstioGateway(key) => {
            match compile_istio_gateway(key, &resources, &naming, &mut diagnostics) {
                Ok(compiled) => compiled,
                Err(message) => return fail(diagnostics, message),
            }
        }
    };
    let ir = ProgramIr {
        routing_header: options.routing_header.to_ascii_lowercase(),
        // A sidecar passes traffic to hosts no Service or route declares through to
        // where the client sent it (Istio's default `outboundTrafficPolicy: ALLOW_ANY`);
        // a gateway answers them 404.
        pass_unknown_hosts: matches!(options.target, Target::Mesh(_)),
        target,
        listeners,
    };
    // The IR owns everything the writer needs.
    drop(resources);
    match write_program(&ir) {
        Ok(bytes) => Ok(Compiled {
            ir,
            bytes,
            diagnostics,
            default_port,
        }),
        Err(e) => fail(diagnostics, format!("cannot write the program: {e}")),
    }
}

fn find_gateway<'r>(resources: &'r Resources, wanted: Option<&str>) -> Result<&'r Gateway, String> {
    match wanted {
        Some(key) => {
            let key = if key.contains('/') {
                key.to_string()
            } else {
                format!("default/{key}")
            };
            resources
                .gateways
                .iter()
                .find(|g| g.meta.key() == key)
                .ok_or_else(|| {
                    let known: Vec<String> = resources.gateways.iter().map(|g| g.meta.key()).collect();
                    format!(
                        "no Gateway {key} in the inputs (found: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )
                })
        }
        None => match resources.gateways.as_slice() {
            [only] => Ok(only),
            [] => Err("the inputs hold no Gateway".to_string()),
            many => Err(format!(
                "the inputs hold {} Gateways; choose one with --gateway ({})",
                many.len(),
                many.iter().map(|g| g.meta.key()).collect::<Vec<_>>().join(", ")
            )),
        },
    }
}
