#!/usr/bin/env bash
# `npm test`: every tier, in order of cost. Provisions the real-cluster tools first (cached in .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "npm test: node_modules is missing; run 'npm ci' first" >&2
  exit 1
fi

section() { printf '\n=== %s\n' "$*"; }

section "provision test tools (etcd, kube-apiserver, kube-controller-manager, CoreDNS, moto, Gateway API CRDs)"
bash test/envtest/provision.sh

section "typecheck and lint"
npx tsc --noEmit
npm run --silent lint

section "unit tests"
npx jest --selectProjects unit --ci

section "integration tests (real kube-apiserver, CoreDNS, moto)"
npx jest --selectProjects integration --runInBand --ci
