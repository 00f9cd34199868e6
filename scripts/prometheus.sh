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
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" prometheus
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
