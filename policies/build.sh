#!/usr/bin/env bash
# Builds every policy crate in policies/ into a Counsel policy component,
# policies/dist/<name>.wasm, and records the hash of the sources it was built
# from beside it (policies/dist/<name>.inputs).
#
#   policies/build.sh              build every policy
#   policies/build.sh NAME...      build only these policies
#   policies/build.sh --verify     only check that every dist/*.wasm was built
#                                  from the sources in this tree
#
# Toolchain: a rustup toolchain with the wasm32-unknown-unknown target when
# one is installed; otherwise Debian's rustc-web/cargo-web/rust-web-src/lld
# (installed here with apt-get when missing), which builds std from source.
#
# Environment: CARGO_TARGET_DIR_POLICIES is the wasm build's target directory
# (default ~/.cache/counsel/policies-target); CARGO_TARGET_DIR is the root
# workspace's, where the counsel-componentize host tool is built.
set -euo pipefail

policies="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$policies")"
target_dir="${CARGO_TARGET_DIR_POLICIES:-$HOME/.cache/counsel/policies-target}"
debian_packages=(rustc-web cargo-web rust-web-src lld)

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
    # The header comment above, without its `# `.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

verify=false
wanted=()
for arg in "$@"; do
    case "$arg" in
        --verify) verify=true ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option $arg (try --help)" ;;
        *) wanted+=("$arg") ;;
    esac
done
if $verify && ((${#wanted[@]})); then
    die "--verify checks every policy; it takes no policy names"
fi

# Seconds since the epoch with a fraction, for the timings printed at the end.
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

rustup_has_wasm_target() {
    command -v rustup >/dev/null 2>&1 &&
        (cd "$policies" && rustup target list --installed 2>/dev/null) | grep -qx wasm32-unknown-unknown
}

debian_toolchain_missing() {
    local package
    for package in "${debian_packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            return 0
        fi
    done
    [[ ! -x /usr/bin/rustc || ! -x /usr/bin/cargo || ! -x /usr/bin/wasm-ld ]]
}

install_debian_toolchain() {
    command -v apt-get >/dev/null 2>&1 ||
        die "no rustup wasm32-unknown-unknown target and no apt-get: run 'rustup target add wasm32-unknown-unknown'"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 ||
            die "installing ${debian_packages[*]} needs root: run as root, or 'rustup target add wasm32-unknown-unknown'"
        sudo=(sudo)
    fi
    say "installing Debian's wasm toolchain: ${debian_packages[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${debian_packages[@]}"
}

# The host cargo builds counsel-componentize (and nothing for wasm).
host_cargo() {
    if command -v cargo >/dev/null 2>&1; then
        cargo "$@"
    elif [[ -x /usr/bin/cargo ]]; then
        /usr/bin/cargo "$@"
    else
        die "no cargo found; install Rust (rustup) or run without --verify once to install Debian's"
    fi
}

# Built once per run (in the root workspace's target directory), then run
# directly: cargo's own start-up would cost more than the tool's work.
componentize_bin=""
componentize() {
    if [[ -z "$componentize_bin" ]]; then
        componentize_bin="$(host_cargo build --release --quiet --message-format=json-render-diagnostics \
            --manifest-path "$root/Cargo.toml" -p counsel-componentize |
            sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
        [[ -x "$componentize_bin" ]] || die "cargo did not build counsel-componentize"
    fi
    "$componentize_bin" --policies "$policies" "$@"
}

if $verify; then
    if ! command -v cargo >/dev/null 2>&1 && [[ ! -x /usr/bin/cargo ]]; then
        install_debian_toolchain
    fi
    componentize --verify
    exit
fi

# Every directory with a Cargo.toml is a workspace member (members = ["*"]);
# all but the SDK, the contract and the edit crate are policies, named after
# their crate.
all=()
for manifest in "$policies"/*/Cargo.toml; do
    [[ -e "$manifest" ]] || continue
    dir="$(basename "$(dirname "$manifest")")"
    case "$dir" in sdk|contract|edit) continue ;; esac
    name="$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)"
    [[ "$name" == "$dir" ]] ||
        die "policies/$dir/Cargo.toml names the crate '${name:-?}'; a policy's directory must be named after its crate"
    all+=("$name")
done
((${#all[@]})) || die "no policy crates in $policies"

if ((${#wanted[@]})); then
    for name in "${wanted[@]}"; do
        printf '%s\n' "${all[@]}" | grep -qxF -- "$name" ||
            die "no policy '$name' in policies/ (policies: ${all[*]})"
    done
    selected=("${wanted[@]}")
else
    selected=("${all[@]}")
fi

# Builds must not embed where this checkout or the cargo cache happens to be.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rustflags=(
    # A 256 KiB stack instead of rustc's 1 MiB: every evaluation gets fresh
    # memory, and a smaller initial memory is less to reset (JSON nesting is
    # capped at 128 levels, well within it).
    -C link-arg=-zstack-size=262144
    # 2 MiB of initial memory (the engine keeps that much resident per
    # instance): a typical evaluation then never grows memory, which would
    # make the engine change page protections twice per evaluation.
    -C link-arg=--initial-memory=2097152
    "--remap-path-prefix=$root=/counsel"
    "--remap-path-prefix=$cargo_home/registry/src=/cargo/registry/src"
    "--remap-path-prefix=$cargo_home/git/checkouts=/cargo/git/checkouts"
)
build_args=(build --release --target wasm32-unknown-unknown
    --manifest-path "$policies/Cargo.toml" --target-dir "$target_dir")
for name in "${selected[@]}"; do build_args+=(-p "$name"); done

started="$(now)"
if rustup_has_wasm_target; then
    toolchain="rustup ($(cd "$policies" && rustc --version))"
    build=(env "CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${rustflags[*]}")" cargo "${build_args[@]}")
else
    if debian_toolchain_missing; then
        install_debian_toolchain
    fi
    toolchain="Debian ($(/usr/bin/rustc --version))"
    rustflags=(-C linker=wasm-ld "${rustflags[@]}")
    build=(env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
        "CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${rustflags[*]}")"
        /usr/bin/cargo "${build_args[@]}" -Zbuild-std=std,panic_abort)
fi
say "building ${selected[*]} with $toolchain into $target_dir"
"${build[@]}"
built="$(since "$started")"

started="$(now)"
mkdir -p "$policies/dist"
for name in "${selected[@]}"; do
    module="$target_dir/wasm32-unknown-unknown/release/${name//-/_}.wasm"
    [[ -f "$module" ]] ||
        die "cargo built no $module; is policies/$name a cdylib ([lib] crate-type = [\"cdylib\", ...])?"
    componentize --module "$module" --out "$policies/dist/$name.wasm" --inputs "$name"
done
say "done: cargo build $built, componentize $(since "$started")"
