#!/usr/bin/env bash
# Installs Debian packages for the project's scripts, one installer at a time.
#
#   scripts/apt-install.sh PACKAGE...
#
# Test files run two at a time, and on a fresh machine two of them may need a package at once:
# apt refuses the second while the first holds its locks. So installers queue on a lock of their
# own, and wait for apt's locks besides (another program may hold them). The package lists are
# refreshed only when an install from the cached lists fails.
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
exec 9>/var/lock/switchyard-apt.lock
flock 9
wait_locks=(-o DPkg::Lock::Timeout=300)
if ! apt-get install "${wait_locks[@]}" -y -qq --no-install-recommends "$@" >&2 2>/dev/null; then
  apt-get update "${wait_locks[@]}" -qq >&2
  apt-get install "${wait_locks[@]}" -y -qq --no-install-recommends "$@" >&2
fi
