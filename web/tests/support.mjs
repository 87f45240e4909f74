// Shared by the Node and browser tests: paths, the CLI's own verdicts.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = join(WEB, "..");
export const QUICKSTART = join(ROOT, "examples", "quickstart", "manifests.yaml");
export const QUICKSTART_TESTS = join(ROOT, "examples", "quickstart", "quickstart.test.yaml");
export const read = (path) => readFileSync(path, "utf8");

/// The switchyard CLI: $SWITCHYARD_BIN, else target/debug/switchyard (built on demand).
export function switchyardBin() {
  if (process.env.SWITCHYARD_BIN) return process.env.SWITCHYARD_BIN;
  const bin = join(ROOT, "target", "debug", "switchyard");
  if (!existsSync(bin)) {
    execFileSync("cargo", ["build", "--quiet", "-p", "switchyard-compiler", "--bin", "switchyard"], {
      cwd: ROOT,
      stdio: "inherit",
    });
  }
  return bin;
}

/// `switchyard test --engine native --format json` on the quick start: case name -> outcome.
export function nativeOutcomes(manifests = QUICKSTART, tests = QUICKSTART_TESTS) {
  let out;
  try {
    out = execFileSync(switchyardBin(), ["test", "--engine", "native", "--format", "json", "-f", manifests, tests], {
      encoding: "utf8",
    });
  } catch (e) {
    out = e.stdout; // exit 1: a case failed; the report is still there
  }
  const report = JSON.parse(out);
  return new Map(report.cases.map((c) => [c.name, c]));
}

/// The CLI's outcome text for one request's decision (see routetest::run_case).
export function outcomeText(decision) {
  const r = decision.request;
  const name = decision.backend ? decision.backend.name : `${decision.status} from the proxy`;
  return `${r.method} ${r.host}${r.path} -> ${name}`;
}
