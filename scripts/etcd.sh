#!/usr/bin/env bash
# Installs, starts and stops throw-away etcd servers on loopback for tests: one member, or a
# cluster of members that each keep their data in a folder of their own.
#
#   scripts/etcd.sh install                                  # apt-get install etcd-server unless it is there
#   scripts/etcd.sh start DIR CLIENT_PORT [PEER_PORT]        # one-member cluster, data in DIR; prints the pid
#   scripts/etcd.sh start-cluster DIR CLIENT_PORTS PEER_PORTS
#                                                            # members m1, m2… (ports comma-separated, one per
#                                                            # member), data in DIR/m1, DIR/m2…; prints their pids
#   scripts/etcd.sh restart-member MEMBER_DIR                # starts a stopped (or killed) member again on its data
#                                                            # (DIR of `start`, or DIR/mN of `start-cluster`), with
#                                                            # the same ports; waits until healthy; prints the pid
#   scripts/etcd.sh stop DIR                                 # stops every member started in DIR (or DIR/m*) and
#                                                            # waits for each to exit
#
# Environment: ETCD_READY_TIMEOUT_S (default 20), ETCD_HEARTBEAT_MS (default 100),
# ETCD_ELECTION_MS (default 1000).
set -euo pipefail

usage() {
  echo "usage: $0 install | start DIR CLIENT_PORT [PEER_PORT] | start-cluster DIR CLIENT_PORTS PEER_PORTS | restart-member MEMBER_DIR | stop DIR" >&2
  exit 2
}

etcd_install() {
  command -v etcd >/dev/null && return 0
  echo "installing etcd-server (apt-get)..." >&2
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" etcd-server
  command -v etcd >/dev/null || { echo "etcd-server install did not provide etcd" >&2; exit 1; }
}

# True while the process runs; an exited process that its parent has not reaped yet counts as gone.
etcd_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# Succeeds once the member answers /health with true: it serves requests and its cluster has a leader.
etcd_ready() {
  local port=$1 reply
  reply=$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3" 2>/dev/null) || true
  [[ $reply == *'"health":"true"'* ]]
}

check_port() {
  [[ $1 =~ ^[0-9]+$ ]] || usage
}

# Launches one member in the background from the settings written in DIR/member.env; prints nothing.
launch() {
  local dir=$1
  # shellcheck source=/dev/null
  source "$dir/member.env"
  if [[ -f $dir/etcd.pid ]] && etcd_alive "$(cat "$dir/etcd.pid")"; then
    echo "an etcd started in $dir is still running (pid $(cat "$dir/etcd.pid"))" >&2
    exit 1
  fi
  local state=new
  # A member that has data rejoins its cluster; the initial cluster settings are then ignored.
  [[ -d $dir/data/member ]] && state=existing
  # No ETCD_* variable of the caller may reach etcd: it reads them as flags.
  local unset=() variable
  for variable in $(compgen -e); do
    [[ $variable == ETCD_* ]] && unset+=(-u "$variable")
  done
  env "${unset[@]}" \
    etcd --name "$NAME" --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "$CLUSTER" --initial-cluster-state "$state" --initial-cluster-token "$TOKEN" \
    --heartbeat-interval "${ETCD_HEARTBEAT_MS:-100}" --election-timeout "${ETCD_ELECTION_MS:-1000}" \
    --logger zap --log-outputs stderr \
    >>"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
}

# Waits until the member of DIR is ready; on failure stops it and shows its log.
await_ready() {
  local dir=$1 pid
  # shellcheck source=/dev/null
  source "$dir/member.env"
  pid=$(cat "$dir/etcd.pid")
  local deadline=$((SECONDS + ${ETCD_READY_TIMEOUT_S:-20}))
  until etcd_ready "$CLIENT_PORT"; do
    if ! etcd_alive "$pid"; then
      echo "etcd $NAME exited during start; last log lines:" >&2
      tail -n 20 "$dir/etcd.log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "etcd $NAME not ready on 127.0.0.1:$CLIENT_PORT after ${ETCD_READY_TIMEOUT_S:-20} s; last log lines:" >&2
      tail -n 20 "$dir/etcd.log" >&2 || true
      kill -TERM "$pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.1
  done
}

# Writes a member's settings into its folder, so that restart-member can start it again alike.
configure() {
  local dir=$1 name=$2 client_port=$3 peer_port=$4 cluster=$5 token=$6
  mkdir -p "$dir"
  printf 'NAME=%q\nCLIENT_PORT=%q\nPEER_PORT=%q\nCLUSTER=%q\nTOKEN=%q\n' "$name" "$client_port" "$peer_port" "$cluster" "$token" >"$dir/member.env"
}

etcd_start() {
  local dir=$1 client_port=$2 peer_port=${3:-}
  check_port "$client_port"
  command -v etcd >/dev/null || { echo "etcd is not installed: run $0 install" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Without a peer port, one next to the client port: a single member never talks to peers.
  [[ -n $peer_port ]] || peer_port=$((client_port + 1))
  check_port "$peer_port"
  configure "$dir" solo "$client_port" "$peer_port" "solo=http://127.0.0.1:$peer_port" "solo-$client_port"
  launch "$dir"
  await_ready "$dir"
  cat "$dir/etcd.pid"
}

etcd_start_cluster() {
  local dir=$1 clients peers
  IFS=, read -r -a clients <<<"$2"
  IFS=, read -r -a peers <<<"$3"
  ((${#clients[@]} > 0 && ${#clients[@]} == ${#peers[@]})) || usage
  command -v etcd >/dev/null || { echo "etcd is not installed: run $0 install" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local cluster="" i
  for i in "${!clients[@]}"; do
    check_port "${clients[$i]}"
    check_port "${peers[$i]}"
    cluster+="${cluster:+,}m$((i + 1))=http://127.0.0.1:${peers[$i]}"
  done
  for i in "${!clients[@]}"; do
    configure "$dir/m$((i + 1))" "m$((i + 1))" "${clients[$i]}" "${peers[$i]}" "$cluster" "cluster-${clients[0]}"
    launch "$dir/m$((i + 1))"
  done
  # Each member waits for the others before it is healthy: start them all, then wait.
  for i in "${!clients[@]}"; do
    await_ready "$dir/m$((i + 1))"
  done
  for i in "${!clients[@]}"; do
    cat "$dir/m$((i + 1))/etcd.pid"
  done
}

etcd_restart_member() {
  local dir=$1
  [[ -f $dir/member.env ]] || { echo "no member was started in $dir" >&2; exit 1; }
  dir=$(cd "$dir" && pwd)
  launch "$dir"
  await_ready "$dir"
  cat "$dir/etcd.pid"
}

# Stops the member of DIR: SIGTERM, then SIGKILL if it has not exited after GRACE tenths of a second.
stop_one() {
  local dir=$1 grace=$2 pid
  [[ -f $dir/etcd.pid ]] || return 0
  pid=$(cat "$dir/etcd.pid")
  if etcd_alive "$pid" && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 "$grace"); do
      etcd_alive "$pid" || break
      sleep 0.1
    done
    if etcd_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        etcd_alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$dir/etcd.pid"
}

etcd_stop() {
  local dir=$1 member
  [[ -d $dir ]] || return 0
  stop_one "$dir" 100
  # Members stop side by side. The last leader standing tries to hand its leadership over to
  # members already gone, for up to 7 s; a throw-away cluster need not wait for that.
  for member in "$dir"/m*/; do
    [[ -d $member ]] && stop_one "${member%/}" 10 &
  done
  wait
  return 0
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || usage; etcd_install ;;
  start) [[ $# -eq 3 || $# -eq 4 ]] || usage; etcd_start "$2" "$3" "${4:-}" ;;
  start-cluster) [[ $# -eq 4 ]] || usage; etcd_start_cluster "$2" "$3" "$4" ;;
  restart-member) [[ $# -eq 2 ]] || usage; etcd_restart_member "$2" ;;
  stop) [[ $# -eq 2 ]] || usage; etcd_stop "$2" ;;
  *) usage ;;
esac
