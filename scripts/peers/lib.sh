# Shared by the scripts in scripts/peers/ (sourced, not run). The stdout protocol every peer
# script follows (docs/peers.md):
#   READY key=value ...     once, when the peer is listening / the capture is running
#   CALL key=value ...      sipp scripts: one line per finished call
#   RESULT key=value ...    once, at the end (sipp: successful=N failed=M)
#   FAIL <script>: <why>    on failure (also on stderr), exit status non-zero
# Everything else (progress, tool output) goes to stderr or to files in the log directory.

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$PEERS_DIR/../.." && pwd)
FIXTURES_DIR=$REPO_DIR/Tests/EngineInteropTests/Fixtures
PYTHON=${PYTHON:-python3}

log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "$SELF" "$*" >&2; }
fail() {
  echo "FAIL $SELF: $*"
  [ -t 1 ] || echo "FAIL $SELF: $*" >&2
  exit 1
}
usage_error() { echo "FAIL $SELF: $* (see $SELF --help)"; exit 2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# prints the comment block at the top of the calling script (its documented contract)
print_usage() { sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0; }

# need CMD PACKAGE: fail with a clear message when a tool is missing
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found (Debian package $2): run scripts/install-test-deps"; }

# re-run this script as root through sudo when not root (netns, capture)
ensure_root() {
  [ "$(id -u)" = 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || fail "needs root (and sudo is not installed)"
  exec sudo -n -E "$0" "$@"
}

# wait_listen u|t IP PORT TIMEOUT_S [NETNS] -> 0 when something listens on IP:PORT
wait_listen() {
  local i n=$(( $4 * 10 )) nsx=()
  [ -n "${5:-}" ] && nsx=(ip netns exec "$5")
  for ((i = 0; i < n; i++)); do
    "${nsx[@]}" ss -Hln"$1" "src $2:$3" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# port_busy u|t IP PORT [NETNS] -> 0 when the port is already taken
port_busy() {
  local nsx=(); [ -n "${4:-}" ] && nsx=(ip netns exec "$4")
  "${nsx[@]}" ss -Hln"$1" "src $2:$3" 2>/dev/null | grep -q .
}

# LOGDIR: the given --logdir (created), or a new directory under /tmp that is kept
setup_logdir() {
  if [ -z "${LOGDIR:-}" ]; then LOGDIR=$(mktemp -d "/tmp/earshot-peers-$SELF.XXXXXX"); fi
  mkdir -p "$LOGDIR" || fail "cannot create log directory $LOGDIR"
  LOGDIR=$(cd "$LOGDIR" && pwd)
}

# Prefix for every tool the scripts start: the tool gets SIGTERM when the script dies, even by
# SIGKILL (which no trap sees), so a killed script leaves no sipp/kamailio/baresip/tshark behind.
GUARD=() ; command -v setpriv >/dev/null 2>&1 && GUARD=(setpriv --pdeathsig TERM)

# Child processes started by the script; stop_children sends TERM, then KILL after 3 s.
CHILDREN=()
stop_children() {
  local p i
  for p in "${CHILDREN[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 30); do
    local alive=0
    for p in "${CHILDREN[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${CHILDREN[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${CHILDREN[@]}"; do wait "$p" 2>/dev/null; done
  CHILDREN=()
}

# STOP is set by SIGTERM/SIGINT; supervise loops check it. The EXIT trap always stops children.
STOP=0
PARENT_PID=$PPID
install_traps() {
  trap 'STOP=1' TERM INT HUP
  trap 'stop_children; [ "$(type -t on_exit)" = function ] && on_exit' EXIT
}

# supervise PID MAX_SECONDS: returns when PID exits (status in SUPERVISE_RC), on SIGTERM/SIGINT
# (SUPERVISE_WHY=signal), when the process that started us is gone (parent: we were re-parented;
# a crashed test leaves no peer behind; PEERS_NO_PARENT_WATCH=1 turns this off), or after MAX_SECONDS
# (0 = no limit; timeout). SUPERVISE_WHY=exited when the child ended by itself. A function
# on_tick, if defined, runs every 0.2 s; when it returns non-zero, SUPERVISE_WHY=done.
supervise() {
  local pid=$1 max=$2 t0 ; t0=$(date +%s)
  SUPERVISE_WHY=exited; SUPERVISE_RC=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(type -t on_tick)" = function ] && ! on_tick; then SUPERVISE_WHY=done; return 0; fi
    if [ $STOP = 1 ]; then SUPERVISE_WHY=signal; return 0; fi
    if [ "${PEERS_NO_PARENT_WATCH:-0}" != 1 ] && [ "$(cut -d' ' -f4 /proc/$$/stat)" != "$PARENT_PID" ]; then
      SUPERVISE_WHY=parent; return 0
    fi
    if [ "$max" -gt 0 ] && [ $(( $(date +%s) - t0 )) -ge "$max" ]; then SUPERVISE_WHY=timeout; return 0; fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null; SUPERVISE_RC=$?
  [ "$(type -t on_tick)" = function ] && on_tick
  return 0
}

# ---------------------------------------------------------------- sipp helpers
# sipp_result STATFILE -> "successful=N failed=M" from the last line of sipp's -trace_stat CSV
# (the cumulative SuccessfulCall(C) and FailedCall(C) columns); "successful=0 failed=0" if absent.
sipp_result() {
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i; if ($i == "FailedCall(C)") f = i } }
             NR > 1 { ok = $s; bad = $f }
             END { printf "successful=%d failed=%d\n", ok, bad }' "$1" 2>/dev/null || echo "successful=0 failed=0"
}

# sipp_register NAME TARGET LISTEN PORT TRANSPORT(udp|tcp) USER PASS DOMAIN EXPIRES [NETNS]
# One REGISTER with digest from LISTEN:PORT (so the contact is that address). Files: LOGDIR/NAME.*
sipp_register() {
  local name=$1 target=$2 listen=$3 port=$4 tr=$5 user=$6 pass=$7 domain=$8 expires=$9 nsx=()
  [ -n "${10:-}" ] && nsx=(ip netns exec "${10}")
  local tflag=u1; [ "$tr" = tcp ] && tflag=t1
  ( cd "$LOGDIR" && exec "${nsx[@]}" "${GUARD[@]}" timeout 30 sipp "$target" -sf "$PEERS_DIR/sipp/register.xml" \
      -i "$listen" -p "$port" -t "$tflag" -s "$user" -au "$user" -ap "$pass" -key domain "$domain" \
      -key expires "$expires" -key contact_host "$listen:$port" -m 1 -nostdin -timeout 20s -timeout_error \
      -recv_timeout 10000 -trace_logs -log_file "$LOGDIR/$name.log" -trace_err -error_file "$LOGDIR/$name.err" \
      -trace_msg -message_file "$LOGDIR/$name.msg" -trace_stat -stf "$LOGDIR/$name-stat.csv" >"$LOGDIR/$name.out" 2>&1 )
}

# sipp_numbers: on stdin, sipp log values "=5.000000" -> "=5" and an empty value (sipp prints a
# variable that is 0 as nothing) -> "=0"
sipp_numbers() { sed -E -e 's/=([0-9]+)\.0+( |$)/=\1\2/g' -e 's/=( |$)/=0\1/g' -e 's/=( |$)/=0\1/g'; }

# free_port u|t [NETNS] -> a free port for ports the caller did not choose; for UDP an even port P
# with P+1..P+3 free too (RTCP; sipp also binds P+2 for video)
free_port() {
  local nsx=(); [ -n "${2:-}" ] && nsx=(ip netns exec "$2")
  local p
  p=$("${nsx[@]}" "$PYTHON" - "$1" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "u" else socket.SOCK_STREAM
def free(p):
    try:
        s = socket.socket(socket.AF_INET, kind); s.bind(("0.0.0.0", p)); s.close(); return True
    except OSError:
        return False
for _ in range(500):
    s = socket.socket(socket.AF_INET, kind); s.bind(("0.0.0.0", 0)); p = s.getsockname()[1]; s.close()
    if sys.argv[1] == "t" and p < 65530:  # Linux hands out odd ports to bind(0) for TCP
        print(p); break
    if p % 2 == 0 and p < 65530 and free(p + 1) and free(p + 2) and free(p + 3):
        print(p); break
PY
)
  [[ "$p" =~ ^[0-9]+$ ]] || fail "could not find a free port"
  echo "$p"
}
