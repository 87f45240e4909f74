// The playground end to end in headless Chromium (Debian's `chromium`, driven by
// playwright-core): load the bundled example, change a header in the request form and see
// the decision change, break the YAML and see the diagnostic at its line, and check that
// the page decides every quick-start case as `switchyard test --engine native` does.
// Screenshots go to docs/img/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { QUICKSTART, QUICKSTART_TESTS, ROOT, WEB, nativeOutcomes, outcomeText, read } from "./support.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WWW = join(WEB, "www");
const SHOTS = join(ROOT, "docs", "img");
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
};

let server;
let base;
let context;
let page;
let profile;

/// A static server for web/www on 127.0.0.1 (what `cargo xtask web` serves).
function serve() {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
      let file = join(WWW, path);
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
      if (!file.startsWith(WWW) || !existsSync(file)) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(readFileSync(file));
    });
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

before(async () => {
  assert.ok(existsSync(join(WWW, "pkg", "switchyard_web.js")), "web/www/pkg is missing: run `cargo xtask web-build`");
  server = await serve();
  base = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), "switchyard-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await context?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/// Fills the request form the way a person would.
async function fillRequest({ method = "GET", scheme = "http", host = "", port = null, path = "/", headers = [] }) {
  await page.selectOption("#method", method);
  await page.selectOption("#scheme", scheme);
  await page.fill("#host", host ?? "");
  await page.fill("#port", port === null || port === undefined ? "" : String(port));
  await page.fill("#path", path);
  while ((await page.locator("#headers .header").count()) > 0) {
    await page.locator("#headers .header button").first().click();
  }
  for (const [name, value] of headers) {
    await page.click("#add-header");
    const row = page.locator("#headers .header").last();
    await row.locator(".name").fill(name);
    await row.locator(".value").fill(value);
  }
  await page.locator("#path").press("Enter"); // evaluate now, without waiting for the debounce
}

const decision = () => page.evaluate(() => window.switchyard.state.decision);

test("the bundled example loads, compiles and shows a decision", async () => {
  assert.equal(await page.inputValue("#yaml"), read(QUICKSTART));
  assert.equal(await page.getAttribute("#status", "data-state"), "ok");
  assert.match(await page.textContent("#size"), /bytecode: \d+ bytes/);
  assert.equal(await page.inputValue("#target"), "gateway:infra/web");
  assert.match(await page.textContent("#listing"), /vhost 0 shop\.example\.com/);
  // The quick start's one warning, at its line.
  assert.equal(await page.getAttribute("#gutter div[data-line='49']", "class"), "warning");
  assert.match(await page.textContent("#diagnostics"), /not-deployed-yet/);
});

test("changing a header in the request form changes the decision", async () => {
  await fillRequest({ host: "shop.example.com", path: "/api/items" });
  await page.waitForSelector("#decision[data-backend='shop/api-v1']");
  assert.match(await page.textContent("#rule-link"), /HTTPRoute shop\/storefront rule 2 match 0/);

  await page.click("#add-header");
  const row = page.locator("#headers .header").last();
  await row.locator(".name").fill("X-Canary");
  await row.locator(".value").fill("true");
  await page.waitForSelector("#decision[data-backend='shop/api-v2']");
  assert.equal(await page.textContent("#status-code"), "200");
  assert.match(await page.textContent("#rule-link"), /HTTPRoute shop\/storefront rule 1 match 1/);
  assert.match(await page.textContent("#decision"), /lines 34–38/);
  // The rule's lines are highlighted in the editor, its match more strongly.
  const classes = await page.$$eval("#backdrop div", (ds) => ds.map((d) => d.className));
  assert.deepEqual(classes.slice(33, 38), ["rule", "rule", "match", "match", "rule"]);
  assert.equal(classes[32], "");
  assert.equal(classes[38], "");
  // The listing line of the entry is marked too.
  assert.match(await page.textContent("#listing div.hit"), /header x-canary = "true"/);
  await page.screenshot({ path: join(SHOTS, "playground-decision.png") });

  await page.locator("#headers .header .value").last().fill("false");
  await page.waitForSelector("#decision[data-backend='shop/api-v1']");
});

test("the page decides every quick-start case as `switchyard test --engine native`", async () => {
  const cli = nativeOutcomes();
  const tests = await page.evaluate((text) => window.switchyard.parseTests(text), read(QUICKSTART_TESTS));
  let compared = 0;
  for (const c of tests.cases) {
    if (c.repeat > 1) continue; // weighted: the CLI seeds each case by its name
    await fillRequest(c.request);
    const d = await decision();
    assert.equal(outcomeText(d), cli.get(c.name).outcome, c.name);
    assert.equal(await page.getAttribute("#decision", "data-backend"), d.backend?.name ?? "", c.name);
    assert.equal(await page.textContent("#status-code"), String(d.status), c.name);
    compared++;
  }
  assert.ok(compared >= 10, `only ${compared} cases compared`);

  // The page's own test runner agrees, case by case.
  await page.click("#tests-box summary");
  await page.click("#run-tests");
  const rows = await page.$$eval("#tests tr[data-pass]", (rs) => rs.map((r) => r.dataset.pass));
  assert.equal(rows.length, compared);
  assert.ok(rows.every((p) => p === "true"), `failing rows: ${rows}`);
});

test("broken YAML shows a diagnostic at the right line", async () => {
  const text = read(QUICKSTART).replace("  hostnames: [shop.example.com]", "  hostnames: [shop.example.com");
  const lines = read(QUICKSTART).split("\n");
  const broken = lines.indexOf("  hostnames: [shop.example.com]") + 1;
  await page.fill("#yaml", text);
  await page.waitForSelector("#status[data-state=error]");
  const diag = page.locator("#diagnostics li.error").first();
  const line = Number(await diag.getAttribute("data-line"));
  // The parser notices the unclosed flow sequence on the line or the next one.
  assert.ok(line === broken || line === broken + 1, `diagnostic at line ${line}, broken line ${broken}`);
  assert.equal(await page.getAttribute(`#gutter div[data-line='${line}']`, "class"), "error");
  assert.match(await page.textContent(`#backdrop div[data-line='${line}'] .lens`), /error/);
  assert.match(await page.textContent("#decision"), /Fix the errors/);
  await diag.click(); // puts the cursor on the line and scrolls the editor to it
  assert.equal(await page.inputValue("#target"), "gateway:infra/web");
  await page.screenshot({ path: join(SHOTS, "playground-diagnostic.png") });

  // A semantic error names its field, at its line.
  const where = lines.indexOf("    - path: {type: PathPrefix, value: /beta}") + 1;
  await page.fill("#yaml", read(QUICKSTART).replace("{type: PathPrefix, value: /beta}", "{type: Prefix, value: /beta}"));
  await page.waitForSelector(`#diagnostics li.error[data-line='${where}']`);
  assert.equal(await page.locator("#diagnostics li.error").count(), 1);
  assert.match(await page.textContent("#diagnostics li.error"), /HTTPRoute shop\/legacy: spec\.rules\[0\]\.matches\[0\]\.path: unsupported path match type "Prefix"/);
  assert.equal(await page.getAttribute(`#gutter div[data-line='${where}']`, "class"), "error");

  // Fixed again: back to a decision.
  await page.fill("#yaml", read(QUICKSTART));
  await page.waitForSelector("#status[data-state=ok]");
  await page.waitForFunction(() => window.switchyard.state.decision?.ok === true);
  assert.match(await page.textContent("#status-code"), /^\d{3}$/);
});

test("works offline once loaded", async () => {
  // The service worker caches what it serves; load once under its control, then cut the
  // network and load again.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 });
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await context.setOffline(true);
  server.close();
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
  assert.equal(await page.getAttribute("#status", "data-state"), "ok");
  await fillRequest({ host: "shop.example.com", path: "/healthz" });
  await page.waitForSelector("#decision[data-backend='shop/health']");
  await context.setOffline(false);
});
