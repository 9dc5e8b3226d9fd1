#!/usr/bin/env bash
# bench/serve/e2e.sh: `spamwarden serve` end to end on a real Exim (testing/eximlab, Debian's exim4).
# As root; called by bench/serve/run.sh, or alone. Results in bench/out/serve-e2e.txt.
#
#   bench/serve/e2e.sh [--dur S] [--messages N] [--rounds R] [--clients K] [--per-session M]
#                      [--spool disk|tmpfs|both] [--burst N] [--keep]
#
# 1. Throughput: private labs side by side, one plain and one with every serve snippet of
#    contrib/exim/serve (connect, helo, mail, rcpt, predata, data) and serve on its Unix socket.
#    smtpload sends inbound mail (an outside client, 127.0.0.20, to sink@lab.example, a
#    :blackhole: router) to each in turn, R rounds of at most N messages / S seconds, the order
#    alternating per round; a third lab has the snippets against dunnod, a do-nothing server:
#    Exim's own share of the snippets' cost. Reported: messages/s (median of the rounds), per-message latency,
#    the cost of the snippets in %, and CPU µs per message of the Exim processes and of serve
#    (each started in its own cpuacct cgroup, so every forked Exim process is counted; read
#    after the deliveries settled). The spool is on disk (Exim fsyncs every message, as in
#    production) and, with --spool tmpfs|both, on tmpfs (no fsync wait: Exim is CPU-bound,
#    the worst case for the snippets' share).
# 2. Containment: an SMTP-AUTH account sends BURST messages (4 sessions, as fast as they go) to
#    outside addresses (the lab's "internet" instance on 127.0.0.2 discards them); the messages
#    Exim accepted from it (main log "<=" lines) against serve's limit, and the time from the
#    first message to the first refusal (the hold).
# Everything listens on 127.0.0.0/8 or a Unix socket in the work dir; nothing is sent anywhere
# else. Only processes this script started are stopped (by PID, and the labs by their recorded
# PIDs); the work dir and the cgroups are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${SW_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SW=$BUILD/spamwarden SMTPLOAD=$BUILD/bench/serve/smtpload DUNNOD=$BUILD/bench/serve/dunnod
LAB=$ROOT/testing/eximlab/eximlab.sh
DUR=15 MESSAGES=3000 ROUNDS=3 CLIENTS=16 PER_SESSION=1 SPOOLS=both BURST=200 KEEP=0
while (($#)); do
  case $1 in
    --dur) DUR=$2; shift 2 ;;
    --messages) MESSAGES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --per-session) PER_SESSION=$2; shift 2 ;;
    --spool) SPOOLS=$2; shift 2 ;;
    --burst) BURST=$2; shift 2 ;;   # 0: skip the containment burst
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $SPOOLS in disk) SPOOLS=(disk) ;; tmpfs) SPOOLS=(tmpfs) ;; both) SPOOLS=(disk tmpfs) ;;
  *) echo "e2e.sh: --spool disk|tmpfs|both" >&2; exit 2 ;; esac
[[ $(id -u) -eq 0 ]] || { echo "e2e.sh: run as root" >&2; exit 2; }
for b in "$SW" "$SMTPLOAD"; do
  [[ -x $b ]] || { echo "e2e.sh: build first: ninja -C $BUILD spamwarden smtpload" >&2; exit 2; }
done
[[ -x /usr/sbin/exim4 ]] || { echo "e2e.sh: skipped (no /usr/sbin/exim4)"; exit 0; }

OUT=$ROOT/bench/out
mkdir -p "$OUT"
RESULTS=$OUT/serve-e2e.txt
WORKS=()        # work dirs (one on disk, one on tmpfs), removed on exit
LABS=()         # lab dirs started, stopped on exit
SERVE_PIDS=()   # serve daemons started, stopped on exit
CGROUP=""       # cpuacct cgroup parent of this run, removed on exit
SERVE_IDLE_NS_S=0

stop_pid() {  # TERM, then KILL after 5 s, one PID we started
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid lab w cg i
  for pid in "${SERVE_PIDS[@]}"; do stop_pid "$pid"; done
  for lab in "${LABS[@]}"; do "$LAB" stop "$lab" >/dev/null 2>&1 || true; done
  if [[ -n $CGROUP ]]; then
    for cg in "$CGROUP"/*/ "$CGROUP"; do  # empty once the last Exim process has exited
      for ((i = 0; i < 50; i++)); do rmdir "$cg" 2>/dev/null && break; sleep 0.2; done
    done
  fi
  for w in "${WORKS[@]}"; do
    if ((KEEP)); then echo "e2e.sh: kept $w" >&2; else rm -rf "$w"; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU accounting: a cpuacct cgroup per group of processes (its usage includes every process
# ever in it, forked Exim children too). Without cgroup v1 cpuacct the CPU columns are "-".
if [[ -w /sys/fs/cgroup/cpuacct ]] && mkdir "/sys/fs/cgroup/cpuacct/sw-bench-e2e-$$" 2>/dev/null; then
  CGROUP=/sys/fs/cgroup/cpuacct/sw-bench-e2e-$$
fi
cgroup_of() {  # cgroup_of NAME: creates it, prints its path (empty without accounting)
  [[ -n $CGROUP ]] || return 0
  mkdir -p "$CGROUP/$1" && echo "$CGROUP/$1"
}
cpu_ns() { if [[ -n $1 ]]; then cat "$1/cpuacct.usage"; else echo 0; fi; }
machine_busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }

# start_lab DIR CGROUP [SNIPPETS...]: a lab whose sink@lab.example is a :blackhole:, started in CGROUP.
start_lab() {
  local dir=$1 cg=$2 hook args=(); shift 2
  mkdir -p "$dir"
  cat >"$dir/routers.inc" <<'ROUTER'
bench_sink:
  driver = redirect
  domains = lab.example
  local_parts = sink
  data = :blackhole:
ROUTER
  for hook in "$@"; do args+=(--acl-include "$hook:$ROOT/contrib/exim/serve/acl_smtp_$hook.inc"); done
  (($#)) && echo "SPAMWARDEN_SERVE = $dir/serve.sock" >"$dir/main.inc"
  (
    [[ -z $cg ]] || echo "$BASHPID" >"$cg/cgroup.procs"
    exec "$LAB" start "$dir" --watch-pid $$ "${args[@]}"
  ) >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; return 1; }
  LABS+=("$dir")
}

# start_serve LAB_DIR CGROUP: serve with its default policy on LAB_DIR/serve.sock; sets SERVE_PID.
start_serve() {
  local dir=$1 cg=$2 i
  cat >"$dir/serve.toml" <<TOML
[paths]
state_dir = "$dir/state"
spool = "$dir/spool"
exim = "/usr/sbin/exim4"
exim_config = "$dir/server.conf"
[serve]
socket = "$dir/serve.sock"
listen = ""
TOML
  (
    [[ -z $cg ]] || echo "$BASHPID" >"$cg/cgroup.procs"
    exec setsid "$SW" serve --config "$dir/serve.toml"
  ) </dev/null >/dev/null 2>"$dir/serve.err" &
  SERVE_PID=$!
  SERVE_PIDS+=("$SERVE_PID")
  for ((i = 0; i < 100; i++)); do
    [[ -S $dir/serve.sock ]] && grep -q serving "$dir/serve.err" && return 0
    sleep 0.1
  done
  echo "e2e.sh: serve did not start: $(tail -3 "$dir/serve.err")" >&2
  return 1
}

forget_serve() {  # forget_serve PID: stopped already, not to be signalled again on exit
  local kept=() pid
  for pid in "${SERVE_PIDS[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
  SERVE_PIDS=(${kept[@]+"${kept[@]}"})
}
field() { sed -nE "s/(^|.* )$2=([^ ]*).*/\2/p" <<<"$1"; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
us_per() { awk -v ns="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", ns / 1000 / n; else print "-" }'; }

# load LAB_DIR LABEL: one bounded smtpload run of inbound mail; prints its line with the CPU of
# the lab's Exim processes and of serve per accepted message (measured after the lab settled).
load() {
  local dir=$1 label=$2 cg_exim=$3 cg_serve=$4 e0 s0 b0 t0 line n serve_ns
  e0=$(cpu_ns "$cg_exim") s0=$(cpu_ns "$cg_serve") b0=$(machine_busy) t0=$(date +%s%N)
  line=$("$SMTPLOAD" --target "127.0.0.1:$(cat "$dir/port")" --source 127.0.0.20 --helo mx.bench-sender.example \
    --from 'news%n@bench-sender.example' --rcpt sink@lab.example --clients "$CLIENTS" --per-session "$PER_SESSION" \
    --messages "$MESSAGES" --duration "$DUR" --label "$label")
  "$LAB" settle "$dir" --timeout 60 >/dev/null 2>&1 || echo "e2e.sh: $label: the lab did not settle in 60 s" >&2
  n=$(field "$line" accepted)
  # serve's CPU for these messages: its cgroup's usage minus its idle usage over the same time.
  serve_ns=$(($(cpu_ns "$cg_serve") - s0))
  echo "$line exim_cpu_us_msg=$(us_per $(($(cpu_ns "$cg_exim") - e0)) "$n")" \
    "serve_cpu_us_msg=$([[ -n $cg_serve ]] && us_per "$serve_ns" "$n" || echo -)" \
    "serve_net_cpu_us_msg=$([[ -n $cg_serve ]] && us_per $((serve_ns - SERVE_IDLE_NS_S * ($(date +%s%N) - t0) / 1000000000)) "$n" || echo -)" \
    "machine_cores=$(awk -v j=$(($(machine_busy) - b0)) -v s="$(field "$line" secs)" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%.2f", j / hz / s }')"
}

# throughput SPOOL: plain vs snippets on labs in a work dir on disk or tmpfs.
throughput() {
  local spool=$1 base plain withs nulls cg_plain cg_exim cg_serve cg_nulls="" r line rows=() order dir which kinds
  if [[ $spool == tmpfs ]]; then base=$(mktemp -d /dev/shm/sw-bench-e2e.XXXXXX); else base=$(mktemp -d /tmp/sw-bench-e2e.XXXXXX); fi
  WORKS+=("$base")
  chmod 0755 "$base"
  plain=$base/plain withs=$base/serve nulls=$base/dunnod
  cg_plain=$(cgroup_of "exim-plain-$spool") cg_exim=$(cgroup_of "exim-serve-$spool") cg_serve=$(cgroup_of "serve-$spool")
  start_lab "$plain" "$cg_plain"
  start_lab "$withs" "$cg_exim" connect helo mail rcpt predata data
  start_serve "$withs" "$cg_serve"
  kinds=(plain serve)
  if [[ -x $DUNNOD ]]; then  # the snippets against a do-nothing server: Exim's own share of their cost
    cg_nulls=$(cgroup_of "exim-dunnod-$spool")
    start_lab "$nulls" "$cg_nulls" connect helo mail rcpt predata data
    (
      [[ -z $cg_nulls ]] || echo "$BASHPID" >"$cg_nulls/cgroup.procs"
      exec "$DUNNOD" "unix:$nulls/serve.sock"
    ) </dev/null >/dev/null 2>&1 &
    SERVE_PIDS+=($!)
    kinds=(plain dunnod serve)
  fi
  # Warm-up: a few messages each (page cache, Exim's first lookups), not measured.
  for dir in "$plain" "$withs" $([[ ${#kinds[@]} == 3 ]] && echo "$nulls"); do
    "$SMTPLOAD" --target "127.0.0.1:$(cat "$dir/port")" --source 127.0.0.20 --messages 20 --clients 2 --duration 20 \
      --label warmup >/dev/null
  done
  "$LAB" settle "$plain" --timeout 30 >/dev/null 2>&1 || true
  "$LAB" settle "$withs" --timeout 30 >/dev/null 2>&1 || true
  [[ ${#kinds[@]} == 2 ]] || "$LAB" settle "$nulls" --timeout 30 >/dev/null 2>&1 || true
  # serve's CPU while nothing is asked (its checkpoint thread, the hold broker's poll), per second.
  local i0 i1
  i0=$(cpu_ns "$cg_serve"); sleep 5; i1=$(cpu_ns "$cg_serve")
  SERVE_IDLE_NS_S=$(((i1 - i0) / 5))
  echo "serve idle: $((SERVE_IDLE_NS_S / 1000)) us CPU per second (spool on $spool)" | tee -a "$RESULTS" >&2
  for ((r = 1; r <= ROUNDS; r++)); do
    order=("${kinds[@]}")
    ((r % 2)) || order=($(printf '%s\n' "${kinds[@]}" | tac))
    for which in "${order[@]}"; do
      case $which in
        plain) line=$(load "$plain" "exim-$spool/r$r" "$cg_plain" "") ;;
        dunnod) line=$(load "$nulls" "exim+dunnod-$spool/r$r" "$cg_nulls" "") ;;
        serve) line=$(load "$withs" "exim+serve-$spool/r$r" "$cg_exim" "$cg_serve") ;;
      esac
      echo "$line" | tee -a "$RESULTS" >&2
      rows+=("$which $line")
    done
  done
  summarize "$spool" "${rows[@]}"
  if [[ $(grep -c 'spamwarden serve unreachable' "$withs/log/mainlog" || true) != 0 ]]; then
    echo "  warning: Exim logged 'spamwarden serve unreachable' $(grep -c 'spamwarden serve unreachable' "$withs/log/mainlog") times (fail open)" |
      tee -a "$RESULTS"
  fi
  if [[ $spool == disk ]] && ((BURST > 0)); then containment "$withs"; fi
  stop_pid "$SERVE_PID"
  forget_serve "$SERVE_PID"
  "$LAB" stop "$plain" >/dev/null 2>&1 || true
  "$LAB" stop "$withs" >/dev/null 2>&1 || true
  if [[ ${#kinds[@]} == 3 ]]; then
    stop_pid "${SERVE_PIDS[-1]}"
    forget_serve "${SERVE_PIDS[-1]}"
    "$LAB" stop "$nulls" >/dev/null 2>&1 || true
  fi
}

# summarize SPOOL ROW...: medians of the rounds, the cost in %, CPU per message.
summarize() {
  local spool=$1 which stat; shift
  declare -A med
  for which in plain dunnod serve; do
    for stat in accepted_s p50_us p99_us exim_cpu_us_msg serve_cpu_us_msg serve_net_cpu_us_msg machine_cores; do
      med[$which.$stat]=$(for r in "$@"; do if [[ $r == "$which "* ]]; then field "$r" "$stat"; fi; done |
        { grep -v '^-$' || true; } | median)
    done
  done
  {
    printf '\nend to end, spool on %s (%s rounds, %s clients, %s message(s) per session, median):\n' "$spool" "$ROUNDS" \
      "$CLIENTS" "$PER_SESSION"
    printf '  %-22s %8s %8s %8s %16s %17s %15s %14s\n' run msgs/s p50_ms p99_ms exim_cpu_us/msg serve_cpu_us/msg \
      "(above idle)" machine_cores
    for which in plain dunnod serve; do
      [[ -n ${med[$which.accepted_s]} ]] || continue
      printf '  %-22s %8s %8s %8s %16s %17s %15s %14s\n' "$(case $which in plain) echo "exim alone" ;;
        dunnod) echo "snippets, do-nothing" ;; serve) echo "snippets, serve" ;; esac)" "${med[$which.accepted_s]}" \
        "$(awk -v u="${med[$which.p50_us]}" 'BEGIN{printf "%.1f", u / 1000}')" \
        "$(awk -v u="${med[$which.p99_us]}" 'BEGIN{printf "%.1f", u / 1000}')" "${med[$which.exim_cpu_us_msg]:--}" \
        "${med[$which.serve_cpu_us_msg]:--}" "${med[$which.serve_net_cpu_us_msg]:--}" "${med[$which.machine_cores]}"
    done
    awk -v a="${med[plain.accepted_s]}" -v b="${med[serve.accepted_s]}" -v ep="${med[plain.exim_cpu_us_msg]}" \
      -v es="${med[serve.exim_cpu_us_msg]}" -v s="${med[serve.serve_cpu_us_msg]}" -v en="${med[dunnod.exim_cpu_us_msg]}" \
      -v sn="${med[serve.serve_net_cpu_us_msg]}" -v an="${med[dunnod.accepted_s]}" 'BEGIN {
        cost = a > 0 ? (1 - b / a) * 100 : 0
        printf "  %-66s %7.1f%% <= 10%%  %s\n", "throughput cost of the snippets (1 - with/without)", cost, cost <= 10 ? "PASS" : "MISS"
        if (a > 0 && an > 0) printf "  %-66s %7.1f%%\n", "  the same against the do-nothing server", (1 - an / a) * 100
        if (ep > 0) printf "  %-66s %7.1f%%\n", "CPU per message: (exim with snippets + serve) / exim alone - 1", ((es + s) / ep - 1) * 100
        if (ep > 0 && en > 0) printf "  %-66s %7.1f%%\n", "  of which Exim itself with the snippets (do-nothing server)", (en / ep - 1) * 100
        if (ep > 0 && sn != "") printf "  %-66s %7.1f%%\n", "  of which serve above its idle", sn / ep * 100
      }'
  } | tee -a "$RESULTS"
}

# containment LAB_DIR: BURST messages from a hijacked SMTP-AUTH account, as fast as 4 sessions go.
containment() {
  local dir=$1 limit window line accepted holds account=sales@acme-shop.example
  # The policy's first (shortest) window for an account: "  auth_account   60s: 60 messages, ...".
  read -r window limit < <("$SW" serve --check --config "$dir/serve.toml" 2>&1 |
    sed -nE 's/^ +auth_account +([0-9]+)s: ([0-9]+) messages.*/\1 \2/p' | head -1) || true
  line=$("$SMTPLOAD" --target "127.0.0.1:$(cat "$dir/port")" --source 127.0.0.66 --helo laptop \
    --auth "$account:secret" --from "$account" --rcpt 'customer%n@mailbox.example' --clients 4 \
    --per-session $(((BURST + 3) / 4)) --messages "$BURST" --duration 300 --label "auth-burst")
  "$LAB" settle "$dir" --timeout 120 >/dev/null 2>&1 || echo "e2e.sh: auth-burst: the lab did not settle" >&2
  accepted=$(grep ' <= ' "$dir/log/mainlog" | grep -c "A=dovecot_plain:$account " || true)
  holds=$("$SW" holds --config "$dir/serve.toml" 2>/dev/null | grep -c "$account" || true)
  {
    echo "$line"
    printf '\ncontainment: %s SMTP-AUTH messages from %s (4 sessions, as fast as they go), default policy (%s in %ss):\n' \
      "$BURST" "$account" "${limit:-?}" "${window:-?}"
    printf '  accepted %s of %s, limit %s: %s; refused by the clients'"'"' count %s; hold listed by `holds`: %s\n' \
      "$accepted" "$BURST" "${limit:-?}" "$([[ $accepted == "$limit" ]] && echo PASS || echo MISS)" \
      "$(field "$line" refused)" "$([[ $holds -gt 0 ]] && echo yes || echo no)"
    printf '  first message to the hold (first refusal): %s ms (%s); burst %s msgs/s tried\n' \
      "$(field "$line" first_refusal_ms)" "$(sed -n 's/.* first_refusal=//p' <<<"$line")" "$(field "$line" msgs_s)"
  } | tee -a "$RESULTS"
}

echo "# bench/serve e2e $(date -u +%FT%TZ) dur=${DUR}s messages<=$MESSAGES rounds=$ROUNDS clients=$CLIENTS" \
  "per_session=$PER_SESSION cgroup_cpu=$([[ -n $CGROUP ]] && echo yes || echo no) load=$(cut -d' ' -f1-3 /proc/loadavg)" |
  tee "$RESULTS"
for spool in "${SPOOLS[@]}"; do throughput "$spool"; done
echo "e2e results: $RESULTS" >&2
