#!/usr/bin/env bash
# The web tests: installs what they need, then runs the Node tests of the wasm-bindgen API
# and the playground's end-to-end tests in headless Chromium. Safe to run again: each
# install step is skipped when its tool is already there.
#   bash web/ci.sh
# Installs: the rustup target wasm32-unknown-unknown, wasm-bindgen-cli at the version
# Cargo.lock pins for the wasm-bindgen crate, Debian's chromium (apt), Node.js and npm
# when missing (apt), playwright-core (npm ci in web/tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

started=$SECONDS
step() { echo "== web/ci.sh: $* (at $((SECONDS - started)) s)"; }

step "rust target"
rustup target add wasm32-unknown-unknown

version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
  echo "web/ci.sh: Cargo.lock names no wasm-bindgen" >&2
  exit 2
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
  step "cargo install wasm-bindgen-cli $version (takes minutes)"
  # --locked first; when the registry lacks a version the CLI's lock file names, resolve
  # afresh (the CLI's own version is still exact).
  cargo install wasm-bindgen-cli --version "$version" --locked ||
    cargo install wasm-bindgen-cli --version "$version"
fi

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if ! command -v chromium >/dev/null; then
  step "apt-get install chromium"
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  step "apt-get install nodejs npm"
  apt_install nodejs npm
fi

step "npm ci (playwright-core)"
(cd web/tests && npm ci --no-audit --no-fund)

step "lint the web crate for wasm32-unknown-unknown"
cargo clippy -p switchyard-web --target wasm32-unknown-unknown -- -D warnings

step "build the packages (cargo xtask web-build) and the CLI to compare with"
cargo xtask web-build
cargo build --quiet -p switchyard-compiler --bin switchyard

step "node --test: the API from Node.js, the page in Chromium"
cd web/tests
node --test api.test.mjs browser.test.mjs
step "done"
