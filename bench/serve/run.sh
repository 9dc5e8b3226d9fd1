#!/usr/bin/env bash
# bench/serve/run.sh: `spamwarden serve` against the policy daemons admins run today, with one load
# generator (policyload) and a do-nothing server (dunnod) as this machine's ceiling, in one run.
# Debian 12, as root (the peers drop to their users). See bench/serve/README.md.
#
#   bench/serve/run.sh                      # the whole matrix, ~3 minutes
#   bench/serve/run.sh --dur 3 --nreq 10000 --actors 200000 --skip-e2e
#
# Runs per daemon: p1/p8 persistent (Postfix) with 1/8 clients; n1/n8 a new connection per request
# Exim-style (connect, write, shutdown(SHUT_WR), read to EOF); where that fails, n1X/n8X close
# after the reply. serve answers Postfix on TCP and Exim on its Unix socket (rows serve-exim,
# against dunnod on a Unix socket, dunnod-unix). Each run has a fresh daemon with empty state.
# Then: p99 at half of serve's K=8 rates, with dunnod at the same rates as the machine's floor;
# serve's RSS after ACTORS distinct actors; bench/serve/e2e.sh: the real Exim's SMTP rate with
# serve's snippets vs without, and the 200-message AUTH burst. Everything listens on 127.0.0.1 or a Unix socket in the work dir; only
# processes this script started are stopped, by PID. Peers' system services are never started.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${SW_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SW=$BUILD/spamwarden LOAD=$BUILD/bench/serve/policyload DUNNOD=$BUILD/bench/serve/dunnod
DUR=4 NREQ=20000 KEYS=100000 SEED=42 ACTORS=1000000 SKIP_E2E=0 KEEP=0 ONLY=""
while (($#)); do
  case $1 in
    --dur) DUR=$2; shift 2 ;;
    --nreq) NREQ=$2; shift 2 ;;
    --keys) KEYS=$2; shift 2 ;;
    --actors) ACTORS=$2; shift 2 ;;   # 0: skip the RSS run
    --only) ONLY=$2; shift 2 ;;       # one daemon: dunnod, serve, postgrey, postfwd1, policyd-rate-limit
    --skip-e2e) SKIP_E2E=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root" >&2; exit 2; }
for b in "$SW" "$LOAD" "$DUNNOD"; do
  [[ -x $b ]] || { echo "run.sh: build first: ninja -C $BUILD spamwarden policyload dunnod smtpload" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/sw-bench-serve.XXXXXX)
chmod 0755 "$WORK"
OUT=$ROOT/bench/out
mkdir -p "$OUT"
RESULTS=$OUT/serve-$(date +%Y%m%d-%H%M%S).txt
DAEMON_PID="" SINK_PID=""
stop_pid() {  # TERM, then KILL after 5 s, one PID (the daemon we started)
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$DAEMON_PID"
  stop_pid "$SINK_PID"
  if ((KEEP)); then echo "run.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# Peers' packages must never start their system services from here.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d; cleanup' EXIT
fi

wait_port() {  # wait_port TARGET (127.0.0.1:P or unix:/path)
  for ((i = 0; i < 100; i++)); do
    if [[ $1 == unix:* ]]; then [[ -S ${1#unix:} ]] && return 0
    else (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null && return 0; fi
    sleep 0.1
  done
  echo "run.sh: nothing answers on $1" >&2
  return 1
}

# start_daemon NAME MODE: starts a fresh daemon with an empty state dir; sets DAEMON_PID, TARGET, FORMAT.
start_daemon() {
  local name=$1 mode=$2 s
  s=$WORK/state-$name-$mode; rm -rf "$s"; mkdir -p "$s"; chmod 0777 "$s"
  FORMAT=postfix STAGE=rcpt
  case $name in
    dunnod) TARGET=127.0.0.1:10100; setsid "$DUNNOD" "$TARGET" >"$s/log" 2>&1 & ;;
    dunnod-unix) TARGET=unix:$s/dunnod.sock FORMAT=exim; setsid "$DUNNOD" "$TARGET" >"$s/log" 2>&1 & ;;
    serve | serve-exim)
      cat >"$s/serve.toml" <<TOML
[paths]
state_dir = "$s"
spool = "$s/spool"
[serve]
socket = "$s/serve.sock"
listen = "127.0.0.1:10140"
user = "root"
TOML
      if [[ $mode == actors ]]; then echo 'metrics = "127.0.0.1:10149"' >>"$s/serve.toml"; fi
      mkdir -p "$s/spool/input"
      # serve counts its rate limits at end of data: ask it there, where it does its work.
      STAGE=data
      if [[ $name == serve ]]; then TARGET=127.0.0.1:10140; else TARGET=unix:$s/serve.sock FORMAT=exim; fi
      setsid "$SW" serve --config "$s/serve.toml" >"$s/log" 2>&1 & ;;
    postgrey)
      TARGET=127.0.0.1:10023
      local exim=(); [[ $mode == n* ]] && exim=(--exim)
      chown postgrey "$s"
      setsid postgrey --inet=127.0.0.1:10023 --dbdir="$s" --delay=300 --user=postgrey --group=postgrey "${exim[@]}" \
        >"$s/log" 2>&1 & ;;
    postfwd1)
      TARGET=127.0.0.1:10040
      cat >"$s/postfwd.cf" <<'CF'
id=WL_LOCAL; client_address=127.0.0.0/8; action=DUNNO
id=SIZE_MAX; size>52428800; action=REJECT 5.3.4 message too large
id=HELO_BOGUS; client_name==unknown; helo_name=^(localhost|localhost\.localdomain|\[?[0-9.]+\]?)$
    action=REJECT 5.7.1 bogus HELO $$helo_name from unknown client
id=SENDER_TLD; sender=\.(top|xyz|click|loan)$; action=REJECT 5.7.1 sender domain not accepted
id=RATE_SASL; protocol_state==RCPT; sasl_username=.
    action=rate(sasl_username/100/3600/450 4.7.1 SASL user $$sasl_username exceeded 100 msgs per hour)
id=SASL_DONE; sasl_username=.; action=DUNNO
id=RATE_IP; protocol_state==RCPT
    action=rate(client_address/100/3600/450 4.7.1 client $$client_address exceeded 100 msgs per hour)
id=DEFAULT; action=DUNNO
CF
      # postfwd1 only serves as a daemon (-d); its PID comes from its pidfile below.
      setsid postfwd1 -d -f "$s/postfwd.cf" --nodns --socktype udp -i 127.0.0.1 -p 10040 -u postfw -g postfw \
        --pidfile "$s/postfwd1.pid" >"$s/log" 2>&1 & ;;
    policyd-rate-limit)
      TARGET=127.0.0.1:8552
      chown policyd-rate-limit "$s" 2>/dev/null || true
      sed -e 's/^debug: .*/debug: False/' -e "s|^pidfile: .*|pidfile: \"$s/prl.pid\"|" \
        -e 's|^SOCKET: .*|SOCKET: ["127.0.0.1", 8552]|' -e 's/^limit_by_ip: .*/limit_by_ip: True/' \
        -e 's|^limited_networks: .*|limited_networks: ["0.0.0.0/0", "::/0"]|' \
        -e "/^sqlite_config:/,/^[a-z]/ s|    database: .*|    database: \"$s/db.sqlite3\"|" \
        /etc/policyd-rate-limit.yaml >"$s/policyd-rate-limit.yaml"
      setsid policyd-rate-limit -f "$s/policyd-rate-limit.yaml" >"$s/log" 2>&1 & ;;
  esac
  DAEMON_PID=$!
  STATE=$s
  wait_port "$TARGET" || { tail -5 "$s/log" >&2; return 1; }
  if [[ $name == postfwd1 ]]; then
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=$(tr -dc 0-9 <"$s/postfwd1.pid")
  fi
  "$LOAD" --target "$TARGET" --mode persistent --clients 1 --requests 1 --format "$FORMAT" >/dev/null || true
  sleep 1
}

ROWS=()
# run NAME RUN-NAME MODE CLIENTS [extra policyload args]
run() {
  local name=$1 run=$2 mode=$3 k=$4 line; shift 4
  start_daemon "$name" "$run" || { ROWS+=("$name $run FAILED-TO-START"); return 0; }
  line=$("$LOAD" --target "$TARGET" --mode "$mode" --clients "$k" --requests "$NREQ" --duration "$DUR" \
    --keys "$KEYS" --seed "$SEED" --format "$FORMAT" --stage "$STAGE" --pid "$DAEMON_PID" --label "$name/$run" "$@")
  stop_pid "$DAEMON_PID"; DAEMON_PID=""
  echo "$line" | tee -a "$RESULTS" >&2
  ROWS+=("$line")
}
field() { sed -nE "s/(^|.* )$2=([^ ]*).*/\2/p" <<<"$1"; }

selected() { [[ -z $ONLY || $ONLY == "$1" ]]; }
# The syslog datagrams of postfwd go to a sink, as in the peers' measurement.
setsid socat -u UDP-RECV:514,bind=127.0.0.1,reuseaddr /dev/null 2>/dev/null & SINK_PID=$!

echo "# bench/serve $(date -u +%FT%TZ) dur=${DUR}s nreq=$NREQ keys=$KEYS seed=$SEED" | tee "$RESULTS" >&2
for name in dunnod serve postgrey postfwd1 policyd-rate-limit; do
  selected "$name" || continue
  run "$name" p1 persistent 1
  run "$name" p8 persistent 8
  for k in 1 8; do
    run "$name" "n$k" exim "$k"
    if [[ $(field "${ROWS[-1]}" ok) == 0 ]]; then run "$name" "n${k}X" close "$k"; fi
  done
done
for name in dunnod-unix serve-exim; do
  selected "${name%-*}" || continue
  run "$name" n1 exim 1
  run "$name" n8 exim 8
done

# p99 at half of serve's own K=8 rate (paced), Postfix and Exim paths; dunnod paced at the same
# rate on the same transport is the machine's floor (scheduling on a busy host), so a loaded
# machine shows in the floor and is not put down to serve.
rate_of() {  # req/s of the row labelled $1, empty if there is none
  local r
  for r in "${ROWS[@]}"; do
    if [[ $(field "$r" label) == "$1" ]]; then field "$r" req_s; return 0; fi
  done
}
if selected serve; then
  p8=$(rate_of serve/p8); n8=$(rate_of serve-exim/n8)
  if [[ -n $p8 && $p8 != 0 ]]; then
    run serve p8half persistent 8 --rate $((p8 / 2))
    run dunnod p8half persistent 8 --rate $((p8 / 2))
  fi
  if [[ -n $n8 && $n8 != 0 ]]; then
    run serve-exim n8half exim 8 --rate $((n8 / 2))
    run dunnod-unix n8half exim 8 --rate $((n8 / 2))
  fi
fi

# serve's memory with ACTORS distinct actors: every request a new authenticated account and
# sender (keys drawn from ACTORS x 1000), at the DATA stage where it counts. The run stops itself
# at ACTORS requests, or after 900 s on a machine too busy to get there (the line says how many).
metric() {  # metric NAME: serve's value of one metric (metrics on 127.0.0.1:10149)
  local reply
  exec 5<>/dev/tcp/127.0.0.1/10149 || return 0
  printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5
  reply=$(cat <&5); exec 5<&-
  awk -v n="$1" '$1 == n {print $2}' <<<"$reply"
}
RSS_LINE=""
if selected serve && ((ACTORS > 0)); then
  start_daemon serve actors
  line=$("$LOAD" --target "$TARGET" --mode persistent --clients 8 --requests "$ACTORS" --duration 900 \
    --keys $((ACTORS * 1000)) --seed "$SEED" --stage data --sasl-pct 100 --pid "$DAEMON_PID" --label serve/actors)
  sleep 1.5  # the metrics are rendered once a second
  line+=" counter_keys=$(metric spamwarden_serve_counter_keys) busy_keys=$(metric spamwarden_serve_counter_busy_keys)"
  line+=" counter_mb=$(awk -v b="$(metric spamwarden_serve_counter_memory_bytes)" 'BEGIN{printf "%.0f", b/1048576}')"
  line+=" evictions=$(metric spamwarden_serve_counter_evictions_total)"
  line+=" loop_turn_ms=$(awk -v s="$(metric 'spamwarden_serve_loop_longest_turn_seconds{clock="wall"}')" 'BEGIN{printf "%.1f", s*1000}')"
  line+=" loop_turn_cpu_ms=$(awk -v s="$(metric 'spamwarden_serve_loop_longest_turn_seconds{clock="cpu"}')" 'BEGIN{printf "%.1f", s*1000}')"
  rss=$(awk '/VmRSS/{print $2}' "/proc/$DAEMON_PID/status")
  stop_pid "$DAEMON_PID"; DAEMON_PID=""
  RSS_LINE="$line rss_end_mb=$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')"
  echo "$RSS_LINE" | tee -a "$RESULTS" >&2
fi

# The table: ratios against the do-nothing server on the same transport and the fastest peer.
{
  printf '\n%-26s %9s %7s %7s %6s %9s %8s %10s %12s\n' daemon/run req/s p50us p99us errors cpu_us/req rss_MB vs_dunnod vs_best_peer
  for r in "${ROWS[@]}"; do
    label=$(field "$r" label) rs=$(field "$r" req_s) run=${label#*/} name=${label%%/*}
    [[ $name == serve-exim || $name == dunnod-unix ]] && base=dunnod-unix || base=dunnod
    b=$(rate_of "$base/${run%half}")
    best=0
    for p in postgrey postfwd1 policyd-rate-limit; do
      v=$(rate_of "$p/${run%half}")
      if [[ -n $v ]] && ((v > best)); then best=$v; fi
    done
    printf '%-26s %9s %7s %7s %6s %9s %8s %10s %12s\n' "$label" "$rs" "$(field "$r" p50_us)" "$(field "$r" p99_us)" \
      "$(field "$r" errors)" "$(field "$r" cpu_us_req)" "$(field "$r" peak_rss_mb)" \
      "$(awk -v a="$rs" -v b="${b:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }')" \
      "$(awk -v a="$rs" -v b="$best" 'BEGIN{ if (b > 0) printf "%.1fx", a/b; else print "-" }')"
  done
  if [[ -n $RSS_LINE ]]; then
    echo "serve with $(field "$RSS_LINE" ok) distinct actors: peak RSS $(field "$RSS_LINE" peak_rss_mb) MB," \
      "$(field "$RSS_LINE" req_s) req/s while filling, longest wait $(field "$RSS_LINE" max_us) us, longest loop" \
      "turn $(field "$RSS_LINE" loop_turn_ms) ms ($(field "$RSS_LINE" loop_turn_cpu_ms) ms CPU);" \
      "$(field "$RSS_LINE" counter_keys) counter keys ($(field "$RSS_LINE" busy_keys) busy)," \
      "$(field "$RSS_LINE" counter_mb) MB, $(field "$RSS_LINE" evictions) evicted"
  fi
} | tee -a "$RESULTS"

# Targets (requirement's Benchmark section), from the rows above.
check() {  # check TEXT VALUE OP LIMIT
  local ok; ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN{ print (v == "" ? "n/a" : (op == ">=" ? (v >= l) : (v <= l)) ? "PASS" : "MISS") }')
  printf '  %-66s %10s %s %-8s %s\n' "$1" "${2:-n/a}" "$3" "$4" "$ok"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a != "" && b > 0) printf "%.2f", a/b }'; }
best_peer() {
  local best=0 v p
  for p in postgrey postfwd1 policyd-rate-limit; do
    v=$(rate_of "$p/$1")
    if [[ -n $v ]] && ((v > best)); then best=$v; fi
  done
  echo "$best"
}
if selected serve; then
  {
    echo; echo "targets:"
    for k in 1 8; do
      check "Exim path n$k (unix): serve-exim / dunnod-unix" "$(ratio "$(rate_of serve-exim/n$k)" "$(rate_of dunnod-unix/n$k)")" ">=" 0.8
      check "Exim path n$k: serve-exim / fastest peer (TCP)" "$(ratio "$(rate_of serve-exim/n$k)" "$(best_peer n$k)")" ">=" 5
      check "new conn n$k (TCP): serve / dunnod" "$(ratio "$(rate_of serve/n$k)" "$(rate_of dunnod/n$k)")" ">=" 0.8
    done
    check "persistent p8: serve / dunnod" "$(ratio "$(rate_of serve/p8)" "$(rate_of dunnod/p8)")" ">=" 0.6
    check "persistent p8: serve / fastest peer" "$(ratio "$(rate_of serve/p8)" "$(best_peer p8)")" ">=" 20
    for r in "${ROWS[@]}"; do
      label=$(field "$r" label)
      [[ $label == serve*/*half ]] || continue
      [[ $label == serve-exim/* ]] && floor=dunnod-unix/${label#*/} || floor=dunnod/${label#*/}
      floor_p99=$(for f in "${ROWS[@]}"; do if [[ $(field "$f" label) == "$floor" ]]; then field "$f" p99_us; fi; done)
      check "p99 us at half load ($label, $(field "$r" req_s) req/s)" "$(field "$r" p99_us)" "<=" 1000
      printf '  %-66s %10s    (the machine'"'"'s floor at that rate; serve above it: %s us)\n' "  $floor p99 us" \
        "${floor_p99:-n/a}" "$(awk -v s="$(field "$r" p99_us)" -v f="$floor_p99" 'BEGIN{ print (f == "" ? "n/a" : s - f) }')"
    done
    if [[ -n $RSS_LINE ]]; then
      check "peak RSS MB with $(field "$RSS_LINE" ok) actors" "$(field "$RSS_LINE" peak_rss_mb)" "<=" 256
      check "actors counted (of $ACTORS requested)" "$(field "$RSS_LINE" ok)" ">=" "$ACTORS"
      # A client's wait includes the scheduler's on a busy machine; the loop's CPU per turn does not.
      check "longest loop turn while filling, ms of CPU" "$(field "$RSS_LINE" loop_turn_cpu_ms)" "<=" 100
      check "longest loop turn while filling, ms of wall clock" "$(field "$RSS_LINE" loop_turn_ms)" "<=" 100
    fi
  } | tee -a "$RESULTS"
fi

# End to end on a real Exim with the snippets of contrib/exim/serve/ (bench/serve/e2e.sh,
# its own results also in bench/out/serve-e2e.txt).
if ((!SKIP_E2E)); then
  if [[ -x $ROOT/bench/serve/e2e.sh && -x $BUILD/bench/serve/smtpload ]]; then
    SW_BUILD=$BUILD "$ROOT/bench/serve/e2e.sh" | tee -a "$RESULTS"
  else
    echo "e2e: skipped (needs bench/serve/e2e.sh and ninja -C $BUILD smtpload)" | tee -a "$RESULTS"
  fi
fi
echo "results: $RESULTS" >&2
