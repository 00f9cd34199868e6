#!/usr/bin/env bash
# Hosts in network namespaces on one machine, for tests in which every provider, consumer and
# registry node has an address of its own and links can fail one at a time.
#
# A host is a namespace `sy-<run>-<name>` with loopback up and `eth0` at 10.77.0.<10+n>/24, whose
# veth peer `v<n>` is a port of the bridge `br0` in the run's own namespace `sy-<run>-_bridge`.
# The root namespace gets no interface, route or rule; runs never see each other's traffic, so
# parallel runs (distinct NETNS_RUN) use the same addresses without colliding.
#
#   scripts/netns.sh check                  # exit 0 when this machine can run a test bed, else say why
#   scripts/netns.sh up NAME...             # adds hosts (an existing one is kept); prints "NAME ADDRESS" each
#   scripts/netns.sh down                   # removes the run: its processes, namespaces and state; safe to repeat
#   scripts/netns.sh gc                     # removes every run whose owner process (NETNS_OWNER_PID) is gone
#   scripts/netns.sh exec HOST CMD [ARG...] # runs CMD in HOST's namespace (the pid is CMD's own)
#   scripts/netns.sh addr HOST | ns HOST | hosts
#   scripts/netns.sh dir                    # the run's state folder, removed by down: room for the run's own files
#   scripts/netns.sh netem HOST ARGS...     # tc-netem ARGS on what HOST sends, e.g. `delay 200ms` or `loss 5%`
#   scripts/netns.sh blackhole HOST         # drops every IP packet to and from HOST (no reset, no ICMP)
#   scripts/netns.sh heal HOST              # removes HOST's blackhole and netem
#
# Faults are applied in the bridge's namespace, as a switch would: the hosts' own stacks see no
# local error, only silence, delay or loss. netem uses the kernel's sch_netem on HOST's eth0 when
# the kernel has it; without it (some VM kernels), `delay D [JITTER]` and `loss P%` are emulated:
# loss by an iptables `statistic` rule, delay by an NFQUEUE reader that releases each packet after
# D (scripts/netns-delay.py, python3, run in the bridge namespace). NETNS_NETEM=tc|emulated forces one.
#
# Environment: NETNS_RUN (run id, [a-z0-9]{1,12}, default "dev"), NETNS_OWNER_PID (the process the
# run belongs to), NETNS_NETEM (auto | tc | emulated), NETNS_STATE (default /run/switchyard-netns).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${NETNS_RUN:-dev}
STATE_ROOT=${NETNS_STATE:-/run/switchyard-netns}
STATE=$STATE_ROOT/$RUN
BRIDGE_NS=sy-$RUN-_bridge
SUBNET=10.77.0

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
  exit 2
}
die() {
  echo "netns.sh: $*" >&2
  exit 1
}

[[ $RUN =~ ^[a-z0-9]{1,12}$ ]] || die "NETNS_RUN must be 1-12 characters a-z0-9, not '$RUN'"

check() {
  [[ $(id -u) == 0 ]] || { echo "the test bed needs root (network namespaces)"; return 1; }
  command -v ip >/dev/null || { echo "the test bed needs iproute2's ip"; return 1; }
  local probe=sy-check$$
  if ! ip netns add "$probe" 2>/dev/null; then echo "cannot create network namespaces"; return 1; fi
  local ok=0
  ip -n "$probe" link add br0 type bridge 2>/dev/null && ip -n "$probe" link add probe0 type veth peer name probe1 2>/dev/null || ok=1
  ip netns del "$probe"
  ((ok == 0)) || { echo "the kernel lacks bridge or veth support"; return 1; }
}

install_iptables() {
  command -v iptables >/dev/null && return 0
  echo "installing iptables (apt-get)..." >&2
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" iptables
  command -v iptables >/dev/null || die "iptables did not install"
}

# In the bridge's namespace.
br() { ip netns exec "$BRIDGE_NS" "$@"; }

host_ns() { echo "sy-$RUN-$1"; }
# The host's number, or nothing for an unknown host.
host_index() {
  [[ -f $STATE/hosts ]] || return 0
  awk -v n="$1" '$1 == n { print $2 }' "$STATE/hosts"
}
need_host() {
  local index
  index=$(host_index "$1")
  [[ -n $index ]] || die "no host '$1' in run $RUN"
  echo "$index"
}

lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock 9
}

proc_start() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }

up_bridge() {
  ip netns list | grep -qw -- "$BRIDGE_NS" && return 0
  ip netns add "$BRIDGE_NS"
  br ip link set lo up
  br ip link add br0 type bridge
  br ip link set br0 up
  # Bridged frames go through iptables: the fault rules below match on bridge ports.
  br sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  if [[ -n ${NETNS_OWNER_PID:-} ]]; then
    echo "$NETNS_OWNER_PID $(proc_start "$NETNS_OWNER_PID")" >"$STATE/owner"
  fi
}

up_host() {
  local name=$1 index ns
  [[ $name =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "host names are [a-z][a-z0-9]{0,15}, not '$name'"
  index=$(host_index "$name")
  if [[ -z $index ]]; then
    index=$(($( (awk '{ print $2 }' "$STATE/hosts" 2>/dev/null || true) | sort -n | tail -n 1) + 1))
    ((index <= 240)) || die "at most 240 hosts per run"
    echo "$name $index" >>"$STATE/hosts"
  fi
  ns=$(host_ns "$name")
  if ! ip netns list | grep -qw -- "$ns"; then
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "v$index" netns "$BRIDGE_NS"
    ip -n "$ns" addr add "$SUBNET.$((10 + index))/24" dev eth0
    ip -n "$ns" link set eth0 up
    br ip link set "v$index" master br0 up
    # One chain per fault kind and host: blackhole (both ways) and netem (what the host sends).
    br iptables -N "bh$index"
    br iptables -N "ne$index"
    br iptables -A FORWARD -m physdev --physdev-in "v$index" -j "bh$index"
    br iptables -A FORWARD -m physdev --physdev-out "v$index" --physdev-is-bridged -j "bh$index"
    br iptables -A FORWARD -m physdev --physdev-in "v$index" -j "ne$index"
  fi
  echo "$name $SUBNET.$((10 + index))"
}

up() {
  (($# > 0)) || usage
  install_iptables
  lock
  up_bridge
  local name
  for name in "$@"; do up_host "$name"; done
}

# Every namespace of the run, the bridge's last.
run_namespaces() {
  ip netns list | awk '{ print $1 }' | grep -E -- "^sy-$RUN-" | grep -v -- "-_bridge$" || true
  ip netns list | awk '{ print $1 }' | grep -x -- "$BRIDGE_NS" || true
}

kill_namespace_processes() {
  local ns=$1 pids pid
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -z $pids ]] && return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 30); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z $pids ]] && return 0
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    [[ -z $(ip netns pids "$ns" 2>/dev/null || true) ]] && return 0
    sleep 0.1
  done
}

down() {
  local ns
  for ns in $(run_namespaces); do kill_namespace_processes "$ns"; done
  for ns in $(run_namespaces); do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$STATE"
}

# Runs whose owner is gone (or whose namespaces lost their state) are removed.
gc() {
  local runs dir owner pid start
  runs=$( (ip netns list | awk '{ print $1 }' | sed -nE 's/^sy-([a-z0-9]{1,12})-.*/\1/p'; ls "$STATE_ROOT" 2>/dev/null || true) | sort -u)
  for run in $runs; do
    dir=$STATE_ROOT/$run
    if [[ -f $dir/owner ]]; then
      read -r pid start <"$dir/owner" || true
      [[ -n ${pid:-} && -n ${start:-} && $(proc_start "$pid") == "$start" ]] && continue
    elif [[ -d $dir ]]; then
      # A run without an owner was made by hand; gc leaves it.
      continue
    fi
    NETNS_RUN=$run NETNS_STATE=$STATE_ROOT bash "$0" down
  done
}

netem_mode() {
  case ${NETNS_NETEM:-auto} in
    tc | emulated) echo "$NETNS_NETEM" ;;
    auto)
      # Probed once per run on the bridge's loopback: the kernel has sch_netem or it does not.
      if [[ ! -f $STATE/netem-mode ]]; then
        if br tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
          br tc qdisc del dev lo root 2>/dev/null || true
          echo tc >"$STATE/netem-mode"
        else
          echo emulated >"$STATE/netem-mode"
        fi
      fi
      cat "$STATE/netem-mode"
      ;;
    *) die "NETNS_NETEM is auto, tc or emulated" ;;
  esac
}

# `200ms`, `0.2s`, `200` (ms) into whole milliseconds.
millis() {
  local value=$1
  case $value in
    *ms) value=${value%ms} ;;
    *us) awk -v v="${value%us}" 'BEGIN { printf "%d\n", v / 1000 }'; return ;;
    *s) awk -v v="${value%s}" 'BEGIN { printf "%d\n", v * 1000 }'; return ;;
  esac
  [[ $value =~ ^[0-9]+([.][0-9]+)?$ ]] || die "not a time: $1"
  awk -v v="$value" 'BEGIN { printf "%d\n", v }'
}


stop_delayer() {
  local index=$1 pid
  [[ -f $STATE/delay$index.pid ]] || return 0
  pid=$(cat "$STATE/delay$index.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/delay$index.pid"
}

clear_netem() {
  local host=$1 index=$2
  ip -n "$(host_ns "$host")" qdisc del dev eth0 root 2>/dev/null || true
  br iptables -F "ne$index"
  stop_delayer "$index"
}

netem() {
  local host=$1 index mode delay='' jitter=0 loss=''
  shift
  (($# > 0)) || usage
  index=$(need_host "$host")
  lock
  clear_netem "$host" "$index"
  mode=$(netem_mode)
  if [[ $mode == tc ]]; then
    ip -n "$(host_ns "$host")" qdisc replace dev eth0 root netem "$@"
    return
  fi
  while (($# > 0)); do
    case $1 in
      delay)
        delay=$(millis "${2:?delay needs a time}")
        shift 2
        if (($# > 0)) && [[ $1 =~ ^[0-9] ]]; then jitter=$(millis "$1"); shift; fi
        ;;
      loss)
        [[ ${2:-} =~ ^([0-9]+([.][0-9]+)?)%$ ]] || die "loss takes a percentage, e.g. 5%"
        loss=${BASH_REMATCH[1]}
        shift 2
        ;;
      *) die "without sch_netem only 'delay D [JITTER]' and 'loss P%' are emulated, not '$1'" ;;
    esac
  done
  if [[ -n $loss ]]; then
    br iptables -A "ne$index" -m statistic --mode random --probability "$(awk -v p="$loss" 'BEGIN { print p / 100 }')" -j DROP
  fi
  if [[ -n $delay ]]; then
    command -v python3 >/dev/null || die "without sch_netem, netem delay is emulated with python3, which is missing"
    local out=$STATE/delay$index.out
    : >"$out"
    # setsid: the reader outlives this script and is no child of the caller's process group.
    # 9>&-: the reader must not hold the run's lock.
    setsid ip netns exec "$BRIDGE_NS" python3 -u "$HERE/netns-delay.py" "$index" "$delay" "$jitter" >"$out" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/delay$index.pid"
    for _ in $(seq 1 100); do
      grep -q bound "$out" && break
      kill -0 "$(cat "$STATE/delay$index.pid")" 2>/dev/null || die "the delay emulation did not start: $(cat "$out")"
      sleep 0.05
    done
    grep -q bound "$out" || die "the delay emulation did not start within 5 s"
    # --queue-bypass: were the reader to die, packets would pass undelayed rather than be lost.
    br iptables -A "ne$index" -j NFQUEUE --queue-num "$index" --queue-bypass
  fi
}

blackhole() {
  local index
  index=$(need_host "$1")
  lock
  br iptables -F "bh$index"
  br iptables -A "bh$index" -j DROP
}

heal() {
  local index
  index=$(need_host "$1")
  lock
  br iptables -F "bh$index"
  clear_netem "$1" "$index"
}

cmd=${1:-}
(($# > 0)) && shift
case $cmd in
  check) check ;;
  up) up "$@" ;;
  down) (($# == 0)) || usage; down ;;
  gc) (($# == 0)) || usage; gc ;;
  exec)
    (($# >= 2)) || usage
    need_host "$1" >/dev/null
    ns=$(host_ns "$1")
    shift
    exec ip netns exec "$ns" "$@"
    ;;
  addr)
    (($# == 1)) || usage
    index=$(need_host "$1")
    echo "$SUBNET.$((10 + index))"
    ;;
  ns) (($# == 1)) || usage; need_host "$1" >/dev/null; host_ns "$1" ;;
  dir) (($# == 0)) || usage; mkdir -p "$STATE"; echo "$STATE" ;;
  hosts) [[ ! -f $STATE/hosts ]] || awk -v s="$SUBNET" '{ print $1, s "." 10 + $2 }' "$STATE/hosts" ;;
  netem) (($# >= 2)) || usage; netem "$@" ;;
  blackhole) (($# == 1)) || usage; blackhole "$1" ;;
  heal) (($# == 1)) || usage; heal "$1" ;;
  *) usage ;;
esac
