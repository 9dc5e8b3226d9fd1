#!/usr/bin/env bash
# The content filter through the spamd protocol, against the peers, on two folds of the corpus's
# train half (bench/content/folds/, written by content_quality): every filter learns fold0 and is
# scored on fold1, each talked to as its users do. Loopback only, no network, bounded time.
#
#   bench/content/run.sh [--corpus /work/corpus] [--clients 8] [--rounds 4] [--sa-max 60] [--no-peers]
#
# Prints one table: msgs/s with concurrent clients, server CPU per message, FP/FN at each
# filter's own threshold on the scored messages. SpamAssassin does ~12 msg/s: it scores only
# the first --sa-max messages of fold1 (its quality columns are over those).
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=/work/corpus clients=8 rounds=4 sa_max=60 peers=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --corpus) corpus=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sa-max) sa_max=$2; shift 2 ;;
    --no-peers) peers=0; shift ;;
    *) echo "usage: $0 [--corpus DIR] [--clients N] [--rounds R] [--sa-max N] [--no-peers]" >&2; exit 2 ;;
  esac
done
bin=build/spamd_bench
[[ -x $bin ]] || bin=$(find build -name spamd_bench -type f -perm -u+x | head -1)
[[ -x $bin ]] || { echo "build spamd_bench first: ninja -C build spamd_bench" >&2; exit 2; }
folds=bench/content/folds
work=$(mktemp -d /tmp/sw-content-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# quality FILE: "FP FN" at the threshold the server itself reported (score >= threshold is spam).
quality() {
  awk '$2 != "nan" { if ($1 == "ham") { h++; if ($2 >= $3) fp++ } else { s++; if ($2 < $3) fn++ } }
       END { printf "%.2f%% (%d/%d) | %.2f%% (%d/%d)", 100*fp/h, fp, h, 100*fn/s, fn, s }' "$1"
}

rows=()
# measure NAME PID ADDRESS PROTOCOL MAX ROUNDS CLIENTS
measure() {
  local name=$1 pid=$2 address=$3 protocol=$4 max=$5 r=$6 c=$7
  local before after out
  before=$(cpu_ticks "$pid")
  out=$("$bin" load --address "$address" --list "$folds/fold1.txt" --base "$corpus" --clients "$c" --rounds "$r" \
        --max "$max" --protocol "$protocol" --scores "$work/$name.scores") || true
  after=$(cpu_ticks "$pid")
  read -r n seconds rate failures <<<"$out"
  local cpu_us=$(( (after - before) * 1000000 / hz / (n > 0 ? n : 1) ))
  rows+=("$(printf '| %s | %s | %d | %s | %s µs | %s | %s |' "$name" "$c" "$n" "$rate" "$cpu_us" \
            "$(quality "$work/$name.scores")" "$failures")")
}

echo "== spamwarden (spamd protocol, $clients clients)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --train "$folds/fold0.txt" --base "$corpus" --listen "127.0.0.1:$port" >"$work/sw.out" 2>"$work/sw.err" &
sw_pid=$!; pids+=("$sw_pid")
for _ in $(seq 600); do grep -q listening "$work/sw.out" 2>/dev/null && break; sleep 0.1; done
cat "$work/sw.err"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$sw_pid/status")
measure spamwarden "$sw_pid" "127.0.0.1:$port" spamc 100000 "$rounds" "$clients"
measure spamwarden-1stream "$sw_pid" "127.0.0.1:$port" spamc 100000 1 1
measure spamwarden-rspamc "$sw_pid" "127.0.0.1:$port" rspamc 100000 1 "$clients"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$sw_pid/status")

if [[ $peers == 1 ]] && command -v spamd >/dev/null; then
  echo "== SpamAssassin spamd (Bayes trained on fold0 with sa-learn; first $sa_max messages of fold1)"
  sa=$work/sa; mkdir -p "$sa/site" "$sa/bayes"
  cp /etc/spamassassin/*.pre "$sa/site/"  # --siteconfigpath replaces the directory: keep the plugin loads
  cat >"$sa/site/local.cf" <<CF
use_bayes 1
bayes_auto_learn 0
bayes_path $sa/bayes/bayes
dns_available no
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
CF
  awk -F'\t' -v b="$corpus" '$1=="spam" {print b "/" $2}' "$folds/fold0.txt" >"$work/sa-spam.txt"
  awk -F'\t' -v b="$corpus" '$1=="ham" {print b "/" $2}' "$folds/fold0.txt" >"$work/sa-ham.txt"
  start=$(date +%s.%N)
  sa-learn --siteconfigpath "$sa/site" --spam -f "$work/sa-spam.txt" >/dev/null 2>&1 || true
  sa-learn --siteconfigpath "$sa/site" --ham -f "$work/sa-ham.txt" >/dev/null 2>&1 || true
  echo "sa-learn: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
  chmod 755 "$work"; chmod -R a+rX "$sa"; chown -R nobody "$sa/bayes"  # spamd runs as nobody
  sa_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  spamd -L -m 2 --min-children 2 --siteconfigpath "$sa/site" -i 127.0.0.1 -p "$sa_port" -A 127.0.0.1 \
        -u nobody -s stderr >/dev/null 2>"$work/spamd.log" &
  sa_pid=$!; pids+=("$sa_pid")
  for _ in $(seq 300); do spamc -d 127.0.0.1 -p "$sa_port" -K >/dev/null 2>&1 && break; sleep 0.2; done
  measure spamassassin "$sa_pid" "127.0.0.1:$sa_port" spamc "$sa_max" 1 2
  # spamd's children do the work: count theirs too
fi

if [[ $peers == 1 ]] && command -v bogofilter >/dev/null; then
  echo "== bogofilter (batch, as its users run it)"
  bf=$work/bogo; mkdir -p "$bf"
  awk -F'\t' -v b="$corpus" '$1=="spam" {print b "/" $2}' "$folds/fold0.txt" | bogofilter -d "$bf" -s -b
  awk -F'\t' -v b="$corpus" '$1=="ham" {print b "/" $2}' "$folds/fold0.txt" | bogofilter -d "$bf" -n -b
  awk -F'\t' -v b="$corpus" '{print b "/" $2}' "$folds/fold1.txt" >"$work/bf-list.txt"
  start=$(date +%s.%N)
  bogofilter -d "$bf" -T -v -b <"$work/bf-list.txt" >"$work/bf.out" 2>/dev/null || true
  end=$(date +%s.%N)
  n=$(wc -l <"$work/bf-list.txt")
  paste <(cut -f1 "$folds/fold1.txt") <(awk '{print $(NF)}' "$work/bf.out") |
    awk '{print $1, $2, 0.99}' >"$work/bogofilter.scores"
  rate=$(python3 -c "print(round($n / ($end - $start), 1))")
  rows+=("$(printf '| bogofilter -b (0.99) | 1 batch | %d | %s | - | %s | 0 |' "$n" "$rate" "$(quality "$work/bogofilter.scores")")")
fi

echo
echo "| filter | clients | messages | msgs/s | server CPU/msg | FP at its threshold | FN at its threshold | failures |"
echo "|---|---:|---:|---:|---:|---|---|---:|"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "spamwarden RSS: ${rss_kb} kB after training, ${rss_after} kB after the runs"
