#!/usr/bin/env bash
# Provisions the components the envtest harness runs on loopback, building or installing only
# what is missing or out of date:
#   .tools/bin/etcd, kube-apiserver, kube-controller-manager, kubectl, coredns (built from Go modules)
#   .tools/bin/kustomize                                                 (go install, pinned)
#   .tools/bin/health      kstatus (cli-utils) + Argo CD's Lua VM (gopher-lua), GitOps health checks
#   .tools/venv/bin/moto_server                                          (PyPI moto[server])
#   .tools/crds/gateway-api/*.yaml                                       (Gateway API standard CRDs)
#   .tools/crds/gateway-api-experimental/*.yaml     (TLSRoute, TCPRoute, UDPRoute: experimental channel)
#   .tools/crds/external-dns/*.yaml                 (external-dns's DNSEndpoint CRD, from its Go module)
# Each component has a stamp file holding a hash of its inputs (pinned versions, go.mod/go.sum,
# wrapper sources, toolchain, flags): change any of them and that component is rebuilt.
# Go's module and build caches stay in their default places under $HOME, so a fresh clone on
# the same machine only relinks.
#
# Usage: bash test/envtest/provision.sh [--quiet]
# Env:   DNSOP_TOOLS_DIR (default <repo>/.tools)
set -euo pipefail

readonly MOTO_VERSION="5.2.5"
readonly GATEWAY_API_VERSION="v1.3.0"
readonly KUSTOMIZE_VERSION="v5.7.1"
readonly EXTERNAL_DNS_VERSION="v0.20.0"
# Route kinds only the experimental channel has; the other CRDs stay on the standard channel.
readonly GATEWAY_API_EXPERIMENTAL_CRDS=(tlsroutes tcproutes udproutes)
readonly GO_MIN_MINOR=24 # k8s.io/kubernetes v1.33 needs go >= 1.24

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
tools_dir="${DNSOP_TOOLS_DIR:-$repo_root/.tools}"
go_sources="$here/tools"
quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true

# No VCS stamping: builds must not depend on the state (or ownership) of the surrounding git checkout.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
readonly go_build_flags=(-trimpath "-ldflags=-s -w")

say() { printf '[provision] %s\n' "$*" >&2; }
fail() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }

check_prerequisites() {
  command -v go >/dev/null 2>&1 ||
    fail "Go is not installed: install Go >= 1.$GO_MIN_MINOR (https://go.dev/doc/install) and put it on PATH."
  local minor
  minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  [[ "$minor" =~ ^[0-9]+$ && "$minor" -ge "$GO_MIN_MINOR" ]] ||
    fail "Go $(go env GOVERSION) is too old: install Go >= 1.$GO_MIN_MINOR."
  command -v python3 >/dev/null 2>&1 ||
    fail "python3 is not installed: install Python >= 3.9 with venv (Debian: apt-get install python3 python3-venv)."
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
    fail "python3 has no venv/ensurepip module: install it (Debian: apt-get install python3-venv)."
}

# Hash of everything that determines a component's output.
inputs_hash() {
  { printf '%s\n' "$@"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -d' ' -f1
}

files_hash() {
  local dir="$1"
  (cd "$dir" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
    sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

stamp_matches() {
  local name="$1" hash="$2"
  [[ -f "$tools_dir/stamps/$name" && "$(cat "$tools_dir/stamps/$name")" == "$hash" ]]
}

write_stamp() {
  mkdir -p "$tools_dir/stamps"
  printf '%s\n' "$2" >"$tools_dir/stamps/$1"
}

all_exist() {
  local f
  for f in "$@"; do [[ -x "$f" || -f "$f" ]] || return 1; done
}

# build_go_module NAME MODULE_DIR BINARY... : one `go build` per module so shared packages compile once.
# A BINARY is a wrapper folder of MODULE_DIR, or an upstream main package the module requires
# (e.g. k8s.io/kubernetes/cmd/kubectl, a `tool` of its go.mod), built as its last path element.
build_go_module() {
  local name="$1" module_dir="$2"
  shift 2
  local binaries=("$@") outputs=() packages=() b
  for b in "${binaries[@]}"; do
    outputs+=("$tools_dir/bin/${b##*/}")
    if [[ -d "$module_dir/$b" ]]; then
      packages+=("./$b")
    elif [[ "$b" == */* ]]; then
      packages+=("$b")
    else
      packages+=(".")
    fi
  done
  local hash
  hash="$(inputs_hash "$(files_hash "$module_dir")" "${go_build_flags[*]}" "${binaries[*]}")"
  if stamp_matches "$name" "$hash" && all_exist "${outputs[@]}"; then
    say "$name: up to date"
    return
  fi
  say "$name: building ${binaries[*]} (first build downloads modules and compiles; this takes a while)"
  local started=$SECONDS
  mkdir -p "$tools_dir/bin"
  if [[ ${#binaries[@]} -eq 1 ]]; then
    (cd "$module_dir" && go build "${go_build_flags[@]}" -o "${outputs[0]}" "${packages[0]}")
  else
    (cd "$module_dir" && go build "${go_build_flags[@]}" -o "$tools_dir/bin/" "${packages[@]}")
  fi
  write_stamp "$name" "$hash"
  say "$name: built in $((SECONDS - started))s"
}

# install_go_tool NAME PACKAGE VERSION : a tool whose module `go install pkg@version` can build.
install_go_tool() {
  local name="$1" package="$2" version="$3"
  local hash
  hash="$(inputs_hash "$package@$version" "${go_build_flags[*]}")"
  if stamp_matches "$name" "$hash" && all_exist "$tools_dir/bin/$name"; then
    say "$name: up to date"
    return
  fi
  say "$name: installing $package@$version"
  local started=$SECONDS
  mkdir -p "$tools_dir/bin"
  GOBIN="$tools_dir/bin" go install "${go_build_flags[@]}" "$package@$version"
  write_stamp "$name" "$hash"
  say "$name: installed in $((SECONDS - started))s"
}

install_moto() {
  local venv="$tools_dir/venv"
  local hash
  hash="$(printf 'moto[server]==%s\n%s\n' "$MOTO_VERSION" "$(python3 --version 2>&1)" | sha256sum | cut -d' ' -f1)"
  if stamp_matches moto "$hash" && all_exist "$venv/bin/moto_server"; then
    say "moto: up to date"
    return
  fi
  say "moto: installing moto[server]==$MOTO_VERSION into $venv"
  local started=$SECONDS
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  write_stamp moto "$hash"
  say "moto: installed in $((SECONDS - started))s"
}

# go_module_dir MODULE@VERSION : downloads a module through the Go module proxy; prints its directory.
go_module_dir() {
  (cd "$tools_dir" && GOFLAGS= go mod download -json "$1" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
}

install_gateway_api_crds() {
  local target="$tools_dir/crds/gateway-api"
  local hash
  hash="$(printf 'gateway-api %s standard\n' "$GATEWAY_API_VERSION" | sha256sum | cut -d' ' -f1)"
  if stamp_matches gateway-api "$hash" && compgen -G "$target/*.yaml" >/dev/null; then
    say "gateway-api CRDs: up to date"
    return
  fi
  say "gateway-api CRDs: fetching sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
  local module_dir
  module_dir="$(go_module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
  [[ -d "$module_dir/config/crd/standard" ]] ||
    fail "gateway-api module has no config/crd/standard (got dir '$module_dir')"
  rm -rf "$target"
  mkdir -p "$target"
  cp "$module_dir"/config/crd/standard/*.yaml "$target/"
  chmod u+w "$target"/*.yaml
  write_stamp gateway-api "$hash"
}

install_gateway_api_experimental_crds() {
  local target="$tools_dir/crds/gateway-api-experimental"
  local hash
  hash="$(printf 'gateway-api %s experimental %s\n' "$GATEWAY_API_VERSION" "${GATEWAY_API_EXPERIMENTAL_CRDS[*]}" | sha256sum | cut -d' ' -f1)"
  if stamp_matches gateway-api-experimental "$hash" && compgen -G "$target/*.yaml" >/dev/null; then
    say "gateway-api experimental route CRDs: up to date"
    return
  fi
  say "gateway-api experimental route CRDs: fetching sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
  local module_dir kind
  module_dir="$(go_module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
  rm -rf "$target"
  mkdir -p "$target"
  for kind in "${GATEWAY_API_EXPERIMENTAL_CRDS[@]}"; do
    local file="$module_dir/config/crd/experimental/gateway.networking.k8s.io_$kind.yaml"
    [[ -f "$file" ]] || fail "gateway-api module has no $file"
    cp "$file" "$target/"
  done
  chmod u+w "$target"/*.yaml
  write_stamp gateway-api-experimental "$hash"
}

install_external_dns_crds() {
  local target="$tools_dir/crds/external-dns"
  local hash
  hash="$(printf 'external-dns %s dnsendpoints\n' "$EXTERNAL_DNS_VERSION" | sha256sum | cut -d' ' -f1)"
  if stamp_matches external-dns-crds "$hash" && compgen -G "$target/*.yaml" >/dev/null; then
    say "external-dns DNSEndpoint CRD: up to date"
    return
  fi
  say "external-dns DNSEndpoint CRD: fetching sigs.k8s.io/external-dns@$EXTERNAL_DNS_VERSION"
  local module_dir file
  module_dir="$(go_module_dir "sigs.k8s.io/external-dns@$EXTERNAL_DNS_VERSION")"
  file="$module_dir/config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml"
  [[ -f "$file" ]] || fail "external-dns module has no $file"
  rm -rf "$target"
  mkdir -p "$target"
  cp "$file" "$target/"
  chmod u+w "$target"/*.yaml
  write_stamp external-dns-crds "$hash"
}

main() {
  local started=$SECONDS
  check_prerequisites
  mkdir -p "$tools_dir"
  # One provisioner at a time (jest setup and a manual run may overlap).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$tools_dir/.lock"
    flock 9
  fi
  $quiet || say "tools dir: $tools_dir"
  build_go_module etcd "$go_sources/etcd" etcd
  build_go_module coredns "$go_sources/coredns" coredns
  install_gateway_api_crds
  install_gateway_api_experimental_crds
  install_external_dns_crds
  install_go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
  build_go_module health "$go_sources/health" health
  install_moto
  # kubectl from the same k8s.io/kubernetes module: the tests run the README's kubectl commands.
  build_go_module kube "$go_sources/kube" kube-apiserver kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl
  say "provisioning took $((SECONDS - started))s"
}

main "$@"
