#!/usr/bin/env bash
# bench/containment/run.sh: how fast `spamwarden watch` stops an outbound burst on a real Exim,
# and how fast its follower reads. Debian 12, as root. See bench/containment/README.md.
#
#   bench/containment/run.sh                        # all: 4 bursts + follower at 300 MB
#   bench/containment/run.sh --count 150 --follower-mb 100 --skip-max
#
# Bursts (each in a fresh eximlab with contrib/exim's snippets and +millisec timestamps):
#   script@50   a PHP-like script (sendmail -t -i, cwd=/home/userx1/public_html), paced at RATE/s
#   script@max  the same, unpaced, PARALLEL_MAX concurrent submitters
#   auth@50     a hijacked SMTP-AUTH account (1 recipient per message, PER_SESSION messages per
#               authenticated connection, connections in parallel), paced at RATE/s
#   auth@max    the same, unpaced
# The labs run with --drop-privilege (deliver_drop_privilege: Exim delivers at once from the
# receiving process instead of re-executing itself), which lets this small machine accept more.
# Per burst: achieved rate (first to last acceptance in Exim's log), hold latency (first burst
# line in the main log -> "held ACTOR" in watch's log, written right after the hold lists), first
# submission frozen by the ACL, messages accepted unfrozen by the ACL, messages that left
# (accepted minus those still frozen in the queue at the end; the lab rejects/defers nothing).
# Follower: `watch --from-start --exit-at-end` on a gen_mainlog log, lines counted vs wc -l.
# Only processes this script started are stopped, by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${SW_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SW=$BUILD/spamwarden
GEN=$BUILD/bench/logs/gen_mainlog
LAB_SH=$ROOT/testing/eximlab/eximlab.sh
COUNT=150 RATE=50 PARALLEL_MAX=24 PER_SESSION=10 FOLLOWER_MB=300 REPEAT=1 RUN=1 SKIP_MAX=0 SKIP_BURSTS=0 SKIP_FOLLOWER=0 ONLY="" KEEP=0
while (($#)); do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --parallel-max) PARALLEL_MAX=$2; shift 2 ;;
    --per-session) PER_SESSION=$2; shift 2 ;;   # auth bursts: messages per SMTP connection
    --repeat) REPEAT=$2; shift 2 ;;             # each burst (and follower run) N times
    --follower-mb) FOLLOWER_MB=$2; shift 2 ;;
    --skip-max) SKIP_MAX=1; shift ;;
    --skip-bursts) SKIP_BURSTS=1; shift ;;
    --skip-follower) SKIP_FOLLOWER=1; shift ;;
    --only) ONLY=$2; shift 2 ;;      # one burst: script@50, script@max, auth@50 or auth@max
    --keep) KEEP=1; shift ;;         # keep the work directory (labs, logs) for a look

    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root (starts a private exim4 on 127.0.0.1)" >&2; exit 2; }
[[ -x $SW && -x $GEN ]] || { echo "run.sh: build first: cmake --build $BUILD --target spamwarden gen_mainlog" >&2; exit 2; }
OUT=$ROOT/bench/out
mkdir -p "$OUT"
LAB="" WATCH_PID="" WORK=$(mktemp -d /tmp/sw-containment.XXXXXX)
chmod 0755 "$WORK"   # Exim (Debian-exim) must reach the labs below it
cleanup() {
  if [[ -n $WATCH_PID ]]; then kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true; fi
  if [[ -n $LAB ]]; then "$LAB_SH" stop "$LAB" >/dev/null 2>&1 || true; fi
  if ((KEEP)); then echo "run.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ms_of "YYYY-MM-DD HH:MM:SS.mmm" (local time) -> epoch milliseconds
ms_of() { local s; s=$(date -d "${1%.*}" +%s); echo $((s * 1000 + 10#${1##*.})); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ROWS=()
# burst NAME KIND(script|auth) RATE(0=max) PARALLEL
burst() {
  local name=$1 kind=$2 rate=$3 par=$4 log state port actor pattern
  [[ -z $ONLY || $ONLY == "$name" ]] || return 0
  LAB=$WORK/lab-${name//@/-}-$RUN; mkdir -p "$LAB"
  state=$LAB/state
  # The hold-list macro before the start (a reload re-execs the daemon only at its next connection).
  echo "SPAMWARDEN_HOLDS = $state/holds" >"$LAB/main.inc"
  "$LAB_SH" start "$LAB" --no-pid --millisec --drop-privilege \
    --acl-include not_smtp:"$ROOT/contrib/exim/acl_not_smtp.inc" \
    --acl-include mail:"$ROOT/contrib/exim/acl_smtp_mail.inc" >/dev/null
  log=$LAB/log/mainlog
  port=$(free_port)
  "$SW" watch --config /dev/null --log "$log" --state-dir "$state" --spool "$LAB/spool" \
    --exim /usr/sbin/exim4 --exim-config "$LAB/server.conf" --metrics "127.0.0.1:$port" 2>"$LAB/watch.err" &
  WATCH_PID=$!
  for ((i = 0; i < 50; i++)); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
  if [[ $kind == script ]]; then
    actor=script:/home/userx1/public_html
    "$LAB_SH" play "$LAB" script-burst --count "$COUNT" --parallel "$par" --rate "$rate" \
      --reject-pct 0 --defer-pct 0 >"$LAB/play.out" 2>&1
    pattern='U=userx1 P=local'
  else
    actor=auth_account:sales@acme-shop.example
    "$LAB_SH" play "$LAB" auth-burst --count "$COUNT" --rcpts 1 --parallel "$par" --rate "$rate" \
      --per-session "$PER_SESSION" \
      --reject-pct 0 --defer-pct 0 >"$LAB/play.out" 2>&1
    pattern='A=dovecot_login:sales@acme-shop.example'
  fi
  "$LAB_SH" settle "$LAB" --timeout 120 >/dev/null || echo "run.sh: $name: lab did not settle" >&2
  sleep 1.5   # second freeze pass of watch (+3 s after the hold) has had time to run
  local accepted first_line last_acc first_ms last_ms hold_ms first_frozen_ms held_acl left queued rate_got lat fz
  grep -F " <= " "$log" | grep -F "$pattern" >"$LAB/accepted" || true
  accepted=$(wc -l <"$LAB/accepted")
  if [[ $kind == script ]]; then
    first_line=$(grep -m1 -F 'cwd=/home/userx1/public_html' "$log" | cut -c1-23)
  else
    first_line=$(head -n1 "$LAB/accepted" | cut -c1-23)
  fi
  last_acc=$(tail -n1 "$LAB/accepted" | cut -c1-23)
  first_ms=$(ms_of "$first_line"); last_ms=$(ms_of "$last_acc")
  # watch logs "YYYY-MM-DD HH:MM:SS.mmm spamwarden: held ACTOR: ..." right after writing the lists.
  local hl; hl=$(grep -m1 -F "spamwarden: held $actor:" "$LAB/watch.err" | cut -c1-23 || true)
  hold_ms=$([[ -n $hl ]] && ms_of "$hl" || echo "")
  held_acl=$(grep -c 'spamwarden: held' "$log" || true)
  local ff; ff=$(grep -m1 'spamwarden: held' "$log" | cut -c1-23 || true)
  first_frozen_ms=$([[ -n $ff ]] && ms_of "$ff" || echo "")
  # Messages of the actor still in the queue (frozen); everything else was delivered.
  queued=$("$LAB_SH" exim "$LAB" -bp | awk '/^ *[0-9]+[smhd] /{print $3}' | grep -cFf <(awk '{print $3}' "$LAB/accepted") || true)
  left=$((accepted - queued))
  rate_got=$(awk -v n="$accepted" -v a="$first_ms" -v b="$(ms_of "$(head -n1 "$LAB/accepted" | cut -c1-23)")" -v c="$last_ms" \
    'BEGIN { d = (c - b) / 1000; printf "%.1f", (d > 0 ? (n - 1) / d : 0) }')
  # Reaction: from the arrival that crossed the limit ("held ACTOR: N messages in 10s") to the hold.
  local nth react=""; nth=$(grep -m1 -F "spamwarden: held $actor:" "$LAB/watch.err" | sed -nE 's/.*: ([0-9]+) messages in .*/\1/p')  || true
  if [[ -n $nth && -n $hold_ms ]] && ((nth <= accepted)); then
    react=$(awk -v a="$(ms_of "$(sed -n "${nth}p" "$LAB/accepted" | cut -c1-23)")" -v b="$hold_ms" 'BEGIN{printf "%.3f", (b-a)/1000}')
  fi
  lat=$([[ -n $hold_ms ]] && awk -v a="$first_ms" -v b="$hold_ms" 'BEGIN{printf "%.2f", (b-a)/1000}' || echo "no hold")
  fz=$([[ -n $first_frozen_ms ]] && awk -v a="$first_ms" -v b="$first_frozen_ms" 'BEGIN{printf "%.2f", (b-a)/1000}' || echo "-")
  "$SW" holds --config /dev/null --state-dir "$state" --json >"$LAB/holds.json" || true
  grep -q "\"$actor\"" "$LAB/holds.json" || lat="$lat (actor not held!)"
  ROWS+=("| $name | $accepted | $rate_got | $lat | ${react:--} | $fz | $((accepted - held_acl)) | $left | $(cut -d' ' -f1 /proc/loadavg) |")
  kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=""
  "$LAB_SH" stop "$LAB" >/dev/null 2>&1 || true; LAB=""
  echo "  ${ROWS[-1]}"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if ((!SKIP_BURSTS)); then
  echo "bursts of $COUNT messages (load average $LOAD_BEFORE, $(nproc) cores)"
  for ((RUN = 1; RUN <= REPEAT; RUN++)); do
    burst script@$RATE script "$RATE" 16
    ((SKIP_MAX)) || burst script@max script 0 "$PARALLEL_MAX"
    burst auth@$RATE auth "$RATE" 16
    ((SKIP_MAX)) || burst auth@max auth 0 "$PARALLEL_MAX"
  done
fi

# hold_flood N: N SMTP-AUTH accounts, each sending 12 messages within a second (all held: more
# than 10 in 2 s), 100 accounts a second - the prefix that puts N holds in place while reading.
# Each message is accepted and completed (two lines).
hold_flood() {
  awk -v n="$1" 'BEGIN {
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    for (a = 0; a < n; a++) {
      s = 10 + int(a / 100)
      stamp = sprintf("2026-10-24 %02d:%02d:%02d", 14 + int(s / 3600), int(s / 60) % 60, s % 60)
      for (m = 0; m < 12; m++) {
        id = "1xV9ru-"; v = k
        for (i = 0; i < 6; i++) { id = id substr(digits, v % 62 + 1, 1); v = int(v / 62) }
        printf "%s [%d] %s-2v <= news@shop.example H=(pc) [192.0.2.9]:5000 P=esmtpa A=dovecot_login:acct%d@shop.example S=500 id=%d@shop.example T=\"Offer\" for to%d@example.net\n", stamp, 1000 + k, id, a, k, k
        printf "%s [%d] %s-2v Completed\n", stamp, 1000 + k, id
        k++
      }
    }
  }'
}

FROWS=()
if ((!SKIP_FOLLOWER)); then
  for mb in $((FOLLOWER_MB / 3)) "$FOLLOWER_MB" "holds+$((FOLLOWER_MB / 3))"; do
    f=$WORK/mainlog-$mb.log
    if [[ $mb == holds+* ]]; then  # 10,000 holds placed first, then ordinary traffic under them
      { hold_flood 10000; "$GEN" --size-mb "${mb#holds+}" --seed 1 --start "2026-10-25 00:00:00"; } >"$f"
    else
      "$GEN" --size-mb "$mb" --seed 1 >"$f"
    fi
    total=$(wc -l <"$f")
    cat "$f" >/dev/null   # page cache warm
    for ((RUN = 1; RUN <= REPEAT; RUN++)); do
    cat >"$WORK/bench.toml" <<TOML
[paths]
exim = "/bin/false"
[watch]
metrics = ""
freeze_queued = false
[alerts]
syslog = false
TOML
    rm -rf "$WORK/fstate"
    "$SW" watch --config "$WORK/bench.toml" --log "$f" --state-dir "$WORK/fstate" --spool "$WORK" \
      --from-start --exit-at-end 2>"$WORK/follow.err"
    summary=$(grep 'stopping after' "$WORK/follow.err" | tail -n1)
    read -r lines secs lps cpu actors holds rss < <(sed -E 's/.*stopping after ([0-9]+) lines in ([0-9.]+) s \(([0-9]+) lines\/s\), ([0-9.]+) s CPU, ([0-9]+) active actors, ([0-9]+) holds placed, peak RSS ([0-9]+) MB.*/\1 \2 \3 \4 \5 \6 \7/' <<<"$summary")
    cps=$(awk -v l="$lines" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? l / c : 0) }')
    FROWS+=("| $mb MB | $total | $lines | $secs | $lps | $cpu | $cps | $holds | $actors | $rss | $(cut -d' ' -f1 /proc/loadavg) |")
    echo "  ${FROWS[-1]}"
    done
    rm -f "$f"
  done
fi

{
  echo "# Containment benchmark ($(date '+%Y-%m-%d %H:%M'), $(nproc) cores, load average at start $LOAD_BEFORE)"
  echo
  if ((${#ROWS[@]})); then
    echo "Bursts of $COUNT messages through a real Exim 4.96 (eximlab --drop-privilege: immediate delivery"
    echo "without the -Mc re-exec), spamwarden watch default limits (script/user/account: more than 10"
    echo "messages in 2 s, more than 20 in 10 s). Auth bursts: $PER_SESSION messages per authenticated connection."
    echo "Times from the first burst line in Exim's main log (+millisec); hold = watch's \"held\" log line"
    echo "(ms), written right after the hold lists are renamed into place. The tripping arrival is the N-th"
    echo "accepted message of \"N messages in 2s\" (exact when the burst crosses the limit within its first"
    echo "2 s). *left* = accepted and delivered (not frozen at the end). Load = 1-min load average after the burst."
    echo
    echo "| burst | accepted | achieved msg/s | s first line → hold | s tripping arrival → hold | s first line → first ACL freeze | accepted unfrozen by ACL | left the server | load |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
  fi
  if ((${#FROWS[@]})); then
    echo "Follower: \`spamwarden watch --from-start --exit-at-end\` on gen_mainlog --seed 1 (page cache warm)."
    echo
    echo "Default limits, so the planted culprits (and more) are held on the way: the holds of each 1 MB"
    echo "block are recorded in one store transaction and each changed list is renamed into place once, in"
    echo "the read loop; the fsyncs run on a worker thread. *holds+N*: 10,000 SMTP-AUTH accounts burst first"
    echo "(240,000 lines, every one held), then N MB of ordinary traffic under 10,000 active holds."
    echo
    echo "| log | wc -l | lines read | wall s | lines/s (wall) | CPU s | lines per CPU s | holds placed | active actors | peak RSS MB | load |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${FROWS[@]}"
  fi
} | tee "$OUT/containment-results.md"
