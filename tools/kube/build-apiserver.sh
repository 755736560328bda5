#!/usr/bin/env bash
# Builds the kube-apiserver that Counsel's cluster tests run against, once.
#
# The source is Debian's `kubernetes` source package (Kubernetes v1.20.2 with
# its vendor/ tree), built with Debian's Go: everything comes from the
# distribution's archive, so a fresh Debian machine or CI runner can do it.
# Result: $CACHE/bin/kube-apiserver; the path is printed on stdout.
#
# Usage: tools/kube/build-apiserver.sh [CACHE]
#   CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/kube-apiserver.
# Takes 10-20 minutes of two cores the first time; later runs return at once.
set -euo pipefail
cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-apiserver}
binary=$cache/bin/kube-apiserver
# Bumped whenever the recipe below changes what is built, so a cached binary
# from an older recipe is rebuilt.
recipe=2
if [ -x "$binary" ] && [ "$(cat "$cache/bin/recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "$binary"; exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
# Go from Debian unless one is on PATH already.
needed=(make rsync golang-github-modern-go-reflect2-dev)
command -v go >/dev/null || needed+=(golang-go)
"$here/packages.sh" "${needed[@]}"

mkdir -p "$cache/bin" "$cache/src" "$cache/apt/lists/partial"
# Source entries are derived from the machine's own binary entries and kept
# in a private apt directory, so the system's apt configuration is untouched.
sources=$cache/apt/sources.list.d
rm -rf "$sources" && mkdir -p "$sources"
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$list" ] || continue
  case $list in
    *.sources) sed -E 's/^Types:.*/Types: deb-src/' "$list" >"$sources/$(basename "$list")" ;;
    *) { grep -E '^deb ' "$list" || true; } | sed 's/^deb /deb-src /' >"$sources/$(basename "$list").list" ;;
  esac
done
apt_private=(-o Dir::State::Lists="$cache/apt/lists" -o Dir::Etc::SourceList=/dev/null
             -o Dir::Etc::SourceParts="$sources" -o Debug::NoLocking=1)
apt-get "${apt_private[@]}" update >/dev/null
if ! ls "$cache"/src/kubernetes_*.orig.tar.gz >/dev/null 2>&1; then
  (cd "$cache/src" && apt-get "${apt_private[@]}" source --download-only kubernetes >/dev/null)
fi
archive=$(ls "$cache"/src/kubernetes_*.orig.tar.gz | head -n 1)

tree=$cache/src/tree
rm -rf "$tree" && mkdir -p "$tree"
tar -xzf "$archive" -C "$tree" --strip-components=1
cd "$tree"
# The tree predates Go modules being required: it builds in GOPATH mode, from
# a GOPATH in which it is k8s.io/kubernetes. `make` (not `go build`) runs the
# code generators the API server needs (OpenAPI definitions, bindata).
# The vendored reflect2 v1.0.1 crashes under Go 1.18 and later ("fatal error:
# fault" in mapiterinit) whenever the server encodes a map through
# json-iterator, e.g. on every create of a custom resource; v1.0.2, the fix,
# is packaged by Debian.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
mkdir -p .gopath/src/k8s.io
ln -sfn ../../.. .gopath/src/k8s.io/kubernetes
log=$cache/build.log
if ! env GOPATH="$tree/.gopath" GOCACHE="$cache/gocache" GO111MODULE=off GOFLAGS= \
     CGO_ENABLED=0 HOME="$cache" make WHAT=cmd/kube-apiserver >"$log" 2>&1; then
  echo "building kube-apiserver failed; the end of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
install -m 0755 _output/local/bin/linux/amd64/kube-apiserver "$binary"
echo "$recipe" >"$cache/bin/recipe"
echo "$binary"
