// Compile manifests and route a request from Node.js with the switchyard-web package
// (built into web/pkg-node by `cargo xtask web-build`).
//   node web/examples/node-example.js examples/quickstart/manifests.yaml shop.example.com /api/items x-canary=true
const fs = require("node:fs");
const switchyard = require("../pkg-node");

const [file = `${__dirname}/../../examples/quickstart/manifests.yaml`, host = "shop.example.com", path = "/", ...headers] =
  process.argv.slice(2);

const result = switchyard.compile(fs.readFileSync(file, "utf8"), null); // null: the first Gateway
for (const d of result.diagnostics) console.error(`${file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
if (!result.ok) process.exit(2);
console.log(`compiled for ${result.target.kind} ${result.target.name}: ${result.size} bytes of bytecode`);

const decision = switchyard.evaluate({
  host,
  path,
  headers: headers.map((h) => h.split("=", 2)),
});
console.log(`${decision.status} ${decision.backend ? decision.backend.name : "(answered by the proxy)"}`);
if (decision.rule) console.log(`decided by ${decision.rule.text} (${file} lines ${decision.rule.lines.start}-${decision.rule.lines.end}): ${decision.rule.why}`);
else console.log(decision.reason);

// The bytecode itself, as `switchyard compile` writes it:
// fs.writeFileSync("routes.swb", switchyard.bytecode());
