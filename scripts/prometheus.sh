#!/usr/bin/env bash
# Installs Debian's Prometheus for the tests that scrape an admin listener with it.
#
#   scripts/prometheus.sh install   # apt-get install prometheus unless it is there; prints the binary's path
#   scripts/prometheus.sh path      # prints the prometheus binary's path; fails when it is not installed
#
# The tests start and stop their own server (test/support/prometheus.ts): installing starts none,
# since nothing starts services on this machine (policy-rc.d refuses, and there is no systemd).
set -euo pipefail

BIN=/usr/bin/prometheus

usage() {
  echo "usage: $0 install | path" >&2
  exit 2
}

prom_install() {
  if [[ -x $BIN ]]; then echo "$BIN"; return 0; fi
  echo "installing prometheus (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package may already be in apt's cache: try without refreshing the lists first, and
  # refresh them (once) only when that fails.
  if ! apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 prometheus >&2; then
    apt-get update -qq -o DPkg::Lock::Timeout=120 >&2
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 prometheus >&2
  fi
  [[ -x $BIN ]] || { echo "prometheus install did not provide $BIN" >&2; exit 1; }
  echo "$BIN"
}

prom_path() {
  [[ -x $BIN ]] || { echo "prometheus is not installed: run $0 install" >&2; exit 1; }
  echo "$BIN"
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || usage; prom_install ;;
  path) [[ $# -eq 1 ]] || usage; prom_path ;;
  *) usage ;;
esac
