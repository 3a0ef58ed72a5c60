#!/usr/bin/env bash
# `make demo`: the whole platform from the built-in defaults, in a scratch folder, with real git, helm and
# OpenBao. No cluster, no GitLab. Every step is a command a user would type. The k8app chart comes from its
# public repository, or, where that cannot be reached, from the offline copy ../shared/charts/k8app
# served on loopback (same `helm pull --repo URL --version V` path).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=${DEMO_DIR:-demo-out}
public_repo=${CHART_REPO:-https://d7561985.github.io/k8app}
offline_copy=${GITOPS_POC_SHARED_CHARTS:-$(dirname "$repo")/shared/charts}/k8app
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

step "0. the k8app chart repository: $public_repo"
python3 -m gitops_poc.helmrepo --unless-reachable "$public_repo" "$offline_copy" > "$out/.chart-repo" 2> "$out/.chart-repo.log" &
pids+=($!)
while [ ! -s "$out/.chart-repo" ] && kill -0 "${pids[0]}" 2>/dev/null; do sleep 0.1; done
chart_repo=$(head -1 "$out/.chart-repo")
if [ -z "$chart_repo" ]; then
  cat "$out/.chart-repo.log" >&2
  echo "cannot reach $public_repo and no offline copy at $offline_copy: the chart cannot be rendered" >&2
  exit 1
fi
if [ "$chart_repo" = "$public_repo" ]; then
  echo "   reachable: charts are pulled from it"
else
  echo "   $public_repo cannot be reached: serving the offline copy $offline_copy at $chart_repo"
fi
rm -f "$out/.chart-repo" "$out/.chart-repo.log"
# Commands whose exit 1 means "found differences" are expected to return 1 here.
expect1() { set +e; "$@"; local rc=$?; set -e; [ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc" >&2; exit 1; }; }

step "1. gitops-poc init: every repository's files from the built-in defaults"
gitops-poc init --root "$out" --yes 2>&1 | grep -vE '^\s+(create|update) ' || true
git -C "$out" init -q -b main && git -C "$out" add -A && git -C "$out" -c user.name=demo -c user.email=demo@localhost commit -qm "platform from gitops-poc init"

step "2. a second run changes nothing (init --check, as CI would run it)"
gitops-poc init --root "$out" --check

step "3. gitops-poc lint: values files against the chart contract and the platform's principles"
gitops-poc lint --root "$out"

step "4. gitops-poc plan: the Applications ArgoCD's ApplicationSet controller will create"
gitops-poc plan --root "$out"

step "5. gitops-poc render api-gateway prod: helm template as ArgoCD runs it, validated offline (summary)"
# CHART_REPO for this command only: the generated files keep naming the public repository.
CHART_REPO="$chart_repo" gitops-poc render api-gateway prod --root "$out" > "$out/api-gateway-prod.yaml"
grep -E '^kind:' "$out/api-gateway-prod.yaml" | sort | uniq -c
echo "   (manifests in $out/api-gateway-prod.yaml)"

step "6. gitops-poc diff api-gateway --env dev --against prod: what differs between two environments"
sed -i 's/tag: "0.1.0"/tag: "3f2a9c1"/' "$out/services/api-gateway/.cicd/dev.yaml"   # as CI writes a build
expect1 env CHART_REPO="$chart_repo" gitops-poc diff api-gateway --root "$out" --env dev --against prod > "$out/diff.txt"
head -32 "$out/diff.txt"
echo "   ... ($(wc -l < "$out/diff.txt") lines in $out/diff.txt)"

step "7. gitops-poc new-service billing, then plan --base HEAD: three Applications appear"
gitops-poc new-service billing --root "$out" --yes 2>&1 | tail -1
gitops-poc plan --root "$out" --base HEAD | tail -8 || true
git -C "$out" add -A && git -C "$out" -c user.name=demo -c user.email=demo@localhost commit -qm "add billing"

step "8. removing a service is caught by the deletion guard (plan --base HEAD --max-deletions 0)"
keep=$(mktemp); cp "$out/.env" "$keep"   # .env is git-ignored (credentials): put it back by hand afterwards
sed -i 's/ billing"/"/' "$out/.env"
gitops-poc init --root "$out" --yes 2>&1 | tail -1
expect1 gitops-poc plan --root "$out" --base HEAD --max-deletions 0 -o json >/dev/null
echo "   guard tripped as intended (exit 1)"
git -C "$out" checkout -q -- . && git -C "$out" clean -qfd && mv "$keep" "$out/.env"
gitops-poc init --root "$out" --check 2>&1 | tail -1

step "9. Vault: provision through the API against a real OpenBao dev server, then prove least privilege"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The root token travels only through the environment, never through a command line.
VAULT_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export VAULT_TOKEN VAULT_ADDR="http://127.0.0.1:$port"
BAO_DEV_ROOT_TOKEN_ID=$VAULT_TOKEN BAO_DEV_LISTEN_ADDRESS=127.0.0.1:$port HOME=$PWD/$out \
  bao server -dev -dev-no-store-token > /dev/null 2>&1 &   # dev mode prints its root token: not kept
pids+=($!)
python3 - "$VAULT_ADDR" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1] + "/v1/sys/health", timeout=1); break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("OpenBao did not start")
PY
ca=$repo/tests/vault/data/test-ca.pem   # stand-in cluster CA: no cluster here
gitops-poc vault provision --root "$out" --kubernetes-ca-file "$ca" 2>&1 | tail -4
echo "   ... and again (nothing to write):"
gitops-poc vault provision --root "$out" --kubernetes-ca-file "$ca" 2>&1 | tail -2
gitops-poc vault check --root "$out"

step "summary"
printf '  %-22s %s\n' "platform root" "$out/ (a git repository)"
printf '  %-22s %s\n' "ArgoCD objects" "$out/gitops-config/argocd/{project,applicationset,platform}.yaml"
printf '  %-22s %s\n' "service repositories" "$(ls "$out/services" | tr '\n' ' ')"
printf '  %-22s %s\n' "values files" "$(find "$out/services" -path '*/.cicd/*.yaml' | wc -l)"
