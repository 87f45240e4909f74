#!/bin/sh
# Route checks for a change to Kubernetes routing manifests, as a CI job runs them on a
# pull request: validate, analyze (SARIF for code scanning), show how routing changes
# against the base branch, and run the route tests with a coverage floor.
#
# Run from anywhere inside the repository checkout; every setting is an environment
# variable (defaults in brackets):
#   SWITCHYARD    the switchyard binary [switchyard]
#   DEPLOY        the manifests folder, with its *.test.yaml route tests beside them
#                 [the deploy/ folder next to this script]
#   BASE          the git revision to diff against [origin/main, else main]
#   ENGINE        the route test engine: wasm, native or envoy [wasm]
#   COVERAGE_MIN  the least percentage of matches the route tests must reach [80]
#   OUT           where reports are written (switchyard.sarif, routing-diff.txt) [.]
#   FAIL_ON_ROUTING_CHANGE  1: fail when any request routes differently [0]
# Exit status: 0 all checks passed; otherwise the first failing step's status.
set -eu

SWITCHYARD=${SWITCHYARD:-switchyard}
DEPLOY=${DEPLOY:-$(dirname "$0")/deploy}
ENGINE=${ENGINE:-wasm}
COVERAGE_MIN=${COVERAGE_MIN:-80}
OUT=${OUT:-.}
FAIL_ON_ROUTING_CHANGE=${FAIL_ON_ROUTING_CHANGE:-0}
if [ -z "${BASE:-}" ]; then
  if git -C "$DEPLOY" rev-parse --verify --quiet "origin/main^{commit}" >/dev/null; then
    BASE=origin/main
  else
    BASE=main
  fi
fi
mkdir -p "$OUT"

step() { echo "== $*"; }

step "check: validate and compile every target, print route status"
"$SWITCHYARD" check -q -f "$DEPLOY"

step "analyze: shadowed rules, conflicts, ties, dangling references (SARIF in $OUT/switchyard.sarif)"
"$SWITCHYARD" analyze -f "$DEPLOY" --format sarif -o "$OUT/switchyard.sarif"

step "diff: requests that route differently from $BASE"
prefix=$(git -C "$DEPLOY" rev-parse --show-prefix)
if ! git -C "$DEPLOY" rev-parse --verify --quiet "$BASE^{commit}" >/dev/null; then
  echo "no revision $BASE here (a shallow clone?); skipped"
elif ! git -C "$DEPLOY" cat-file -e "$BASE:${prefix%/}" 2>/dev/null; then
  echo "$DEPLOY is new since $BASE; nothing to compare"
else
  # Exit status 1 means routing changed: expected in a routing pull request, so it is
  # reported (for a review comment) and fails the job only when asked to.
  status=0
  "$SWITCHYARD" diff --rev "$BASE" -f "$DEPLOY" >"$OUT/routing-diff.txt" || status=$?
  cat "$OUT/routing-diff.txt"
  case $status in
    0) echo "routing unchanged" ;;
    1) [ "$FAIL_ON_ROUTING_CHANGE" = 1 ] && exit 1 ;;
    *) exit "$status" ;;
  esac
fi

step "test: route tests on the $ENGINE engine, at least $COVERAGE_MIN% of matches reached"
# shellcheck disable=SC2046 # one argument per test file
"$SWITCHYARD" test --engine "$ENGINE" --coverage-min "$COVERAGE_MIN" -f "$DEPLOY" \
  $(find "$DEPLOY" -name '*.test.yaml' | sort)

step "all checks passed"
