//! `switchyard convert --mesh NS`: the VirtualServices bound to `mesh` that a sidecar in
//! NS sees become GAMMA HTTPRoutes (Service parents); the proof compiles the input for
//! the Istio mesh target and the output for the GAMMA mesh target and compares them; the
//! written YAML compiles by itself as mesh routes.

use std::process::Command;

use serde_json::Value;
use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::convert::{Conversion, Verification, convert, verify};
use switchyard_compiler::input::{Document, load_texts};

const SERVICES: &str = "
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: prod}
spec: {ports: [{name: http, port: 9080}]}
";

/// Mesh VirtualServices that Gateway API can express exactly.
const MAPPABLE: &str = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: ratings}}]
  - match: [{uri: {exact: /healthz}}, {method: {exact: POST}}]
    headers: {request: {set: {x-from: mesh}}}
    route: [{destination: {host: details.prod.svc.cluster.local}}]
  - route:
    - {destination: {host: reviews}, weight: 80}
    - {destination: {host: ratings}, weight: 20}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  gateways: [mesh]
  http:
  - match: [{uri: {prefix: /v1}}]
    route: [{destination: {host: details.prod.svc.cluster.local, port: {number: 9080}}}]
  - route: [{destination: {host: ratings}}]
---
# Bound to a gateway only: not the sidecar's.
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: gateway-only, namespace: default}
spec:
  hosts: [details.prod.svc.cluster.local]
  gateways: [istio-system/ingress]
  http:
  - route: [{destination: {host: reviews.default.svc.cluster.local}}]
";

fn docs(text: &str) -> Vec<Document> {
    load_texts(&[("input.yaml".to_string(), text.to_string())]).unwrap_or_else(|d| panic!("{d:?}"))
}

fn run(input: &str, namespace: &str) -> (Conversion, Verification) {
    let documents = docs(input);
    let target = Target::Mesh(namespace.to_string());
    let conversion = convert(&documents, &target, "cluster.local").unwrap_or_else(|d| panic!("{d:?}"));
    let verification = verify(&documents, &conversion, &target, "cluster.local")
        .unwrap_or_else(|d| panic!("{d:?}\n{}", conversion.yaml()));
    (conversion, verification)
}

fn kinds(conversion: &Conversion) -> Vec<String> {
    conversion
        .documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

fn parents(route: &Value) -> Vec<(String, String, String)> {
    route["spec"]["parentRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or("").to_string(),
                p["namespace"].as_str().unwrap_or("").to_string(),
                p["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn mesh_conversion_writes_gamma_routes_and_is_proved_equivalent() {
    let (conversion, verification) = run(&format!("{SERVICES}---\n{MAPPABLE}"), "default");
    assert!(
        verification.report.equivalent(),
        "{}\n{}",
        conversion.yaml(),
        verification.report.render("istio", "gateway-api")
    );
    assert!(
        verification.report.requests > 20,
        "{}",
        verification.report.requests
    );
    // One HTTPRoute per mesh VirtualService, each with its Service as parent; no Gateway,
    // and no ReferenceGrant for the cross-namespace backend (GEP-1294: mesh routes reach
    // other namespaces without one).
    assert_eq!(kinds(&conversion), ["HTTPRoute", "HTTPRoute"]);
    assert_eq!(conversion.gateway, None);
    let mut all: Vec<(String, String, String)> = conversion.documents.iter().flat_map(parents).collect();
    all.sort();
    assert_eq!(
        all,
        [
            ("Service".into(), "default".into(), "ratings".into()),
            ("Service".into(), "default".into(), "reviews".into()),
        ]
    );
}

#[test]
fn mesh_conversion_output_compiles_by_itself_as_mesh_routes() {
    let (conversion, verification) = run(&format!("{SERVICES}---\n{MAPPABLE}"), "default");
    assert!(verification.report.equivalent());
    let output = format!("{SERVICES}---\n{}", conversion.yaml());
    let compiled = compile(
        &docs(&output),
        &CompileOptions {
            target: Target::Mesh("default".into()),
            ..CompileOptions::default()
        },
    )
    .unwrap_or_else(|d| panic!("{d:?}\n{output}"));
    assert!(
        !compiled
            .diagnostics
            .0
            .iter()
            .any(|d| d.message.contains("not attached")),
        "{:?}",
        compiled.diagnostics
    );
    // Every rule of both routes made it into the program.
    let sources: std::collections::BTreeSet<String> = compiled
        .ir
        .listeners
        .iter()
        .flat_map(|l| &l.vhosts)
        .flat_map(|v| &v.entries)
        .map(|e| {
            format!(
                "{} {}/{}",
                e.source.kind.as_str(),
                e.source.namespace,
                e.source.name
            )
        })
        // The mesh target's own default route for Services without routes.
        .filter(|s| !s.contains("(default route"))
        .collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        ["HTTPRoute default/ratings", "HTTPRoute default/reviews"]
    );
}

#[test]
fn mesh_conversion_sees_only_what_the_client_namespace_sees() {
    let private = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: prod}
spec:
  hosts: [details]
  exportTo: ['.']
  http:
  - route: [{destination: {host: details}}]
";
    let input = format!("{SERVICES}---\n{MAPPABLE}---\n{private}");
    // From default the prod-private VirtualService is invisible.
    let (conversion, verification) = run(&input, "default");
    assert!(verification.report.equivalent());
    assert_eq!(kinds(&conversion), ["HTTPRoute", "HTTPRoute"]);
    // From prod it is converted too, and still proved.
    let (conversion, verification) = run(&input, "prod");
    assert!(
        verification.report.equivalent(),
        "{}",
        verification.report.render("istio", "gateway-api")
    );
    let names: Vec<&str> = conversion
        .documents
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"private"), "{names:?}");
}

#[test]
fn mesh_conversion_reports_hosts_that_are_not_services() {
    let external = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external, namespace: default}
spec:
  hosts: [api.external.example]
  http:
  - route: [{destination: {host: api.external.example}}]
";
    let (conversion, _) = run(&format!("{SERVICES}---\n{external}"), "default");
    assert!(
        conversion
            .unmapped
            .iter()
            .any(|u| u.field == "spec.hosts" && u.reason.contains("not a Kubernetes Service")),
        "{}",
        conversion.render_unmapped()
    );
    assert!(conversion.documents.is_empty());
}

#[test]
fn mesh_conversion_proof_catches_what_gamma_cannot_keep() {
    // Fault injection has no Gateway API form: the route is written without it, the
    // field is reported, and the proof finds the requests that are now forwarded.
    let faulty = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /flaky}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - route: [{destination: {host: reviews}}]
";
    let (conversion, verification) = run(&format!("{SERVICES}---\n{faulty}"), "default");
    assert!(
        conversion.unmapped.iter().any(|u| u.field.ends_with(".fault")),
        "{}",
        conversion.render_unmapped()
    );
    assert!(!verification.report.equivalent());
    assert!(
        verification
            .report
            .differences
            .iter()
            .all(|d| d.request.path.starts_with("/flaky")
                && d.left.faults == ["abort 503 1000000ppm"]
                && d.right.faults.is_empty()),
        "{}",
        verification.report.render("istio", "gateway-api")
    );
}

#[test]
fn convert_cli_with_mesh_writes_yaml_that_compile_accepts_for_the_mesh() {
    let dir = std::env::temp_dir().join(format!("switchyard-convert-mesh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input.yaml");
    let services = dir.join("services.yaml");
    let output = dir.join("routes.yaml");
    let program = dir.join("mesh.swb");
    std::fs::write(&input, format!("{SERVICES}---\n{MAPPABLE}")).unwrap();
    std::fs::write(&services, SERVICES).unwrap();
    let exe = env!("CARGO_BIN_EXE_switchyard");
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let converted = Command::new(exe)
        .args([
            "convert",
            "-f",
            &path(&input),
            "--to",
            "gateway-api",
            "--mesh",
            "default",
            "-o",
        ])
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(
        converted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );
    let stderr = String::from_utf8_lossy(&converted.stderr);
    assert!(stderr.contains("0 differ"), "{stderr}");
    let compiled = Command::new(exe)
        .args([
            "compile",
            "-f",
            &path(&output),
            "-f",
            &path(&services),
            "--mesh",
            "default",
            "-o",
        ])
        .arg(&program)
        .output()
        .unwrap();
    assert_eq!(
        compiled.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    assert!(std::fs::metadata(&program).unwrap().len() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
