#!/usr/bin/env bash
# Runs every test of Counsel. Works on a fresh Debian machine with a host Rust
# toolchain: it installs the wasm toolchain it needs (see policies/build.sh),
# rebuilds every policy from source, and tests both workspaces against those
# fresh builds. The cluster tests run a real kube-apiserver, which
# tools/kube/install.sh builds from Debian's source package the first time
# (10-20 minutes).
set -euo pipefail
cd "$(dirname "$0")"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/counsel"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"

echo "== cluster tools: etcd, kube-apiserver, kubectl and helm (installed once, cached)"
# The cluster tests (tests/cluster*.rs) and the chart tests run these; they
# fail, never skip, when they are missing.
eval "$(tools/kube/install.sh)"

echo "== policies: were the committed components built from the sources in this tree?"
policies/build.sh --verify

echo "== policies: rebuild every component from source"
policies/build.sh

echo "== policies: SDK and policy unit tests (native)"
(cd policies && CARGO_TARGET_DIR="$cache/policies-native-target" cargo test --workspace)

echo "== counsel: unit and integration tests against the fresh components"
cargo test --release --workspace
