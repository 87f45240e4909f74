//! The Istio WasmPlugin (extensions.istio.io/v1alpha1, istio.md section 8). Istio hands
//! `pluginConfig` to the plugin as a JSON string, so the bytecode travels base64 in
//! `{"bytecode": ...}`, the one JSON shape the plugin accepts. The WasmPlugin only
//! installs the filter: the route that obeys the routing header comes from
//! `emit envoyfilter --route-only`.

use switchyard_bytecode::Program;

use super::yaml::{Node, yaml_map};
use super::{Metadata, Scope, base64, envoy, selector_required};

#[derive(Debug, Clone, Default)]
pub struct WasmPluginOptions {
    pub url: String,
    pub sha256: Option<String>,
    pub phase: Option<String>,
    pub priority: Option<i32>,
    pub fail_strategy: Option<String>,
    /// Workload labels; exclusive with `target_refs`.
    pub selector: Vec<(String, String)>,
    /// `[GROUP/]KIND/NAME`. Neither this nor `selector`: the compiled Gateway API
    /// Gateway, or every workload of the namespace for a mesh target.
    pub target_refs: Vec<String>,
    /// The plugin's `traceHeader`; `None`: traces off.
    pub trace_header: Option<String>,
    /// Deliver the program in the compressed container.
    pub compress: bool,
}

const PHASES: [&str; 4] = ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"];
const FAIL_STRATEGIES: [&str; 3] = ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"];
const GATEWAY_API_GROUP: &str = "gateway.networking.k8s.io";

pub fn wasmplugin(program: &Program, meta: &Metadata, options: &WasmPluginOptions) -> Result<Node, String> {
    check(options)?;
    let mut spec = yaml_map! {};
    if !options.selector.is_empty() {
        let labels = options
            .selector
            .iter()
            .map(|(k, v)| (k.clone(), Node::from(v)))
            .collect();
        spec.push("selector", yaml_map! { "matchLabels" => Node::Map(labels) });
    } else {
        let refs: Vec<String> = match (&meta.scope, options.target_refs.is_empty()) {
            (_, false) => options.target_refs.clone(),
            (Scope::Gateway { name, .. }, true) => vec![format!("Gateway/{name}")],
            // No selection: every workload of the namespace, the sidecars to program.
            (Scope::Mesh { .. }, true) => Vec::new(),
            (scope, true) => return Err(selector_required(scope).err().unwrap_or_default()),
        };
        let refs = refs
            .iter()
            .map(|r| target_ref(r))
            .collect::<Result<Vec<_>, _>>()?;
        if !refs.is_empty() {
            spec.push("targetRefs", refs);
        }
    }
    if let Scope::Mesh { .. } = meta.scope {
        // Sidecars run HTTP plugins on inbound traffic too by default; the program
        // routes what the workload sends.
        spec.push("match", vec![yaml_map! { "mode" => "CLIENT" }]);
    }
    spec.push("url", &options.url);
    if let Some(sha) = &options.sha256 {
        spec.push("sha256", sha);
    }
    spec.push("pluginName", envoy::PLUGIN_NAME);
    if let Some(phase) = &options.phase {
        spec.push("phase", phase);
    }
    if let Some(priority) = options.priority {
        spec.push("priority", priority);
    }
    if let Some(strategy) = &options.fail_strategy {
        spec.push("failStrategy", strategy);
    }
    let bytes = envoy::delivered_program(program, options.compress);
    let mut config = yaml_map! { "bytecode" => base64::encode(&bytes) };
    if let Some(name) = &options.trace_header {
        config.push("traceHeader", name);
    }
    spec.push("pluginConfig", config);
    Ok(yaml_map! {
        "apiVersion" => "extensions.istio.io/v1alpha1",
        "kind" => "WasmPlugin",
        "metadata" => meta.node(),
        "spec" => spec,
    })
}

fn check(options: &WasmPluginOptions) -> Result<(), String> {
    let url = &options.url;
    if url.is_empty() {
        return Err("--url is required (file://, https:// or oci://)".into());
    }
    if url.starts_with("https://") {
        if options.sha256.is_none() {
            return Err("--url https://... needs --sha256 (the agent checks the download)".into());
        }
    } else if !url.starts_with("file://") && !url.starts_with("oci://") {
        return Err(format!(
            "--url {url:?}: use file://, https:// (with --sha256) or oci://"
        ));
    }
    if let Some(sha) = &options.sha256
        && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(format!("--sha256 {sha:?}: expected 64 hexadecimal digits"));
    }
    if let Some(phase) = &options.phase
        && !PHASES.contains(&phase.as_str())
    {
        return Err(format!("--phase {phase:?}: one of {}", PHASES.join(", ")));
    }
    if let Some(strategy) = &options.fail_strategy
        && !FAIL_STRATEGIES.contains(&strategy.as_str())
    {
        return Err(format!(
            "--fail-strategy {strategy:?}: one of {}",
            FAIL_STRATEGIES.join(", ")
        ));
    }
    if !options.selector.is_empty() && !options.target_refs.is_empty() {
        return Err("--selector and --target-ref are exclusive".into());
    }
    Ok(())
}

/// `[GROUP/]KIND/NAME`; a Gateway defaults to the Gateway API group, anything else
/// (a Service) to the core group.
fn target_ref(text: &str) -> Result<Node, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let (group, kind, name) = match parts.as_slice() {
        [kind, name] => (
            if *kind == "Gateway" { GATEWAY_API_GROUP } else { "" },
            *kind,
            *name,
        ),
        [group, kind, name] => (*group, *kind, *name),
        _ => return Err(format!("--target-ref {text:?}: expected [GROUP/]KIND/NAME")),
    };
    if kind.is_empty() || name.is_empty() {
        return Err(format!("--target-ref {text:?}: expected [GROUP/]KIND/NAME"));
    }
    Ok(yaml_map! { "group" => group, "kind" => kind, "name" => name })
}
