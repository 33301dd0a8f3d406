#!/usr/bin/env bash
# `npm test`: every tier, in order of cost. Provisions the real-cluster tools first (cached in .tools/).
# Every tier runs even if an earlier one failed; the last line sums them up, and the exit code is
# non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "npm test: node_modules is missing; run 'npm ci' first" >&2
  exit 1
fi

section() { printf '\n=== %s\n' "$*"; }
reports=.tools/test-reports
mkdir -p "$reports" && rm -f "$reports"/*.json
failed=0

section "provision test tools (etcd, kube-apiserver, kube-controller-manager, CoreDNS, moto, Gateway API CRDs)"
bash test/envtest/provision.sh || { echo "provisioning failed" >&2; exit 1; }

section "typecheck and lint"
npx tsc --noEmit || failed=1
npm run --silent lint || failed=1

section "unit tests"
npx jest --selectProjects unit --ci --json --outputFile="$reports/unit.json" || failed=1

section "integration tests (real kube-apiserver, CoreDNS, moto)"
npx jest --selectProjects integration --runInBand --ci --json --outputFile="$reports/integration.json" || failed=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  // A recap of every failure at the very end, where a long or truncated log still shows it.
  const plain = (s) => s.replace(/\u001b\[[0-9;]*m/g, "");
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    for (const suite of r.testResults) {
      const file = suite.name.replace(process.cwd() + "/", "");
      if (suite.status === "failed" && suite.assertionResults.every((a) => a.status !== "failed"))
        console.log(`\nFAILED ${file} (the suite itself)\n${plain(suite.message).split("\n").slice(0, 25).join("\n")}`);
      for (const a of suite.assertionResults.filter((x) => x.status === "failed")) {
        const lines = plain(a.failureMessages.join("\n")).split("\n").filter((l) => l.trim() !== "" && !l.includes("node_modules/"));
        console.log(`\nFAILED ${file} > ${a.fullName}\n${lines.slice(0, 25).join("\n")}`);
      }
    }
  }
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$reports"
if [ "$failed" -ne 0 ]; then
  echo "npm test: FAILED (see above)" >&2
fi
exit "$failed"
