#!/usr/bin/env bash
# Runs every test of Counsel. Works on a fresh Debian machine with a host Rust
# toolchain: it installs the wasm toolchain it needs (see policies/build.sh),
# rebuilds every policy from source, and tests both workspaces against those
# fresh builds.
set -euo pipefail
cd "$(dirname "$0")"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/counsel"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"

echo "== policies: were the committed components built from the sources in this tree?"
policies/build.sh --verify

echo "== policies: rebuild every component from source"
policies/build.sh

echo "== policies: SDK and policy unit tests (native)"
(cd policies && CARGO_TARGET_DIR="$cache/policies-native-target" cargo test --workspace)

echo "== counsel: unit and integration tests against the fresh components"
cargo test --release --workspace
