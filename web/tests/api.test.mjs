// The wasm-bindgen API from Node.js (web/pkg-node, built by `cargo xtask web-build`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QUICKSTART, QUICKSTART_TESTS, ROOT, WEB, nativeOutcomes, outcomeText, read, switchyardBin } from "./support.mjs";

const require = createRequire(import.meta.url);
const sw = require(join(WEB, "pkg-node"));

test("compiles the quick start and lists its targets", () => {
  const r = sw.compile(read(QUICKSTART), null);
  assert.equal(r.ok, true);
  assert.deepEqual(r.target, { kind: "gateway", name: "infra/web" });
  assert.deepEqual(r.targets.gateways, ["infra/web"]);
  assert.ok(r.targets.meshNamespaces.includes("shop"));
  assert.match(r.listing, /vhost 0 shop\.example\.com/);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0].severity, "warning");
  assert.equal(r.diagnostics[0].line, 49);
  assert.equal(r.diagnostics[0].resource, "HTTPRoute shop/legacy");
  assert.equal(r.diagnostics[0].field, "spec.rules[0].backendRefs[0]");
});

test("the bytecode is byte for byte what `switchyard compile` writes", () => {
  const r = sw.compile(read(QUICKSTART), { gateway: "infra/web" });
  const out = join(mkdtempSync(join(tmpdir(), "switchyard-web-")), "q.swb");
  execFileSync(switchyardBin(), ["compile", "-f", QUICKSTART, "--gateway", "infra/web", "-o", out], { stdio: "ignore" });
  const cli = readFileSync(out);
  const mine = Buffer.from(sw.bytecode());
  assert.equal(mine.length, r.size);
  assert.ok(mine.equals(cli), "bytecode differs from the CLI's");
});

test("a header changes the decision, and the rule that decided is named with its lines", () => {
  sw.compile(read(QUICKSTART), null);
  const plain = sw.evaluate({ host: "shop.example.com", path: "/api/items" });
  assert.equal(plain.status, 200);
  assert.equal(plain.backend.name, "shop/api-v1");
  assert.equal(plain.rule.text, "HTTPRoute shop/storefront rule 2 match 0");
  const canary = sw.evaluate({ host: "shop.example.com", path: "/api/items", headers: { "X-Canary": "true" } });
  assert.equal(canary.backend.name, "shop/api-v2");
  assert.equal(canary.backend.cluster, "outbound|8080||api-v2.shop.svc.cluster.local");
  assert.equal(canary.rule.text, "HTTPRoute shop/storefront rule 1 match 1");
  assert.deepEqual(canary.rule.lines, { start: 34, end: 38 });
  assert.deepEqual(canary.rule.matchLines, { start: 36, end: 37 });
  assert.equal(canary.rule.why, 'path prefix /api && header x-canary = "true"');
  // Headers as [name, value] pairs work too.
  const pairs = sw.evaluate({ host: "shop.example.com", path: "/api/items", headers: [["x-canary", "true"]] });
  assert.equal(pairs.backend.name, "shop/api-v2");
});

test("no route, unresolved backends, redirects and rewrites", () => {
  sw.compile(read(QUICKSTART), null);
  const none = sw.evaluate({ host: "example.org", path: "/" });
  assert.equal(none.status, 404);
  assert.equal(none.backend, null);
  assert.equal(none.rule, null);
  assert.match(none.reason, /no virtual host/);
  const broken = sw.evaluate({ host: "old.example.com", path: "/beta/orders" });
  assert.equal(broken.status, 500);
  assert.equal(broken.rule.name, "legacy");

  const manifests = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
  - matches: [{path: {type: PathPrefix, value: /app}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: internal.example, path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-env, value: prod}], remove: [x-debug]}
    backendRefs: [{name: app, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{port: 8080}]}
`;
  const r = sw.compile(manifests, { gateway: "default/gw" });
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
  const redirect = sw.evaluate({ host: "a.example", path: "/old/x" });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.outcome, "redirect");
  assert.equal(redirect.location, "https://a.example/old/x");
  const rewritten = sw.evaluate({ host: "a.example", path: "/app/items", headers: { "x-debug": "1" } });
  assert.equal(rewritten.backend.name, "default/app");
  assert.equal(rewritten.rewrites.host, "internal.example");
  assert.equal(rewritten.rewrites.path, "/items");
  assert.equal(rewritten.upstream.path, "/items");
  assert.deepEqual(rewritten.requestHeaderEdits, [
    { edit: "set", name: "x-env", value: "prod" },
    { edit: "remove", name: "x-debug", value: "" },
  ]);
  assert.deepEqual(rewritten.upstream.headers, [["x-env", "prod"]]);
});

test("broken YAML gives an error at its line and column", () => {
  const text = read(QUICKSTART).replace("  hostnames: [shop.example.com]", "  hostnames: [shop.example.com");
  const r = sw.compile(text, null);
  assert.equal(r.ok, false);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  assert.equal(errors.length, 1);
  assert.ok(errors[0].line >= 28 && errors[0].line <= 30, `line ${errors[0].line}: ${errors[0].text}`);
  assert.ok(errors[0].column > 0);
  assert.equal(sw.evaluate({ path: "/" }).ok, false);
  assert.equal(sw.bytecode(), undefined);
});

test("an unknown target is an error naming the known ones", () => {
  const r = sw.compile(read(QUICKSTART), { gateway: "infra/nope" });
  assert.equal(r.ok, false);
  assert.match(r.diagnostics.at(-1).message, /infra\/web/);
});

test("every quick-start case decides as `switchyard test --engine native`", () => {
  const tests = sw.parseTests(read(QUICKSTART_TESTS));
  assert.equal(tests.ok, true);
  const cli = nativeOutcomes();
  assert.ok(sw.compile(read(QUICKSTART), tests.target).ok);
  let compared = 0;
  for (const c of tests.cases) {
    if (c.repeat > 1) continue; // weighted: seeded per case by the CLI
    const d = sw.evaluate(c.request);
    const expected = cli.get(c.name);
    assert.ok(expected, `the CLI ran no case ${c.name}`);
    assert.equal(outcomeText(d), expected.outcome, c.name);
    if ("backend" in c.expect) assert.equal(d.backend?.name ?? null, c.expect.backend, c.name);
    if (c.expect.status !== null) assert.equal(d.status, c.expect.status, c.name);
    compared++;
  }
  assert.ok(compared >= 10, `only ${compared} cases compared`);
});

test("every corpus case that compiles on its own decides as `switchyard test --engine native`", () => {
  const dirs = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (existsSync(join(path, "manifests.yaml"))) dirs.push(path);
      else walk(path);
    }
  };
  walk(join(ROOT, "corpus"));
  let compared = 0;
  for (const dir of dirs) {
    const manifests = join(dir, "manifests.yaml");
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".test.yaml"))) {
      const tests = sw.parseTests(read(join(dir, name)));
      // Cases that need the corpus's shared base manifests do not compile alone.
      if (!tests.ok || !sw.compile(read(manifests), tests.target).ok) continue;
      const cli = nativeOutcomes(manifests, join(dir, name));
      for (const c of tests.cases) {
        if (c.repeat > 1) continue;
        const d = sw.evaluate(c.request);
        assert.equal(outcomeText(d), cli.get(c.name)?.outcome, `${dir}/${name}: ${c.name}`);
        if (d.rule && !d.rule.name.startsWith("(")) assert.ok(d.rule.lines, `${dir}: ${d.rule.text} has no lines`);
        compared++;
      }
    }
  }
  assert.ok(compared >= 100, `only ${compared} corpus cases compared`);
});
