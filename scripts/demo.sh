#!/usr/bin/env bash
# `make demo`: the platform generated from the built-in defaults, in a scratch folder. No cluster, no GitLab.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_DIR:-demo-out}
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "gitops-poc init (built-in defaults) into $out/"
gitops-poc init --root "$out" --yes

step "second run changes nothing (init --check)"
gitops-poc init --root "$out" --check

step "gitops-poc new-service billing"
gitops-poc new-service billing --root "$out" --yes

step "summary"
printf '  %-28s %s\n' "ApplicationSet" "$out/gitops-config/argocd/applicationset.yaml"
printf '  %-28s %s\n' "AppProject" "$out/gitops-config/argocd/project.yaml"
printf '  %-28s %s\n' "service repositories" "$(ls "$out/services" | tr '\n' ' ')"
printf '  %-28s %s\n' "values files" "$(find "$out/services" -path '*/.cicd/*.yaml' | wc -l)"
