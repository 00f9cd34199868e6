#!/usr/bin/env bash
# A throw-away ZooKeeper ensemble for tests: one server per member, each at an address of its own,
# in a network namespace of its own (scripts/netns.sh) or in this one at distinct loopback addresses.
#
#   scripts/zookeeper-ensemble.sh install               # as scripts/zookeeper.sh install
#   scripts/zookeeper-ensemble.sh start DIR MEMBER...   # MEMBER = NAMESPACE:ADDRESS (NAMESPACE "-": this one);
#                                                       # waits for a leader and followers; prints "ID ADDRESS PID" each
#   scripts/zookeeper-ensemble.sh status DIR            # "ID ADDRESS MODE" each; MODE leader|follower|down|not-serving
#   scripts/zookeeper-ensemble.sh wait DIR              # until every running server serves, under one leader
#   scripts/zookeeper-ensemble.sh kill DIR ID [SIGNAL]  # signals one server (default KILL) and waits for its exit
#   scripts/zookeeper-ensemble.sh start-node DIR ID     # starts one server again on its data; waits until it serves
#   scripts/zookeeper-ensemble.sh cons DIR ID           # the server's `cons`: its client connections and sessions
#   scripts/zookeeper-ensemble.sh stop DIR              # stops every server (TERM, then KILL); keeps DIR
#
# Server N (1-based, in MEMBER order) keeps config, data, log and pid in DIR/N. Clients connect to
# ADDRESS:ZK_CLIENT_PORT; servers talk on ADDRESS:2888 (followers to leader) and ADDRESS:3888 (election).
# The four-letter words srvr, cons and mntr are allowed.
#
# Environment: ZK_TICK_MS (default 500: sessions of 1-10 s), ZK_CLIENT_PORT (default 2181),
# ZK_READY_TIMEOUT_S (default 30), ZK_HEAP (default 256m), ZK_MAX_NOTIFICATION_MS (default 1000,
# ZooKeeper's own 60000: see launch), ZK_KEEP_LOGS (a folder: `stop` copies each server's log there
# as <DIR's name>-<ID>.log, to look at the elections after the run).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
JAR=/usr/share/java/zookeeper.jar
CLASSPATH_ZK="/etc/zookeeper/conf:$JAR:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
PORT=${ZK_CLIENT_PORT:-2181}
READY_TIMEOUT_S=${ZK_READY_TIMEOUT_S:-30}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
  exit 2
}
die() {
  echo "zookeeper-ensemble.sh: $*" >&2
  exit 1
}

# "ID NAMESPACE ADDRESS" per member.
members() {
  [[ -f $1/members ]] || die "no ensemble in $1"
  cat "$1/members"
}
member() {
  local line
  line=$(awk -v id="$2" '$1 == id' "$1/members" 2>/dev/null)
  [[ -n $line ]] || die "no server $2 in the ensemble of $1"
  echo "$line"
}

in_ns() {
  local ns=$1
  shift
  if [[ $ns == - ]]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# True while the process runs; an exited process that its parent has not reaped yet counts as gone.
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

running_pid() {
  local pid
  [[ -f $1/zookeeper.pid ]] || return 1
  pid=$(cat "$1/zookeeper.pid")
  alive "$pid" && echo "$pid"
}

# A four-letter word, answered from within the server's namespace; at most 1 s.
four_letters() {
  local ns=$1 address=$2 word=$3
  in_ns "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$address/$PORT && printf $word >&3 && cat <&3" 2>/dev/null || true
}

mode_of() {
  local dir=$1 id=$2 ns address reply
  read -r _ ns address < <(member "$dir" "$id")
  if ! running_pid "$dir/$id" >/dev/null; then
    echo down
    return
  fi
  reply=$(four_letters "$ns" "$address" srvr)
  case $reply in
    *"Mode: leader"*) echo leader ;;
    *"Mode: follower"*) echo follower ;;
    *) echo not-serving ;;
  esac
}

write_config() {
  local dir=$1 id=$2 address=$3 node=$1/$2 line
  mkdir -p "$node/data"
  echo "$id" >"$node/data/myid"
  {
    echo "tickTime=${ZK_TICK_MS:-500}"
    # Followers have 5 s to sync with a new leader, and are dropped after 2 s of silence.
    echo "initLimit=10"
    echo "syncLimit=4"
    echo "dataDir=$node/data"
    echo "clientPortAddress=$address"
    echo "clientPort=$PORT"
    echo "maxClientCnxns=0"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=srvr,cons,mntr"
    while read -r line; do
      set -- $line
      echo "server.$1=$3:2888:3888"
    done <"$dir/members"
  } >"$node/zoo.cfg"
}

launch() {
  local dir=$1 id=$2 ns address node=$1/$2
  read -r _ ns address < <(member "$dir" "$id")
  if running_pid "$node" >/dev/null; then die "server $id of $dir is running already"; fi
  local enter=()
  [[ $ns == - ]] || enter=(ip netns exec "$ns")
  # A simple command (no function, no subshell), so that $! is the server's own pid: ip execs java.
  # cnxTimeout: an election should not wait 5 s on a peer that does not answer (a partitioned one).
  # maxNotificationInterval: a server in an election that has heard no vote within its wait sends
  # its own again (or reconnects), the wait starting at 200 ms and doubling, up to 60 s by default.
  # A vote lost between the two servers left (their connection broken or being made again as the
  # leader dies) is then sent again at the next of 0.2, 0.6, 1.4, 3.0, 6.2, 12.6 s... into the
  # election. At most 1 s apart, the retries cost a few small messages a second, during elections only.
  "${enter[@]}" java "-Xmx${ZK_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dzookeeper.log.dir="$node" -Dzookeeper.root.logger=INFO,CONSOLE -Dzookeeper.jmx.log4j.disable=true \
    -Dzookeeper.cnxTimeout=1000 -Dzookeeper.fastleader.maxNotificationInterval="${ZK_MAX_NOTIFICATION_MS:-1000}" \
    -cp "$CLASSPATH_ZK" org.apache.zookeeper.server.quorum.QuorumPeerMain "$node/zoo.cfg" \
    >>"$node/zookeeper.log" 2>&1 </dev/null &
  echo $! >"$node/zookeeper.pid"
}

# "ID MODE" per member, the servers asked at once.
modes() {
  local dir=$1 id
  while read -r id _ _; do
    { echo "$id $(mode_of "$dir" "$id")"; } &
  done < <(members "$dir")
  wait
}

# Until every running server (or the ones named) serves, with exactly one leader among them.
wait_serving() {
  local dir=$1 deadline=$((SECONDS + READY_TIMEOUT_S)) id mode modes leaders pending
  while :; do
    leaders=0 pending=0 modes=''
    while read -r id mode; do
      modes+=" $id:$mode"
      case $mode in
        leader) leaders=$((leaders + 1)) ;;
        follower) ;;
        down) ;;
        *) pending=$((pending + 1)) ;;
      esac
    done < <(modes "$dir")
    ((leaders == 1 && pending == 0)) && return 0
    if ((SECONDS >= deadline)); then
      echo "the ensemble in $dir has no single leader serving with its followers after $READY_TIMEOUT_S s:$modes" >&2
      return 1
    fi
    sleep 0.2
  done
}

start() {
  local dir=$1 id=0 spec ns address
  shift
  (($# >= 1)) || usage
  [[ -f $JAR ]] || die "zookeeper is not installed: run $0 install"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  : >"$dir/members"
  for spec in "$@"; do
    [[ $spec == *:* ]] || die "a member is NAMESPACE:ADDRESS, not '$spec'"
    id=$((id + 1))
    echo "$id ${spec%%:*} ${spec#*:}" >>"$dir/members"
  done
  while read -r id ns address; do write_config "$dir" "$id" "$address"; done <"$dir/members"
  while read -r id _ _; do launch "$dir" "$id"; done <"$dir/members"
  if ! wait_serving "$dir"; then
    while read -r id _ _; do
      echo "--- server $id, last log lines:" >&2
      tail -n 15 "$dir/$id/zookeeper.log" >&2 || true
    done <"$dir/members"
    stop "$dir"
    exit 1
  fi
  while read -r id _ address; do echo "$id $address $(cat "$dir/$id/zookeeper.pid")"; done <"$dir/members"
}

start_node() {
  local dir=$1 id=$2
  member "$dir" "$id" >/dev/null
  launch "$dir" "$id"
  wait_serving "$dir"
  cat "$dir/$id/zookeeper.pid"
}

signal() {
  local dir=$1 id=$2 sig=${3:-KILL} pid
  member "$dir" "$id" >/dev/null
  pid=$(running_pid "$dir/$id") || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive "$pid" || return 0
    sleep 0.05
  done
  die "server $id (pid $pid) did not exit on SIG$sig"
}

status() {
  local dir=$1 id address
  join <(members "$dir" | awk '{ print $1, $3 }' | sort) <(modes "$dir" | sort) | sort -n
}

stop() {
  local dir=$1 id pid
  [[ -f $dir/members ]] || return 0
  while read -r id _ _; do
    pid=$(running_pid "$dir/$id") && kill -TERM "$pid" 2>/dev/null || true
  done <"$dir/members"
  while read -r id _ _; do
    pid=$(running_pid "$dir/$id") || continue
    for _ in $(seq 1 100); do
      alive "$pid" || break
      sleep 0.05
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      alive "$pid" || break
      sleep 0.05
    done
  done <"$dir/members"
  while read -r id _ _; do rm -f "$dir/$id/zookeeper.pid"; done <"$dir/members"
  if [[ -n ${ZK_KEEP_LOGS:-} ]]; then
    mkdir -p "$ZK_KEEP_LOGS"
    while read -r id _ _; do
      [[ -f $dir/$id/zookeeper.log ]] && cp "$dir/$id/zookeeper.log" "$ZK_KEEP_LOGS/$(basename "$dir")-$id.log"
    done <"$dir/members"
  fi
  return 0
}

cmd=${1:-}
(($# > 0)) && shift
case $cmd in
  install) (($# == 0)) || usage; exec bash "$HERE/zookeeper.sh" install ;;
  start) (($# >= 2)) || usage; start "$@" ;;
  status) (($# == 1)) || usage; status "$1" ;;
  wait) (($# == 1)) || usage; wait_serving "$1" ;;
  kill) (($# == 2 || $# == 3)) || usage; signal "$@" ;;
  start-node) (($# == 2)) || usage; start_node "$1" "$2" ;;
  cons)
    (($# == 2)) || usage
    read -r _ ns address < <(member "$1" "$2")
    four_letters "$ns" "$address" cons
    ;;
  stop) (($# == 1)) || usage; stop "$1" ;;
  *) usage ;;
esac
