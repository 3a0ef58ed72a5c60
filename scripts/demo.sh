#!/usr/bin/env bash
# `make demo`: the whole GitOps loop on this machine (`gitops-poc demo`); DEMO_DIR names the workspace.
# Every step is a command a user would type; see README "What make demo shows".
set -euo pipefail
cd "$(dirname "$0")/.."
exec gitops-poc demo --workspace "${DEMO_DIR:-demo-out}"
