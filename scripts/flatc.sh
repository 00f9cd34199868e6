#!/usr/bin/env bash
# The FlatBuffers compiler (flatc) for tests, benchmarks and examples of .fbs services.
#
#   scripts/flatc.sh install              # apt-get install flatbuffers-compiler unless flatc is there (quiet when it is)
#   scripts/flatc.sh compile OUT FILE...  # installs if need be, then writes OUT/<name>.bfbs for each FILE.fbs
#
# compile writes the binary schemas Switchyard reads (flatc --binary --schema --bfbs-builtins), so
# that a program can ship a .bfbs and run without flatc. Environment: FLATC, a flatc to use instead.
set -euo pipefail

usage() {
  echo "usage: $0 install | compile OUT FILE..." >&2
  exit 2
}

flatc_bin() {
  if [[ -n ${FLATC:-} ]]; then echo "$FLATC"; else command -v flatc || true; fi
}

flatc_install() {
  [[ -n $(flatc_bin) ]] && return 0
  echo "installing flatbuffers-compiler (apt-get)..." >&2
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" flatbuffers-compiler
  [[ -n $(flatc_bin) ]] || { echo "flatbuffers-compiler did not provide flatc" >&2; exit 1; }
}

flatc_compile() {
  local out=$1
  shift
  [[ $# -gt 0 ]] || usage
  flatc_install
  mkdir -p "$out"
  "$(flatc_bin)" --binary --schema --bfbs-builtins -o "$out" "$@"
}

case ${1:-} in
  install) flatc_install ;;
  compile) shift; [[ $# -ge 2 ]] || usage; flatc_compile "$@" ;;
  *) usage ;;
esac
