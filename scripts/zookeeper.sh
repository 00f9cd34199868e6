#!/usr/bin/env bash
# Installs, starts and stops a throw-away standalone ZooKeeper for tests.
#
#   scripts/zookeeper.sh install          # apt-get install zookeeper unless it is there (quiet when it is)
#   scripts/zookeeper.sh start DIR PORT   # config + data in DIR, listens on 127.0.0.1:PORT; prints the pid
#   scripts/zookeeper.sh stop DIR         # stops the server started in DIR and waits for it to exit
#
# Environment: ZK_TICK_MS (default 500), ZK_READY_TIMEOUT_S (default 20).
set -euo pipefail

JAR=/usr/share/java/zookeeper.jar
CLASSPATH_ZK="/etc/zookeeper/conf:$JAR:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

usage() {
  echo "usage: $0 install | start DIR PORT | stop DIR" >&2
  exit 2
}

zk_install() {
  [[ -f $JAR ]] && return 0
  echo "installing zookeeper (apt-get)..." >&2
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" zookeeper
  [[ -f $JAR ]] || { echo "zookeeper install did not provide $JAR" >&2; exit 1; }
}

# Sends the `srvr` four-letter word; succeeds when the server answers as a standalone server.
zk_ready() {
  local port=$1 reply
  reply=$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf srvr >&3 && cat <&3" 2>/dev/null) || true
  [[ $reply == *"Mode: standalone"* ]]
}

zk_start() {
  local dir=$1 port=$2
  [[ $port =~ ^[0-9]+$ ]] || usage
  [[ -f $JAR ]] || { echo "zookeeper is not installed: run $0 install" >&2; exit 1; }
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/zookeeper.pid ]] && zk_alive "$(cat "$dir/zookeeper.pid")"; then
    echo "a zookeeper started in $dir is still running (pid $(cat "$dir/zookeeper.pid"))" >&2
    exit 1
  fi
  cat >"$dir/zoo.cfg" <<CFG
tickTime=${ZK_TICK_MS:-500}
dataDir=$dir/data
clientPortAddress=127.0.0.1
clientPort=$port
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr
CFG
  # Started directly (not zkServer.sh): no JMX port, no sleeps, and a log4j binding so it logs.
  java -Xmx512m -Dzookeeper.log.dir="$dir" -Dzookeeper.root.logger=INFO,CONSOLE -Dzookeeper.jmx.log4j.disable=true \
    -cp "$CLASSPATH_ZK" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >>"$dir/zookeeper.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/zookeeper.pid"
  local deadline=$((SECONDS + ${ZK_READY_TIMEOUT_S:-20}))
  until zk_ready "$port"; do
    if ! zk_alive "$pid"; then
      echo "zookeeper exited during start; last log lines:" >&2
      tail -n 20 "$dir/zookeeper.log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "zookeeper not ready on 127.0.0.1:$port after ${ZK_READY_TIMEOUT_S:-20} s" >&2
      kill -TERM "$pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.1
  done
  echo "$pid"
}

# True while the process runs; an exited process that its parent has not reaped yet counts as gone.
zk_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

zk_stop() {
  local dir=$1 pid
  [[ -f $dir/zookeeper.pid ]] || return 0
  pid=$(cat "$dir/zookeeper.pid")
  if zk_alive "$pid" && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do
      zk_alive "$pid" || break
      sleep 0.1
    done
    if zk_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        zk_alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$dir/zookeeper.pid"
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || usage; zk_install ;;
  start) [[ $# -eq 3 ]] || usage; zk_start "$2" "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; zk_stop "$2" ;;
  *) usage ;;
esac
