//! `switchyard emit ARTIFACT`: reads its own flags and hands the compile flags (`-f`,
//! `--gateway`, `--cluster-*`, `--routing-header`, `-q`) to the shared CLI parser, so
//! emit compiles exactly as `compile` does.

use std::io::Write;
use std::path::Path;

use switchyard_bytecode::Program;

use super::bootstrap::{BootstrapOptions, bootstrap};
use super::endpoints::{self, Endpoint};
use super::envoyfilter::{DEFAULT_WASM_PATH, EnvoyFilterOptions, envoyfilters};
use super::wasmplugin::{WasmPluginOptions, wasmplugin};
use super::{Metadata, envoy, object_size, parse_label, yaml};
use crate::cli::{compile_from_args, write_atomically};
use crate::routetest::engine::find_plugin;

pub const EMIT_HELP: &str = "\
switchyard emit: write deployable configuration for a compiled program

  switchyard emit wasmplugin      -f PATH... --url URL [options]
  switchyard emit envoyfilter     -f PATH... [options]
  switchyard emit envoy-bootstrap -f PATH... (--endpoints FILE | --endpoint C=HOST:PORT...) [options]
  switchyard emit envoy-routes    -f PATH... [--port N] [--compact] [options]

Takes compile's inputs and options (-f, --gateway | --istio-gateway | --mesh,
--cluster-domain, --cluster-template, --routing-header, -q). Output goes to -o PATH
(written to a temporary file and renamed) or stdout.

--trace-header NAME (wasmplugin, envoyfilter, envoy-bootstrap) turns the plugin's
request traces on: a request carrying header NAME gets the trace of its routing
decision in the response header NAME (docs/explain.md). Off by default; pick a name
clients cannot guess.

Istio resources (--name N, default switchyard; --namespace NS, default the target's).
Workloads: a Gateway API Gateway's pods by default; an Istio Gateway target needs
--selector (its spec.selector labels); a mesh target selects its namespace's sidecars.
  wasmplugin    an Istio WasmPlugin with pluginConfig {\"bytecode\": base64}
    --url URL               file://, oci:// or https:// (https needs --sha256)
    --sha256 HEX            the module's SHA-256
    --phase P               UNSPECIFIED_PHASE, AUTHN, AUTHZ or STATS
    --priority N            order within the phase (higher first)
    --fail-strategy S       FAIL_CLOSE, FAIL_OPEN or FAIL_RELOAD
    --selector K=V          workload labels (repeatable), or
    --target-ref [GROUP/]KIND/NAME   (repeatable; default: the compiled Gateway)
    The WasmPlugin only installs the filter: also apply `emit envoyfilter --route-only`.
  envoyfilter   EnvoyFilters NAME-filter (the wasm filter with the raw bytecode) and
                NAME-route (the route that obeys the routing header)
    --wasm PATH             the module inside the proxy (default
                            /var/local/wasm/switchyard_plugin.wasm)
    --selector K=V          workload labels (repeatable; default for a Gateway API
                            Gateway: gateway.networking.k8s.io/gateway-name=NAME)
    --route-only            only NAME-route, for use with a WasmPlugin
  wasmplugin and envoyfilter carry the whole program:
    --compress              in the compressed container (about a third of the size;
                            plugins built before it refuse it)
    An object over 1.5 MiB (etcd's default request limit, about 10 000 rules in Istio
    form) is written with a warning, since Kubernetes is likely to refuse it.

Envoy:
  envoy-bootstrap   a standalone Envoy bootstrap: one listener per target port
    --endpoint C=HOST:PORT  an endpoint of cluster C (repeatable)
    --endpoints FILE        a file of C=HOST:PORT lines
    --wasm PATH             the plugin module (default: the built plugin, as for test)
    --listen-address A      listener address (default 0.0.0.0)
    --admin-address A       admin address (default 127.0.0.1)
    --admin-port N          admin port (default 9901)
  envoy-routes      the Envoy v3 RouteConfiguration (JSON) a control plane would
                    generate for the same routes, for Envoy's own router instead of
                    the plugin: one virtual host per hostname, routes in the order the
                    program evaluates them. A rule Envoy routes cannot express is an
                    error naming it. The connection manager needs the CORS and fault
                    filters when routes use them, and strip_any_host_port for
                    wildcard hostnames requested with a port.
    --port N                the listener whose routes to write (needed when the
                            program has several)
    --compact               one line of JSON instead of indented
";

/// The flags `emit` reads itself.
#[derive(Debug, Default)]
struct EmitArgs {
    output: Option<String>,
    wasm: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    plugin: WasmPluginOptions,
    selector: Vec<String>,
    route_only: bool,
    endpoint: Vec<String>,
    endpoints_file: Vec<String>,
    listen_address: Option<String>,
    admin_address: Option<String>,
    admin_port: Option<String>,
    /// `-q`: also forwarded to the compile parser.
    quiet: bool,
    help: bool,
}

/// Splits `args` into emit's flags and the rest (forwarded to the compile parser).
fn split_args(args: &[String]) -> Result<(EmitArgs, Vec<String>), String> {
    let mut emit = EmitArgs::default();
    let mut forwarded = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "-o" | "--output" => emit.output = Some(value()?),
            "--wasm" => emit.wasm = Some(value()?),
            "--name" => emit.name = Some(value()?),
            "--namespace" => emit.namespace = Some(value()?),
            "--url" => emit.plugin.url = value()?,
            "--sha256" => emit.plugin.sha256 = Some(value()?.to_ascii_lowercase()),
            "--phase" => emit.plugin.phase = Some(value()?),
            "--priority" => {
                let text = value()?;
                let priority = text
                    .parse()
                    .map_err(|_| format!("--priority {text:?}: not an integer"))?;
                emit.plugin.priority = Some(priority);
            }
            "--fail-strategy" => emit.plugin.fail_strategy = Some(value()?),
            "--selector" => emit.selector.push(value()?),
            "--target-ref" => emit.plugin.target_refs.push(value()?),
            "--route-only" => emit.route_only = true,
            "--compress" => emit.plugin.compress = true,
            "--trace-header" => {
                let name = value()?;
                envoy::check_trace_header(&name)?;
                emit.plugin.trace_header = Some(name);
            }
            "--endpoint" => emit.endpoint.push(value()?),
            "--endpoints" => emit.endpoints_file.push(value()?),
            "--listen-address" => emit.listen_address = Some(value()?),
            "--admin-address" => emit.admin_address = Some(value()?),
            "--admin-port" => emit.admin_port = Some(value()?),
            "-h" | "--help" => emit.help = true,
            "-q" | "--quiet" => {
                emit.quiet = true;
                forwarded.push(arg.clone());
            }
            _ => forwarded.push(arg.clone()),
        }
    }
    Ok((emit, forwarded))
}

/// Runs `switchyard emit` with the arguments after `emit`; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let Some((artifact, rest)) = args.split_first() else {
        eprint!("{EMIT_HELP}");
        return 2;
    };
    if matches!(artifact.as_str(), "-h" | "--help" | "help") {
        print!("{EMIT_HELP}");
        return 0;
    }
    if artifact == "envoy-routes" {
        return super::envoy_routes::cli::main(rest);
    }
    let (emit, forwarded) = match split_args(rest) {
        Ok(split) => split,
        Err(message) => return fail(&message),
    };
    if emit.help {
        print!("{EMIT_HELP}");
        return 0;
    }
    if !matches!(
        artifact.as_str(),
        "wasmplugin" | "envoyfilter" | "envoy-bootstrap"
    ) {
        return fail(&format!(
            "unknown artifact {artifact:?} (wasmplugin, envoyfilter, envoy-bootstrap, envoy-routes)"
        ));
    }
    let Some(compiled) = compile_from_args(&forwarded) else {
        return 2;
    };
    let program = match Program::from_bytes(&compiled.bytes) {
        Ok(program) => program,
        Err(e) => return fail(&format!("the compiled program does not load: {e}")),
    };
    let text = match render(artifact, &program, &emit) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    let written = match emit.output.as_deref() {
        None | Some("-") => std::io::stdout()
            .write_all(text.as_bytes())
            .and_then(|()| std::io::stdout().flush()),
        Some(path) => write_atomically(Path::new(path), text.as_bytes()),
    };
    match written {
        Ok(()) => 0,
        Err(e) => fail(&format!(
            "cannot write {}: {e}",
            emit.output.as_deref().unwrap_or("stdout")
        )),
    }
}

fn fail(message: &str) -> i32 {
    eprintln!("switchyard emit: {message}");
    2
}

fn render(artifact: &str, program: &Program, emit: &EmitArgs) -> Result<String, String> {
    let meta = Metadata::for_program(program, emit.name.as_deref(), emit.namespace.as_deref())?;
    let selector = emit
        .selector
        .iter()
        .map(|s| parse_label(s))
        .collect::<Result<Vec<_>, _>>()?;
    match artifact {
        "wasmplugin" => {
            let options = WasmPluginOptions {
                selector,
                ..emit.plugin.clone()
            };
            let node = wasmplugin(program, &meta, &options)?;
            let name = format!("{}/{}", meta.namespace, meta.name);
            warn_if_oversized(&[("WasmPlugin", &name, &node)], emit.quiet);
            Ok(node.to_yaml())
        }
        "envoyfilter" => {
            if !emit.plugin.target_refs.is_empty() {
                return Err("an EnvoyFilter selects workloads by label: use --selector".into());
            }
            let options = EnvoyFilterOptions {
                wasm_path: emit.wasm.clone().unwrap_or_else(|| DEFAULT_WASM_PATH.to_string()),
                selector,
                route_only: emit.route_only,
                trace_header: emit.plugin.trace_header.clone(),
                compress: emit.plugin.compress,
            };
            let nodes = envoyfilters(program, &meta, &options)?;
            let names: Vec<String> = nodes
                .iter()
                .map(|node| format!("{}/{}", meta.namespace, object_name(node)))
                .collect();
            let objects: Vec<(&str, &str, &yaml::Node)> = names
                .iter()
                .zip(&nodes)
                .map(|(name, node)| ("EnvoyFilter", name.as_str(), node))
                .collect();
            warn_if_oversized(&objects, emit.quiet);
            Ok(yaml::documents(&nodes))
        }
        _ => {
            if emit.plugin.compress {
                return Err("--compress applies to wasmplugin and envoyfilter (Kubernetes objects)".into());
            }
            Ok(bootstrap(program, &bootstrap_options(program, emit)?).to_yaml())
        }
    }
}

/// Warns on stderr (unless `-q`) about each Kubernetes object etcd would refuse by its
/// size.
fn warn_if_oversized(objects: &[(&str, &str, &yaml::Node)], quiet: bool) {
    if quiet {
        return;
    }
    for warning in object_size::warnings(objects, object_size::ETCD_DEFAULT_MAX_REQUEST_BYTES) {
        eprintln!("switchyard emit: {warning}");
    }
}

/// `metadata.name` of a Kubernetes object, or "?".
fn object_name(node: &yaml::Node) -> &str {
    fn field<'n>(node: &'n yaml::Node, key: &str) -> Option<&'n yaml::Node> {
        match node {
            yaml::Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    match field(node, "metadata").and_then(|m| field(m, "name")) {
        Some(yaml::Node::Str(name)) => name,
        _ => "?",
    }
}

fn bootstrap_options(program: &Program, emit: &EmitArgs) -> Result<BootstrapOptions, String> {
    let mut list: Vec<(String, Endpoint)> = Vec::new();
    for file in &emit.endpoints_file {
        list.extend(endpoints::read_file(file)?);
    }
    for text in &emit.endpoint {
        list.push(endpoints::parse(text)?);
    }
    if list.is_empty() {
        return Err("envoy-bootstrap needs --endpoint CLUSTER=HOST:PORT or --endpoints FILE".into());
    }
    let clusters = envoy::clusters(program);
    let grouped = endpoints::group(&clusters, list)?;
    for missing in clusters
        .iter()
        .filter(|c| !grouped.contains_key(*c) && !emit.quiet)
    {
        eprintln!("switchyard emit: note: cluster {missing:?} has no endpoint; Envoy answers 503 for it");
    }
    let wasm_path = match &emit.wasm {
        Some(path) => path.clone(),
        None => {
            let found = find_plugin(None)?;
            std::fs::canonicalize(&found)
                .unwrap_or(found)
                .to_string_lossy()
                .into_owned()
        }
    };
    let admin_port = match &emit.admin_port {
        None => 9901,
        Some(text) => text
            .parse::<u16>()
            .map_err(|_| format!("--admin-port {text:?}: not a port number"))?
            .into(),
    };
    let listen = emit.listen_address.as_deref().unwrap_or("0.0.0.0");
    Ok(BootstrapOptions {
        wasm_path,
        listeners: BootstrapOptions::same_ports(program, listen),
        endpoints: grouped,
        admin_address: emit
            .admin_address
            .clone()
            .unwrap_or_else(|| "127.0.0.1".to_string()),
        admin_port,
        proxy_protocol: false,
        observe_timeout: false,
        trace_header: emit.plugin.trace_header.clone(),
    })
}
