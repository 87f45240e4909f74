//! `switchyard diff`: crafted pairs of configurations with known changes (and known
//! non-changes), on the Gateway API and Istio front ends, through the binary as users
//! run it; plus two git revisions of a folder.

#[path = "support/binary.rs"]
#[allow(dead_code)]
mod binary;

use self::binary::{Run, Scratch, git, line_of, switchyard, switchyard_in};

const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: example
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
";

const SERVICES: &str = "apiVersion: v1
kind: Service
metadata: {name: a}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: c}
spec: {ports: [{port: 80}]}
";

/// One HTTPRoute: a 90/10 split under /api, a header set on everything else, and a
/// redirect of /old.
const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web, namespace: infra}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: a, port: 80, weight: 90}, {name: b, port: 80, weight: 10}]
  - matches: [{path: {type: PathPrefix, value: /}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-env, value: prod}]}
    backendRefs: [{name: c, port: 80}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301}
";

/// Writes the old side (gateway, services, route in one file) and a new route file
/// (beside copies of the gateway and services); returns (old, new) folder paths.
fn pair(scratch: &Scratch, new_route: &str) -> (String, String) {
    scratch.write("old/all.yaml", &format!("{GATEWAY}---\n{SERVICES}---\n{ROUTE}"));
    scratch.write("new/gateway.yaml", &format!("{GATEWAY}---\n{SERVICES}"));
    scratch.write("new/route.yaml", new_route);
    (scratch.path("old"), scratch.path("new"))
}

fn diff(old: &str, new: &str, extra: &[&str]) -> Run {
    let mut args = vec!["diff", "-f", old, "--against", new];
    args.extend_from_slice(extra);
    switchyard(&args)
}

/// The class headings (`[N] kinds: ...`) of a text report.
fn headings(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with('[')).collect()
}

#[test]
fn reordered_files_and_keys_spelled_out_with_the_same_meaning_are_no_change() {
    let scratch = Scratch::new("diff-same");
    // The rules in another order, the route renamed, defaults written out (group,
    // kind, weight 1, a catch-all rule without matches), the redirect's path type first.
    let same = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: storefront}
spec:
  hostnames: [shop.example.com]
  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web, namespace: infra}]
  rules:
  - matches: [{path: {value: /old, type: Exact}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {statusCode: 301, path: {replaceFullPath: /new, type: ReplaceFullPath}}
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Env, value: prod}]}
    backendRefs: [{group: '', kind: Service, name: c, port: 80, weight: 1}]
  - matches: [{path: {type: PathPrefix, value: /api/}}]
    backendRefs: [{name: b, port: 80, weight: 1}, {name: a, port: 80, weight: 9}]
";
    let (old, new) = pair(&scratch, same);
    let run = diff(&old, &new, &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "no output when routing is unchanged");
    let json = diff(&old, &new, &["--format", "json"]);
    json.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["changed"], false);
    assert_eq!(value["classes"], serde_json::json!([]));
    assert!(value["requests"].as_u64().unwrap() > 10, "{value}");
}

#[test]
fn a_weight_change_is_one_weights_class_with_both_rules_located() {
    let scratch = Scratch::new("diff-weights");
    let new_route = ROUTE
        .replace("weight: 90}", "weight: 50}")
        .replace("weight: 10}", "weight: 50}");
    let (old, new) = pair(&scratch, &new_route);
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(
        classes[0].starts_with("[1] weights: ")
            && classes[0].contains("e.g. GET http://shop.example.com/api"),
        "{}",
        run.stdout
    );
    let line = line_of(ROUTE, "value: /api}");
    assert!(
        run.stdout.contains("a.default.svc.cluster.local 90%"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("a.default.svc.cluster.local 50%"),
        "{}",
        run.stdout
    );
    // The old rule is in the combined file, below the gateway and services.
    let old_line = line + GATEWAY.lines().count() + SERVICES.lines().count() + 2;
    assert!(
        run.stdout.contains(&format!(
            "by HTTPRoute default/shop rule 0 match 0 ({old}/all.yaml:{old_line})"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "by HTTPRoute default/shop rule 0 match 0 ({new}/route.yaml:{line})"
        )),
        "{}",
        run.stdout
    );
    // JSON: the same class, structured.
    let json = diff(&old, &new, &["--format", "json"]);
    json.expect_code(1);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let class = &value["classes"][0];
    assert_eq!(class["changes"], serde_json::json!(["weights"]));
    assert_eq!(class["new"]["rule"]["line"], line as u64);
    assert_eq!(class["old"]["rule"]["line"], old_line as u64);
    assert_eq!(class["new"]["backends"][0]["percent"], 50.0);
    assert_eq!(class["example"]["host"], "shop.example.com");
}

#[test]
fn a_new_longer_prefix_shadows_part_of_an_old_rule() {
    let scratch = Scratch::new("diff-shadow");
    let new_route = format!(
        "{ROUTE}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api-v2}}
spec:
  parentRefs: [{{name: web, namespace: infra}}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /api/v2}}}}]
    backendRefs: [{{name: c, port: 80}}]
"
    );
    let (old, new) = pair(&scratch, &new_route);
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(
        classes[0].starts_with("[1] backend: 4 requests"),
        "{}",
        run.stdout
    );
    assert!(
        classes[0].contains("http://shop.example.com/api/v2"),
        "{}",
        run.stdout
    );
    let v2_line = line_of(&new_route, "value: /api/v2");
    assert!(
        run.stdout.contains(&format!(
            "by HTTPRoute default/api-v2 rule 0 match 0 ({new}/route.yaml:{v2_line})"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("by HTTPRoute default/shop rule 0 match 0"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_changed_header_value_is_a_request_headers_change() {
    let scratch = Scratch::new("diff-headers");
    let (old, new) = pair(&scratch, &ROUTE.replace("value: prod", "value: staging"));
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(classes[0].starts_with("[1] request-headers:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("request headers x-env: prod"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("request headers x-env: staging"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_changed_redirect_target_is_a_redirect_change_and_its_code_a_status_change() {
    let scratch = Scratch::new("diff-redirect");
    let (old, new) = pair(
        &scratch,
        &ROUTE.replace("replaceFullPath: /new", "replaceFullPath: /newer"),
    );
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(
        classes[0].starts_with("[1] redirect: ")
            && classes[0].contains("e.g. GET http://shop.example.com/old "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("redirect 301 to http://shop.example.com/newer"),
        "{}",
        run.stdout
    );

    let scratch = Scratch::new("diff-redirect-code");
    let (old, new) = pair(&scratch, &ROUTE.replace("statusCode: 301", "statusCode: 302"));
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    assert!(
        headings(&run.stdout)[0].starts_with("[1] status:"),
        "{}",
        run.stdout
    );
}

const ISTIO_GATEWAY: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*/shop.example.com']
";

fn virtual_service(http: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop}}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress]
  http:
{http}"
    )
}

const API: &str = "  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a}}]
";
const API_V2: &str = "  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: b}}]
";
const HEALTH: &str = "  - match: [{uri: {exact: /healthz}}]
    route: [{destination: {host: c}}]
";

#[test]
fn reordering_istio_rules_moves_traffic_when_they_overlap_and_not_otherwise() {
    let scratch = Scratch::new("diff-istio");
    let old_vs = virtual_service(&format!("{API}{API_V2}{HEALTH}"));
    scratch.write(
        "old.yaml",
        &format!("{ISTIO_GATEWAY}---\n{SERVICES}---\n{old_vs}"),
    );
    // Istio evaluates rules in order: /api first takes /api/v2 too.
    let new_vs = virtual_service(&format!("{HEALTH}{API_V2}{API}"));
    scratch.write(
        "new.yaml",
        &format!("{new_vs}---\n{SERVICES}---\n{ISTIO_GATEWAY}"),
    );
    let target = ["--istio-gateway", "istio-system/ingress"];
    let run = diff(&scratch.path("old.yaml"), &scratch.path("new.yaml"), &target);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(classes[0].starts_with("[1] backend:"), "{}", run.stdout);
    assert!(
        classes[0].contains("http://shop.example.com/api/v2"),
        "{}",
        run.stdout
    );
    let old_line = line_of(
        &format!("{ISTIO_GATEWAY}---\n{SERVICES}---\n{old_vs}"),
        "prefix: /api}",
    );
    let new_line = line_of(&new_vs, "prefix: /api/v2}");
    assert!(
        run.stdout.contains(&format!(
            "by VirtualService default/shop rule 0 match 0 ({}:{old_line})",
            scratch.path("old.yaml")
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "by VirtualService default/shop rule 1 match 0 ({}:{new_line})",
            scratch.path("new.yaml")
        )),
        "{}",
        run.stdout
    );
    // The exact /healthz rule overlaps nothing: moving it changes no request.
    let moved = virtual_service(&format!("{HEALTH}{API}{API_V2}"));
    scratch.write(
        "moved.yaml",
        &format!("{ISTIO_GATEWAY}---\n{SERVICES}---\n{moved}"),
    );
    let run = diff(&scratch.path("old.yaml"), &scratch.path("moved.yaml"), &target);
    run.expect_code(0);
    assert_eq!(run.stdout, "");
}

/// Two HTTPRoutes with the same match: Gateway API gives the older one precedence
/// ("the oldest Route based on creation timestamp").
fn tied_routes(a_created: &str, b_created: &str) -> String {
    let route = |name: &str, created: &str, backend: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, creationTimestamp: '{created}'}}
spec:
  parentRefs: [{{name: web, namespace: infra}}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /cart}}}}]
    backendRefs: [{{name: {backend}, port: 80}}]
"
        )
    };
    format!(
        "{GATEWAY}---\n{SERVICES}---\n{}---\n{}",
        route("first", a_created, "a"),
        route("second", b_created, "b")
    )
}

#[test]
fn a_creation_timestamp_change_flips_gateway_api_precedence() {
    let scratch = Scratch::new("diff-precedence");
    let old = scratch.write(
        "old.yaml",
        &tied_routes("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),
    );
    let new = scratch.write(
        "new.yaml",
        &tied_routes("2024-03-01T00:00:00Z", "2024-02-01T00:00:00Z"),
    );
    let run = diff(&old, &new, &["--gateway", "infra/web"]);
    run.expect_code(1);
    let classes = headings(&run.stdout);
    assert_eq!(classes.len(), 1, "{}", run.stdout);
    assert!(classes[0].starts_with("[1] backend:"), "{}", run.stdout);
    assert!(
        classes[0].contains("http://shop.example.com/cart"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("by HTTPRoute default/first rule 0 match 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("by HTTPRoute default/second rule 0 match 0"),
        "{}",
        run.stdout
    );
}

#[test]
fn invalid_input_on_either_side_is_exit_2_without_output() {
    let scratch = Scratch::new("diff-invalid");
    let (old, _) = pair(&scratch, ROUTE);
    let broken = scratch.write("broken.yaml", &ROUTE.replace("value: /api}", "value: api}"));
    let run = diff(&old, &broken, &[]);
    run.expect_code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("broken.yaml"), "{}", run.stderr);
    let run = switchyard(&["diff", "-f", &old]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("nothing to compare against"),
        "{}",
        run.stderr
    );
}

#[test]
fn two_git_revisions_of_a_folder_are_compared_without_a_checkout() {
    let scratch = Scratch::new("diff-git");
    let repo = scratch.0.clone();
    git(&repo, &["init", "-q", "-b", "main"]);
    scratch.write("deploy/gateway.yaml", &format!("{GATEWAY}---\n{SERVICES}"));
    scratch.write("deploy/route.yaml", ROUTE);
    // A route test beside the manifests is not a manifest.
    scratch.write(
        "deploy/route.test.yaml",
        "target: {gateway: infra/web}\ncases: []\n",
    );
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "v1"]);
    // The working tree against HEAD: unchanged.
    let run = switchyard_in(Some(&repo), &["diff", "--rev", "HEAD", "-f", "deploy"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "");
    // A weight change in the working tree.
    scratch.write("deploy/route.yaml", &ROUTE.replace("weight: 90}", "weight: 80}"));
    let run = switchyard_in(Some(&repo), &["diff", "--rev", "main", "-f", "deploy"]);
    run.expect_code(1);
    let line = line_of(ROUTE, "value: /api}");
    assert!(
        run.stdout.contains(&format!(
            "by HTTPRoute default/shop rule 0 match 0 (main:deploy/route.yaml:{line})"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "by HTTPRoute default/shop rule 0 match 0 (deploy/route.yaml:{line})"
        )),
        "{}",
        run.stdout
    );
    // Committed: the two revisions differ, each revision equals itself; the working
    // tree's own files are not read.
    git(&repo, &["commit", "-q", "-am", "v2"]);
    scratch.write("deploy/route.yaml", "not: [valid");
    let run = switchyard_in(
        Some(&repo),
        &["diff", "--rev", "HEAD~1", "--against-rev", "HEAD", "-f", "deploy"],
    );
    run.expect_code(1);
    assert_eq!(headings(&run.stdout).len(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("(HEAD:deploy/route.yaml:"), "{}", run.stdout);
    let run = switchyard_in(
        Some(&repo),
        &["diff", "--rev", "HEAD", "--against-rev", "HEAD", "-f", "deploy"],
    );
    run.expect_code(0);
    // Paths from another folder, and absolute paths, name the same files.
    let absolute = scratch.path("deploy");
    let run = switchyard_in(
        Some(std::path::Path::new("/")),
        &[
            "diff",
            "--rev",
            "HEAD~1",
            "--against-rev",
            "HEAD",
            "-f",
            &absolute,
        ],
    );
    run.expect_code(1);
    // A revision that does not exist, or a path it does not hold: exit 2.
    let run = switchyard_in(Some(&repo), &["diff", "--rev", "nosuch", "-f", "deploy"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--rev nosuch"), "{}", run.stderr);
    let run = switchyard_in(Some(&repo), &["diff", "--rev", "HEAD", "-f", "elsewhere"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("elsewhere: does not exist at revision HEAD"),
        "{}",
        run.stderr
    );
}

/// `docs/diff.md` shows the command's real output on the example, verbatim.
#[test]
fn the_docs_page_shows_what_diff_prints_on_the_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let run = switchyard_in(
        Some(root),
        &[
            "diff",
            "-f",
            "examples/quickstart/manifests.yaml",
            "--against",
            "examples/diff/manifests.yaml",
        ],
    );
    run.expect_code(1);
    let page = std::fs::read_to_string(root.join("docs/diff.md")).unwrap();
    let shown: String = run.stdout.lines().map(|l| format!("    {l}\n")).collect();
    assert!(page.contains(&shown), "docs/diff.md should show:\n{shown}");
}

#[test]
fn rewrites_mirrors_and_timeouts_are_named_changes() {
    let scratch = Scratch::new("diff-rewrite");
    let new_route = ROUTE
        .replace(
            "    backendRefs: [{name: a, port: 80, weight: 90}",
            "    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}}
    backendRefs: [{name: a, port: 80, weight: 90}",
        )
        .replace(
            "    backendRefs: [{name: c, port: 80}]",
            "    - type: RequestMirror
      requestMirror: {backendRef: {name: b, port: 80}}
    timeouts: {request: 5s}
    backendRefs: [{name: c, port: 80}]",
        );
    let (old, new) = pair(&scratch, &new_route);
    let run = diff(&old, &new, &[]);
    run.expect_code(1);
    let mut kinds: Vec<&str> = headings(&run.stdout)
        .iter()
        .map(|h| h.split_once("] ").unwrap().1.split_once(':').unwrap().0)
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["mirrors, timeout", "rewrite"], "{}", run.stdout);
    assert!(
        run.stdout.contains("; upstream shop.example.com/v1\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("mirror to outbound|80||b.default.svc.cluster.local 100%; timeout 5000 ms"),
        "{}",
        run.stdout
    );
}
