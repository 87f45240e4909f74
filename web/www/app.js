// The Switchyard playground: the compiler and the native evaluator, built with
// wasm-bindgen (pkg/), run in the page. Nothing is fetched after the first load.
import init, { compile, evaluate, parseTests, version } from "./pkg/switchyard_web.js";
import { EXAMPLES } from "./pkg/examples.js";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};

const state = {
  compiled: null, // the last compile() result
  decision: null,
  highlight: null, // {rule: {start, end}, match: {start, end}}
  example: null,
};

// ---- editor: line numbers, highlighted lines, diagnostics at their lines ----

const yaml = $("yaml");
const gutter = $("gutter");
const backdrop = $("backdrop");

function renderEditor() {
  const lines = yaml.value.split("\n");
  const diags = new Map(); // line -> [diagnostic]
  for (const d of state.compiled?.diagnostics ?? []) {
    if (d.line > 0 && d.file !== "<target>") {
      if (!diags.has(d.line)) diags.set(d.line, []);
      diags.get(d.line).push(d);
    }
  }
  const rank = { error: 3, warning: 2, note: 1 };
  const worst = (ds) => ds.reduce((a, d) => (rank[d.severity] > rank[a] ? d.severity : a), "note");
  const h = state.highlight;
  const inside = (span, n) => span && n >= span.start && n <= span.end;
  const g = document.createDocumentFragment();
  const b = document.createDocumentFragment();
  lines.forEach((text, i) => {
    const n = i + 1;
    const ds = diags.get(n);
    const gd = el("div", { "data-line": n }, String(n));
    const bd = el("div", { "data-line": n }, text);
    if (ds) {
      const sev = worst(ds);
      gd.classList.add(sev);
      gd.title = ds.map((d) => d.text).join("\n");
      bd.classList.add(`diag-${sev}`);
      bd.append(el("span", { class: `lens ${sev}` }, ds.map((d) => `${d.severity}: ${d.message}`).join(" · ")));
    }
    if (inside(h?.match, n)) bd.classList.add("match");
    else if (inside(h?.rule, n)) bd.classList.add("rule");
    g.append(gd);
    b.append(bd);
  });
  gutter.replaceChildren(g);
  backdrop.replaceChildren(b);
  syncScroll();
}

function syncScroll() {
  backdrop.scrollTop = yaml.scrollTop;
  backdrop.scrollLeft = yaml.scrollLeft;
  gutter.scrollTop = yaml.scrollTop;
}
yaml.addEventListener("scroll", syncScroll);

function revealLine(line) {
  const lineHeight = parseFloat(getComputedStyle(yaml).lineHeight) || 18;
  const target = (line - 1) * lineHeight - yaml.clientHeight / 3;
  yaml.scrollTop = Math.max(0, target);
  syncScroll();
}

function selectLine(line, column = 1) {
  const lines = yaml.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  const at = offset + Math.max(0, column - 1);
  yaml.focus();
  yaml.setSelectionRange(at, at);
  revealLine(line);
}

// ---- compile ----

function targetValue() {
  const v = $("target").value;
  if (!v) return null;
  const [kind, ...rest] = v.split(":");
  return { kind, name: rest.join(":") };
}

function renderTargets(result) {
  const select = $("target");
  const wanted = select.value || (result.target ? `${result.target.kind}:${result.target.name}` : "");
  const t = result.targets ?? { gateways: [], istioGateways: [], meshNamespaces: [] };
  const none = !t.gateways.length && !t.istioGateways.length && !t.meshNamespaces.length;
  // YAML that does not parse names no targets: keep the ones the last good text named.
  if (none && !result.ok && select.options.length && select.value) return;
  const groups = [
    ["Gateways", "gateway", t.gateways],
    ["Istio Gateways", "istioGateway", t.istioGateways],
    ["Mesh (sidecars in namespace)", "mesh", t.meshNamespaces],
  ];
  const options = [];
  for (const [label, kind, names] of groups) {
    if (!names.length) continue;
    const group = el("optgroup", { label });
    for (const name of names) group.append(el("option", { value: `${kind}:${name}` }, name));
    options.push(group);
  }
  if (!options.length) options.push(el("option", { value: "" }, "(none found)"));
  select.replaceChildren(...options);
  const values = [...select.options].map((o) => o.value);
  select.value = values.includes(wanted) ? wanted : values[0];
}

function runCompile() {
  const started = performance.now();
  let result = compile(yaml.value, targetValue());
  // The chosen target vanished (renamed in the editor): fall back to the default.
  if (!result.ok && targetValue() && result.target === null && result.targets) {
    const t = targetValue();
    const known = { gateway: "gateways", istioGateway: "istioGateways", mesh: "meshNamespaces" };
    const all = Object.values(result.targets).flat();
    if (all.length && !(result.targets[known[t.kind]] ?? []).includes(t.name)) {
      $("target").value = "";
      result = compile(yaml.value, null);
    }
  }
  const ms = performance.now() - started;
  state.compiled = result;
  renderTargets(result);
  const status = $("status");
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  status.dataset.state = result.ok ? "ok" : "error";
  status.textContent = result.ok
    ? `compiled for ${result.target.kind} ${result.target.name} in ${ms.toFixed(1)} ms`
    : `${errors} error${errors === 1 ? "" : "s"}`;
  $("size").textContent = result.ok ? `bytecode: ${result.size} bytes` : "";
  $("size").dataset.bytes = result.ok ? result.size : "";
  renderDiagnostics(result);
  renderListing();
  runEvaluate();
}

function renderDiagnostics(result) {
  const list = $("diagnostics");
  list.replaceChildren(
    ...result.diagnostics.map((d) => {
      const where = d.line > 0 ? `${d.line}:${d.column}` : "";
      const li = el(
        "li",
        { class: d.severity, "data-line": d.line },
        el("span", { class: "sev" }, d.severity),
        where ? el("span", { class: "where" }, `${where} `) : null,
        d.resource ? `${d.resource}: ` : "",
        d.field ? `${d.field}: ` : "",
        d.message,
      );
      if (d.line > 0) li.addEventListener("click", () => selectLine(d.line, d.column || 1));
      return li;
    }),
  );
  $("diag-count").textContent = result.diagnostics.length ? `(${result.diagnostics.length})` : "none";
}

function renderListing() {
  const listing = state.compiled?.ok ? state.compiled.listing : "(no program: fix the errors)";
  const hit = state.decision?.rule?.listingLine;
  const pre = $("listing");
  pre.replaceChildren(
    ...listing
      .split("\n")
      .filter((l, i, all) => l || i < all.length - 1)
      .map((l, i) => el("div", { class: i + 1 === hit ? "hit" : "" }, l || " ")),
  );
  pre.querySelector(".hit")?.scrollIntoView({ block: "nearest" });
}

// ---- request form ----

function addHeader(name = "", value = "") {
  const row = el(
    "div",
    { class: "header" },
    el("input", { class: "name", placeholder: "name", "aria-label": "header name" }),
    el("input", { class: "value", placeholder: "value", "aria-label": "header value" }),
    el("button", { type: "button", title: "remove", onclick: () => { row.remove(); runEvaluate(); } }, "×"),
  );
  row.querySelector(".name").value = name;
  row.querySelector(".value").value = value;
  $("headers").append(row);
  return row;
}

function formRequest() {
  const headers = [];
  for (const row of $("headers").querySelectorAll(".header")) {
    const name = row.querySelector(".name").value.trim();
    if (name) headers.push([name, row.querySelector(".value").value]);
  }
  const port = $("port").value.trim();
  return {
    method: $("method").value,
    scheme: $("scheme").value,
    host: $("host").value.trim(),
    port: port ? Number(port) : null,
    path: $("path").value || "/",
    headers,
  };
}

function setForm(request) {
  $("method").value = request.method ?? "GET";
  $("scheme").value = request.scheme ?? "http";
  $("host").value = request.host ?? "";
  $("port").value = request.port ?? "";
  $("path").value = request.path ?? "/";
  $("headers").replaceChildren();
  for (const [n, v] of request.headers ?? []) addHeader(n, v);
}

// ---- decision ----

function runEvaluate() {
  if (!state.compiled?.ok) {
    state.decision = null;
    state.highlight = null;
    $("decision").replaceChildren(el("div", { class: "error" }, "Fix the errors to evaluate requests."));
    $("decision").dataset.status = "";
    renderEditor();
    return;
  }
  const decision = evaluate(formRequest());
  state.decision = decision;
  state.highlight = decision.rule?.lines ? { rule: decision.rule.lines, match: decision.rule.matchLines } : null;
  renderDecision(decision);
  renderEditor();
  renderListing();
  if (decision.rule?.lines) revealLine(decision.rule.lines.start);
}

function renderDecision(d) {
  const box = $("decision");
  if (!d.ok) {
    box.dataset.status = "";
    box.replaceChildren(el("div", { class: "error" }, d.error));
    return;
  }
  box.dataset.status = d.status;
  box.dataset.backend = d.backend?.name ?? "";
  const verdict = d.backend
    ? `→ ${d.backend.name}${d.backend.port ? `:${d.backend.port}` : ""}`
    : d.outcome === "redirect"
      ? `redirect${d.location ? ` → ${d.location}` : ""}`
      : "answered by the proxy";
  const rows = [];
  const row = (k, v) => v !== null && v !== undefined && v !== "" && rows.push(el("dt", {}, k), el("dd", { "data-field": k }, v));
  row("request", `${d.request.method} ${d.request.scheme}://${d.request.host}${d.request.path} (port ${d.request.port})`);
  if (d.rule) {
    const link = el("a", { id: "rule-link", title: "show in the YAML" }, d.rule.text);
    if (d.rule.lines) {
      link.addEventListener("click", () => selectLine(d.rule.lines.start));
      row("rule", el("span", {}, link, ` (lines ${d.rule.lines.start}–${d.rule.lines.end})`));
    } else row("rule", link);
    row("why", d.rule.why);
  } else row("why", d.reason);
  row("cluster", d.cluster);
  if (d.rewrites.host) row("host rewrite", d.rewrites.host);
  if (d.rewrites.path) row("path rewrite", d.rewrites.path);
  const ops = (list) => list.map((o) => `${o.edit} ${o.name}${o.edit === "remove" ? "" : `: ${o.value}`}`).join("\n");
  if (d.requestHeaderEdits.length) row("request headers", ops(d.requestHeaderEdits));
  if (d.responseHeaderEdits.length) row("response headers", ops(d.responseHeaderEdits));
  if (d.upstream) {
    row("upstream sees", `${d.upstream.method} ${d.upstream.host}${d.upstream.path}`);
    if (d.upstream.headers.length) row("upstream headers", d.upstream.headers.map(([n, v]) => `${n}: ${v}`).join("\n"));
  }
  if (d.reply) row("local reply", `${d.reply.status}${d.reply.body ? ` ${JSON.stringify(d.reply.body)}` : ""}`);
  row("Location", d.location);
  if (d.responseHeaders.length) row("response", d.responseHeaders.map(([n, v]) => `${n}: ${v}`).join("\n"));
  if (d.mirrors.length) row("mirrors", d.mirrors.join(", "));
  if (d.timeoutMs !== null) row("timeout", `${d.timeoutMs} ms`);
  for (const dd of rows) if (dd.tagName === "DD") dd.style.whiteSpace = "pre-wrap";
  box.replaceChildren(
    el("div", { class: "verdict" }, el("span", { class: `badge s${String(d.status)[0]}`, id: "status-code" }, String(d.status)), verdict),
    el("dl", {}, ...rows),
  );
}

// ---- the example's route tests, run in the page ----

function runTests() {
  const table = $("tests");
  const tests = state.example?.tests ? parseTests(state.example.tests) : null;
  if (!tests?.ok) {
    table.replaceChildren(el("tr", {}, el("td", {}, "This example has no test file.")));
    return [];
  }
  const saved = formRequest();
  const savedTarget = $("target").value;
  const results = [];
  const compiled = compile(yaml.value, tests.target);
  for (const c of compiled.ok ? tests.cases : []) {
    if (c.expect.weighted) continue;
    const d = evaluate(c.request);
    const got = d.backend?.name ?? null;
    const wantBackend = c.expect.backend;
    const pass =
      (!("backend" in c.expect) || got === wantBackend) &&
      (c.expect.status === null || c.expect.status === d.status);
    results.push({ name: c.name, request: c.request, expected: { status: c.expect.status, backend: wantBackend }, got: { status: d.status, backend: got }, pass });
  }
  // Back to what the user was looking at.
  $("target").value = savedTarget;
  state.compiled = compile(yaml.value, targetValue());
  setForm(saved);
  runEvaluate();
  table.replaceChildren(
    el("tr", {}, el("th", {}, ""), el("th", {}, "case"), el("th", {}, "expected"), el("th", {}, "page")),
    ...results.map((r) => {
      const tr = el(
        "tr",
        { "data-pass": r.pass },
        el("td", { class: r.pass ? "pass" : "fail" }, r.pass ? "ok" : "FAIL"),
        el("td", {}, r.name),
        el("td", {}, `${r.expected.status ?? ""} ${r.expected.backend ?? "-"}`),
        el("td", {}, `${r.got.status} ${r.got.backend ?? "-"}`),
      );
      tr.addEventListener("click", () => { setForm(r.request); runEvaluate(); });
      return tr;
    }),
  );
  return results;
}

// ---- wiring ----

function loadExample(index) {
  const example = EXAMPLES[index];
  state.example = example;
  yaml.value = example.manifests;
  $("target").value = "";
  state.compiled = null;
  const tests = example.tests ? parseTests(example.tests) : null;
  // Start from the first test case's request, so the page shows a decision at once.
  const first = tests?.ok ? tests.cases.find((c) => !c.expect.weighted) : null;
  setForm(first?.request ?? { method: "GET", path: "/" });
  if (tests?.ok) {
    const t = tests.target;
    $("target").replaceChildren(el("option", { value: `${t.kind}:${t.name}` }, t.name));
    $("target").value = `${t.kind}:${t.name}`;
  }
  $("tests").replaceChildren();
  runCompile();
}

let timer = null;
function debounce(fn, ms) {
  clearTimeout(timer);
  timer = setTimeout(fn, ms);
}

async function main() {
  await init();
  document.title = `Switchyard playground ${version()}`;
  const select = $("example");
  EXAMPLES.forEach((e, i) => select.append(el("option", { value: i }, e.name)));
  select.addEventListener("change", () => loadExample(Number(select.value)));
  yaml.addEventListener("input", () => debounce(runCompile, 250));
  yaml.addEventListener("keydown", (e) => {
    if (e.key === "Tab") {
      e.preventDefault();
      const { selectionStart: s, selectionEnd: t } = yaml;
      yaml.setRangeText("  ", s, t, "end");
      debounce(runCompile, 250);
    }
  });
  $("target").addEventListener("change", runCompile);
  $("request").addEventListener("input", () => debounce(runEvaluate, 120));
  $("request").addEventListener("change", runEvaluate);
  $("request").addEventListener("submit", (e) => { e.preventDefault(); runEvaluate(); });
  $("add-header").addEventListener("click", () => addHeader().querySelector(".name").focus());
  $("run-tests").addEventListener("click", runTests);
  // For tests and the curious: the API and the page's own actions.
  window.switchyard = { compile, evaluate, parseTests, runTests, state };
  if (EXAMPLES.length) loadExample(0);
  else runCompile();
  document.body.dataset.ready = "true";
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
}

main().catch((e) => {
  $("status").dataset.state = "error";
  $("status").textContent = `failed to start: ${e}`;
  throw e;
});
