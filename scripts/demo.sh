#!/usr/bin/env bash
# demo.sh: the README's first quick-start command (Debian 12, as root).
#
# Installs what is needed, builds spamwarden, starts a throwaway real Exim (testing/eximlab)
# in a temporary directory, plays a spam incident through it, and lets spamwarden report on
# the main log Exim wrote; then starts `spamwarden watch` on that log and shows it holding a
# second burst live (hold, messages out, release). The lab and the watch daemon are stopped
# (by their recorded PIDs) however the script ends.
#
# Environment: DEMO_SCALE=0.5 plays a smaller incident (default 1);
#              DEMO_SKIP_BUILD=1 uses an existing build/spamwarden (DEMO_BUILD_DIR=DIR: DIR/spamwarden);
#              DEMO_BURST=100 messages in the live burst, DEMO_RATE=50 paced msg/s (default);
#              DEMO_KEEP=1 keeps the lab directory for a look afterwards (daemons still stop).
set -euo pipefail
cd "$(dirname "$0")/.."

LAB_SH=testing/eximlab/eximlab.sh
SCALE=${DEMO_SCALE:-1}
SW=${DEMO_BUILD_DIR:-build}/spamwarden
LAB=""
WATCH_PID=""

heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  if [[ -n $WATCH_PID ]]; then   # the watch daemon we started, by its PID only
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
  fi
  [[ -n $LAB ]] || return 0
  "$LAB_SH" stop "$LAB" || true
  if [[ ${DEMO_KEEP:-0} == 1 ]]; then
    echo "demo: lab directory kept: $LAB"
  else
    rm -rf "$LAB"
  fi
}
trap cleanup EXIT

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: run as root (installs packages, starts a private exim4 on 127.0.0.1)" >&2
  exit 2
fi

heading "1/8 Dependencies (Debian packages)"
scripts/setup-deps.sh
echo "ok"

heading "2/8 Build"
if [[ ${DEMO_SKIP_BUILD:-0} == 1 && -x $SW ]]; then
  echo "skipped (DEMO_SKIP_BUILD=1), using $SW"
else
SW=build/spamwarden
build_log=$(mktemp /tmp/spamwarden-build.XXXXXX)
if ! scripts/build.sh release >"$build_log" 2>&1; then
  tail -n 40 "$build_log"; rm -f "$build_log"
  echo "demo: build failed" >&2; exit 3
fi
rm -f "$build_log"
echo "built build/spamwarden"
fi

heading "3/8 Start a throwaway Exim lab (127.0.0.1, private config, spool and logs)"
LAB=$(mktemp -d /tmp/spamwarden-demo.XXXXXX)
# cPanel-like: no +pid in log_selector, split spool directory (+millisec: exact timing in 6/7);
# spamwarden's ACL snippets
# (contrib/exim) included, reading hold lists under $LAB/state/holds (empty until watch runs).
echo "SPAMWARDEN_HOLDS = $LAB/state/holds" >"$LAB/main.inc"   # before start: no reload needed
"$LAB_SH" start "$LAB" --no-pid --split-spool --millisec \
  --acl-include not_smtp:contrib/exim/acl_not_smtp.inc --acl-include mail:contrib/exim/acl_smtp_mail.inc
echo "lab in $LAB, server on 127.0.0.1:$("$LAB_SH" port "$LAB")"

heading "4/8 Play a spam incident"
cat <<'TXT'
  - a PHP script of user userx1 sends spam through sendmail -t -i, run by web requests from
    the attacker (the lab runs no web server: the play writes Apache's line for each request)
  - SMTP AUTH account sales@acme-shop.example: 10 failed logins, then hijacked (4 x 225 rcpts)
  - a dictionary attack on acme-shop.example from 127.0.0.99
  - backscatter to a forged sender; ordinary mail of customers, a shop and local users
TXT
start=$SECONDS
mkdir -p "$LAB/access-logs"
"$LAB_SH" play "$LAB" incident --scale "$SCALE" --with-backscatter --access-log "$LAB/access-logs/lab.example"
"$LAB_SH" settle "$LAB" --timeout 300
MAINLOG=$("$LAB_SH" mainlog "$LAB")
echo "Exim wrote $(wc -l <"$MAINLOG") log lines in $((SECONDS - start)) s; $("$LAB_SH" exim "$LAB" -bpc) messages left in the queue"

heading "5/8 spamwarden logs --access-logs $LAB/access-logs $MAINLOG"
rc=0
"$SW" logs --access-logs "$LAB/access-logs" "$MAINLOG" || rc=$?
case $rc in
  0) echo "(exit 0: no findings - unexpected for this incident)" ;;
  1) echo "(exit 1: findings present - expected)" ;;
  *) echo "demo: spamwarden logs failed with exit code $rc" >&2; exit "$rc" ;;
esac

heading "6/8 Queue: who fills it, and a dry run against the hijacked account's mail"
QCONF=(-C "$LAB/server.conf")
echo "$ spamwarden queue -C $LAB/server.conf"
"$SW" queue "${QCONF[@]}" --top 5 || true
echo
echo "$ spamwarden queue remove --auth-id sales@acme-shop.example      (dry run: nothing is touched)"
"$SW" queue remove "${QCONF[@]}" --state-dir "$LAB/spamwarden-queue" --auth-id sales@acme-shop.example || true
echo
echo "$ spamwarden queue check -w 50 -c 100"
"$SW" queue check "${QCONF[@]}" -w 50 -c 100 || true

heading "7/8 Live: spamwarden watch holds a second burst as it happens"
STATE=$LAB/state
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SWOPTS=(--config /dev/null --state-dir "$STATE" --spool "$("$LAB_SH" spool "$LAB")"
        --exim /usr/sbin/exim4 --exim-config "$LAB/server.conf")
"$SW" watch "${SWOPTS[@]}" --log "$MAINLOG" --metrics "127.0.0.1:$MPORT" 2>"$LAB/watch.log" &
WATCH_PID=$!
for ((i = 0; i < 50; i++)); do curl -sf "http://127.0.0.1:$MPORT/metrics" >/dev/null && break; sleep 0.1; done
echo "spamwarden watch running (pid $WATCH_PID), metrics on http://127.0.0.1:$MPORT/metrics"
BURST=${DEMO_BURST:-100} RATE=${DEMO_RATE:-50}
SCRIPT_DIR=/home/userx2/public_html/wp-content/plugins/contact-form
echo "a compromised contact form of userx2 ($SCRIPT_DIR) sends $BURST spams, paced at $RATE msg/s"
mark=$(wc -l <"$MAINLOG")
t0=$(date +%s%3N)
"$LAB_SH" play "$LAB" script-burst --user userx2 --dir "$SCRIPT_DIR" --count "$BURST" --rate "$RATE" \
  --parallel 16 --reject-pct 0 --defer-pct 0
t1=$(date +%s%3N)
"$LAB_SH" settle "$LAB" --timeout 120 || true
sleep 3.5   # watch's second freeze pass runs 3 s after the hold
tail -n +"$((mark + 1))" "$MAINLOG" >"$LAB/burst.log"
grep -F ' <= ' "$LAB/burst.log" | grep -F 'U=userx2 P=local' >"$LAB/burst.accepted" || true
accepted=$(wc -l <"$LAB/burst.accepted")
echo "Exim accepted $accepted messages in $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 )) s:" \
  "$(awk -v n="$accepted" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }') msg/s achieved" \
  "(each message is a sendmail run plus a delivery process; load average $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "$ spamwarden holds"
"$SW" holds "${SWOPTS[@]}" || true
hold_line=$(grep -m1 -F "held script:$SCRIPT_DIR" "$LAB/watch.log" || true)
first_line=$(grep -m1 -F "cwd=$SCRIPT_DIR " "$LAB/burst.log" || true)
echo
echo "first burst line: ${first_line:0:90}..."
echo "watch's log:      ${hold_line:-no hold logged}"
ms_of() { echo $(( $(date -d "$(cut -c1-19 <<<"$1")" +%s) * 1000 + 10#$(cut -c21-23 <<<"$1") )); }
if [[ -n $hold_line && -n $first_line ]]; then
  echo "hold placed $(awk -v a="$(ms_of "$first_line")" -v b="$(ms_of "$hold_line")" 'BEGIN { printf "%.2f", (b - a) / 1000 }') s" \
    "after the first burst message (reason: $(sed -nE 's/.*held script:[^:]*: //p' <<<"$hold_line");" \
    "the default limits are more than 10 messages in 2 s and more than 20 in 10 s)"
  nth=$(sed -nE 's/.*: ([0-9]+) messages in .*/\1/p' <<<"$hold_line")
  trip_line=$([[ -n $nth ]] && sed -n "${nth}p" "$LAB/burst.accepted" || true)
  if [[ -n $trip_line ]]; then
    echo "and $(awk -v a="$(ms_of "$trip_line")" -v b="$(ms_of "$hold_line")" 'BEGIN { printf "%.3f", (b - a) / 1000 }') s" \
      "after Exim logged message $nth, the one that crossed the limit (the rest is the lab's submission rate)"
  fi
fi
held_acl=$(grep -c 'spamwarden: held local submission by userx2' "$LAB/burst.log" || true)
frozen_q=$("$LAB_SH" exim "$LAB" -bp | awk '/^ *[0-9]+[smhd] / { print $3 }' | grep -cFf <(awk '{ print $3 }' "$LAB/burst.accepted") || true)
echo "of $accepted accepted: $((accepted - frozen_q)) left the server before the hold took effect," \
  "$held_acl frozen by Exim's ACL at submission, $((frozen_q - held_acl)) frozen in the queue by watch"
echo
echo "$ spamwarden release script:$SCRIPT_DIR --remove     # spam: quarantine the whole incident"
"$SW" release "${SWOPTS[@]}" "script:$SCRIPT_DIR" --remove || true
echo "$ spamwarden holds"
"$SW" holds "${SWOPTS[@]}" || true

heading "8/8 Queue after the burst"
"$SW" queue "${QCONF[@]}" --top 3 || true

heading "Done"
echo "the lab is stopped on exit; DEMO_KEEP=1 keeps $LAB"
