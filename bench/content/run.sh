#!/usr/bin/env bash
# The content filter through the spamd protocol, against the peers, by k-fold cross-validation on
# the corpus's train half (bench/content/folds/k<K>/, written by content_quality, the same folds
# quality.sh uses): for each fold, every filter learns the other K-1 folds afresh and scores that
# fold, each talked to as its users do: spamwarden and SpamAssassin (sa-learn, spamd) over the
# spamd protocol, rspamd (rspamc learn, Bayes on a private redis) over the legacy protocol Exim's
# variant=rspamd speaks, bogofilter and spamprobe in batch. Loopback only, no network.
#
#   bench/content/run.sh [--folds 5] [--corpus /work/corpus] [--clients 8] [--rounds 4] [--sa-max 0] [--no-peers]
#
# Prints two tables: msgs/s with concurrent clients and server CPU per message; then quality,
# pooled over the K folds by one quality() for every filter: FP and FN at the filter's own
# threshold, AUC, FN at FP <= 0.1%, and each fold's AUC / FN at FP <= 0.1%. SpamAssassin does ~3
# to 12 msg/s here and scores every message once whatever K is; it and the peers' training make
# the run take about 40 minutes at K = 5 (--folds 2: about 25); --sa-max N scores only the first N
# messages of each fold with it (the lists start with ham: its quality columns then mean little).
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=/work/corpus clients=8 rounds=4 sa_max=0 peers=1 k=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --folds) k=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sa-max) sa_max=$2; shift 2 ;;
    --no-peers) peers=0; shift ;;
    *) echo "usage: $0 [--folds K] [--corpus DIR] [--clients N] [--rounds R] [--sa-max N] [--no-peers]" >&2; exit 2 ;;
  esac
done
bin=build/spamd_bench
[[ -x $bin ]] || bin=$(find build -name spamd_bench -type f -perm -u+x | head -1)
[[ -x $bin ]] || { echo "build spamd_bench first: ninja -C build spamd_bench" >&2; exit 2; }
folds=bench/content/folds/k$k
if [[ ! -f $folds/fold$((k - 1)).txt ]]; then
  tool=build/src/classify/content_quality
  [[ -x $tool ]] || { echo "build content_quality first: ninja -C build content_quality" >&2; exit 2; }
  train_list=${SW_TRAIN_LIST:-/work/shared/corpus/train.txt}
  [[ -f ../shared/corpus/train.txt && -z ${SW_TRAIN_LIST:-} ]] && train_list=../shared/corpus/train.txt
  mkdir -p "$folds"
  "$tool" --list "$train_list" --base "$corpus" --folds "$k" --write-folds "$folds" --folds-only
fi
work=$(mktemp -d /tmp/sw-content-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# CPU ticks of a server and its live children (spamd's and rspamd's workers do the scanning).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$total"
}
hz=$(getconf CLK_TCK)

# quality FILE...: "FP | FN | AUC | FN at FP <= 0.1%" over the pooled "label score threshold" lines,
# spam when score >= the threshold the filter itself applies; the same definitions as
# content_quality (AUC counts ties one half; the FP <= 0.1% cut sits on the (ham/1000 + 1)-th
# highest ham score, so a tie with it is not caught).
quality() {
  python3 - "$@" <<'PY'
import bisect, sys
rows = [l.split() for f in sys.argv[1:] for l in open(f)]
rows = [(r[0], float(r[1]), float(r[2])) for r in rows if len(r) == 3 and r[1] != "nan"]
ham = sorted(s for label, s, t in rows if label == "ham")
spam = sorted(s for label, s, t in rows if label == "spam")
if not ham or not spam:
    print("- | - | - | -")
    sys.exit()
fp = sum(1 for label, s, t in rows if label == "ham" and s >= t)
fn = sum(1 for label, s, t in rows if label == "spam" and s < t)
wins = sum(bisect.bisect_left(ham, s) + 0.5 * (bisect.bisect_right(ham, s) - bisect.bisect_left(ham, s)) for s in spam)
cut = ham[len(ham) - 1 - len(ham) // 1000]
missed = bisect.bisect_right(spam, cut)
print(f"{100 * fp / len(ham):.2f}% ({fp}/{len(ham)}) | {100 * fn / len(spam):.2f}% ({fn}/{len(spam)}) | "
      f"{wins / len(ham) / len(spam):.5f} | {100 * missed / len(spam):.1f}%")
PY
}
# add_quality NAME PREFIX: a filter's quality row from $work/PREFIX<fold> for every fold: pooled,
# then each fold's AUC / FN at FP <= 0.1%.
quality_rows=()
add_quality() {
  local name=$1 prefix=$2 row t files=()
  for ((t = 0; t < k; ++t)); do files+=("$work/$prefix$t"); done
  row="| $name | $(quality "${files[@]}") |"
  for ((t = 0; t < k; ++t)); do row+=" $(quality "$work/$prefix$t" | awk -F' [|] ' '{print $3 " / " $4}') |"; done
  quality_rows+=("$row")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# The training list of each fold: every other fold.
for ((t = 0; t < k; ++t)); do
  for ((f = 0; f < k; ++f)); do [[ $f == "$t" ]] || cat "$folds/fold$f.txt"; done >"$work/train$t.txt"
done
# list FOLD LABEL / list train FOLD LABEL: the paths of the fold's messages, or of the messages that
# train for that fold (LABEL spam, ham or all), one a line.
list() {
  local file=$folds/fold$1.txt label=$2
  [[ $1 == train ]] && file=$work/train$2.txt label=$3
  awk -F'\t' -v b="$corpus" -v l="$label" 'l == "all" || $1 == l {print b "/" $2}' "$file"
}

# rspamd with its Bayes on a private redis, learned through the controller as its users do
# (`rspamc learn_spam|learn_ham`, Learn-Type: bulk so already-confident messages are learned
# too), scored through the legacy protocol Exim's `variant=rspamd` speaks. A private copy of
# /etc/rspamd with every DNS- or network-based module off (no network here; left on, each adds a
# DNS timeout to every message). Its quality is read at its "add header" action, 6.
rspamd_run() {
  local r=$work/rspamd redis_port normal_port controller_port
  mkdir -p "$r/db" "$r/run" "$r/log"
  cp -r /etc/rspamd "$r/etc"
  redis_port=$(free_port) normal_port=$(free_port) controller_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$r/db" \
    >"$r/log/redis.log" 2>&1 &
  pids+=("$!")
  local d=$r/etc/local.d
  echo "servers = \"127.0.0.1:$redis_port\";" >"$d/redis.conf"
  echo "bind_socket = \"127.0.0.1:$normal_port\"; count = 1;" >"$r/etc/override.d/worker-normal.inc"
  echo "bind_socket = \"127.0.0.1:$controller_port\"; count = 1;" >"$r/etc/override.d/worker-controller.inc"
  echo "count = -1;" >"$r/etc/override.d/worker-proxy.inc"
  printf 'dns { nameserver = ["127.0.0.1:53"]; timeout = 0.1s; retransmits = 0; }\n' >"$d/options.inc"
  for module in rbl dkim spf dmarc arc fuzzy_check asn hfilter phishing mx_check dcc emails reputation \
                once_received neural ratelimit greylist history_redis replies url_redirector dkim_signing \
                metadata_exporter clickhouse elastic external_services antivirus spamassassin rspamd_update; do
    echo "enabled = false;" >"$d/$module.conf"
  done
  chown -R _rspamd "$r/db" "$r/run" "$r/log" 2>/dev/null || true
  rspamd -f -c "$r/etc/rspamd.conf" -u _rspamd -g _rspamd --var="CONFDIR=$r/etc" --var="LOCAL_CONFDIR=$r/etc" \
    --var="DBDIR=$r/db" --var="RUNDIR=$r/run" --var="LOGDIR=$r/log" >"$r/log/stdout" 2>&1 &
  local rspamd_pid=$!; pids+=("$rspamd_pid")
  for _ in $(seq 1500); do rspamc -h "127.0.0.1:$controller_port" stat >/dev/null 2>&1 && break; sleep 0.2; done
  if ! rspamc -h "127.0.0.1:$controller_port" stat >/dev/null 2>&1; then
    echo "rspamd did not start:"; tail -5 "$r/log/stdout" "$r/log/rspamd.log" 2>/dev/null; return 1
  fi
  local test start
  for ((test = 0; test < k; ++test)); do
    redis-cli -p "$redis_port" flushall >/dev/null
    start=$(date +%s.%N)
    # shellcheck disable=SC2046  # paths without spaces, one argument each
    rspamc -h "127.0.0.1:$controller_port" -n 2 --header 'Learn-Type: bulk' learn_spam $(list train "$test" spam) \
      >"$r/log/learn$test.out" 2>&1
    # shellcheck disable=SC2046
    rspamc -h "127.0.0.1:$controller_port" -n 2 --header 'Learn-Type: bulk' learn_ham $(list train "$test" ham) \
      >>"$r/log/learn$test.out" 2>&1
    echo "rspamc learn for fold$test: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s," \
         "$(grep -c 'success = true' "$r/log/learn$test.out") learned"
    measure "rspamd-fold$test" "$rspamd_pid" "127.0.0.1:$normal_port" rspamc 0 1 2 "$test"
    awk '{print $1, $2, 6}' "$work/rspamd-fold$test.scores" >"$work/rspamd.test$test"
  done
  add_quality "rspamd + Bayes (6, add header)" rspamd.test
}

rows=()
# measure NAME PID ADDRESS PROTOCOL MAX ROUNDS CLIENTS TEST_FOLD: msgs/s and server CPU per message
# over the test fold's messages (the first MAX; 0 is all); their scores go to $work/NAME.scores.
measure() {
  local name=$1 pid=$2 address=$3 protocol=$4 max=$5 r=$6 c=$7 test=$8
  local before after out
  [[ $max == 0 ]] && max=100000
  before=$(cpu_ticks "$pid")
  out=$("$bin" load --address "$address" --list "$folds/fold$test.txt" --base "$corpus" --clients "$c" --rounds "$r" \
        --max "$max" --protocol "$protocol" --scores "$work/$name.scores") || true
  after=$(cpu_ticks "$pid")
  read -r n _ rate failures <<<"$out"
  local cpu_us=$(( (after - before) * 1000000 / hz / (n > 0 ? n : 1) ))
  rows+=("$(printf '| %s | %s | %d | %s | %s µs | %s |' "$name" "$c" "$n" "$rate" "$cpu_us" "$failures")")
}

# start_spamwarden TEST_FOLD: a spamd_bench server trained on the other folds; sets sw_pid and sw_port.
start_spamwarden() {
  sw_port=$(free_port)
  "$bin" serve --train "$work/train$1.txt" --base "$corpus" --listen "127.0.0.1:$sw_port" >"$work/sw$1.out" \
    2>"$work/sw$1.err" &
  sw_pid=$!; pids+=("$sw_pid")
  for _ in $(seq 600); do grep -q listening "$work/sw$1.out" 2>/dev/null && break; sleep 0.1; done
  cat "$work/sw$1.err"
}
echo "== spamwarden (spamd protocol, $clients clients)"
start_spamwarden 0
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$sw_pid/status")
measure spamwarden "$sw_pid" "127.0.0.1:$sw_port" spamc 0 "$rounds" "$clients" 0
cp "$work/spamwarden.scores" "$work/sw.test0"
measure spamwarden-1stream "$sw_pid" "127.0.0.1:$sw_port" spamc 0 1 1 0
measure spamwarden-rspamc "$sw_pid" "127.0.0.1:$sw_port" rspamc 0 1 "$clients" 0
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$sw_pid/status")
kill "$sw_pid"
for ((t = 1; t < k; ++t)); do
  start_spamwarden "$t"
  measure "spamwarden-fold$t" "$sw_pid" "127.0.0.1:$sw_port" spamc 0 1 "$clients" "$t"
  cp "$work/spamwarden-fold$t.scores" "$work/sw.test$t"
  kill "$sw_pid"
done
add_quality "spamwarden (5.0)" sw.test

if [[ $peers == 1 ]] && command -v spamd >/dev/null; then
  echo "== SpamAssassin spamd (Bayes learned with sa-learn; ${sa_max/#0/all} messages of each test fold)"
  # sa_fold TEST: a fresh Bayes database learned from the other folds, a spamd on it scoring TEST.
  sa_fold() {
    local sa=$work/sa$1
    mkdir -p "$sa/site" "$sa/bayes"
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
    list train "$1" spam >"$work/sa-spam.txt"
    list train "$1" ham >"$work/sa-ham.txt"
    local start
    start=$(date +%s.%N)
    sa-learn --siteconfigpath "$sa/site" --spam -f "$work/sa-spam.txt" >/dev/null 2>&1 || true
    sa-learn --siteconfigpath "$sa/site" --ham -f "$work/sa-ham.txt" >/dev/null 2>&1 || true
    echo "sa-learn for fold$1: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
    chmod 755 "$work"; chmod -R a+rX "$sa"; chown -R nobody "$sa/bayes"  # spamd runs as nobody
    local sa_port
    sa_port=$(free_port)
    spamd -L -m 2 --min-children 2 --siteconfigpath "$sa/site" -i 127.0.0.1 -p "$sa_port" -A 127.0.0.1 \
          -u nobody -s stderr >/dev/null 2>"$work/spamd$1.log" &
    local sa_pid=$!; pids+=("$sa_pid")
    for _ in $(seq 300); do spamc -d 127.0.0.1 -p "$sa_port" -K >/dev/null 2>&1 && break; sleep 0.2; done
    measure "spamassassin-fold$1" "$sa_pid" "127.0.0.1:$sa_port" spamc "$sa_max" 1 2 "$1"
    kill "$sa_pid"
    cp "$work/spamassassin-fold$1.scores" "$work/sa.test$1"
  }
  for ((t = 0; t < k; ++t)); do sa_fold "$t"; done
  add_quality "SpamAssassin + Bayes (5.0)" sa.test
fi

if [[ $peers == 1 ]] && command -v rspamd >/dev/null && command -v redis-server >/dev/null; then
  echo "== rspamd (Bayes on a private redis, learned with rspamc; network modules off)"
  rspamd_run || echo "rspamd: skipped (see above)"
fi

if [[ $peers == 1 ]] && command -v bogofilter >/dev/null; then
  echo "== bogofilter (batch, as its users run it)"
  for ((test = 0; test < k; ++test)); do
    bf=$work/bogo$test
    mkdir -p "$bf"
    list train "$test" spam | bogofilter -d "$bf" -s -b
    list train "$test" ham | bogofilter -d "$bf" -n -b
    list "$test" all >"$work/bf-list.txt"
    start=$(date +%s.%N)
    bogofilter -d "$bf" -T -v -b <"$work/bf-list.txt" >"$work/bf.out" 2>/dev/null || true
    end=$(date +%s.%N)
    n=$(wc -l <"$work/bf-list.txt")
    paste <(cut -f1 "$folds/fold$test.txt") <(awk '{print $(NF)}' "$work/bf.out") |
      awk '{print $1, $2, 0.99}' >"$work/bogofilter.test$test"
    rate=$(python3 -c "print(round($n / ($end - $start), 1))")
    rows+=("$(printf '| bogofilter -b, fold%d | 1 batch | %d | %s | - | 0 |' "$test" "$n" "$rate")")
  done
  add_quality "bogofilter (0.99)" bogofilter.test
fi

if [[ $peers == 1 ]] && command -v spamprobe >/dev/null; then
  echo "== spamprobe (trained from the fold's files, then score in batch; its cutoff 0.6)"
  # spamprobe_fold MODE TEST (trained on the other folds). MODE auto: `auto-train` interleaves spam and ham and learns
  # what it gets wrong or is unsure of (train-spam/train-good), as its users build a database;
  # MODE all: `spam` then `good` learn every message, as the other filters do.
  spamprobe_fold() {
    local mode=$1 test=$2 sp=$work/spamprobe-$1$2 start
    start=$(date +%s.%N)
    if [[ $mode == auto ]]; then
      # shellcheck disable=SC2046  # paths without spaces, one argument each
      spamprobe -c -d "$sp" auto-train SPAM $(list train "$test" spam) GOOD $(list train "$test" ham) 2>/dev/null
    else
      # shellcheck disable=SC2046
      spamprobe -c -d "$sp" spam $(list train "$test" spam) 2>/dev/null
      # shellcheck disable=SC2046
      spamprobe -d "$sp" good $(list train "$test" ham) 2>/dev/null
    fi
    local learned end
    learned=$(date +%s.%N)
    # shellcheck disable=SC2046
    spamprobe -d "$sp" score $(list "$test" all) 2>/dev/null >"$work/sp.out"
    end=$(date +%s.%N)
    local n
    n=$(wc -l <"$folds/fold$test.txt")
    [[ $(wc -l <"$work/sp.out") == "$n" ]] || echo "spamprobe: $(wc -l <"$work/sp.out") scores for $n messages" >&2
    paste -d' ' <(cut -f1 "$folds/fold$test.txt") <(awk '{print $2, 0.6}' "$work/sp.out") \
      >"$work/spamprobe-$mode.test$test"
    rows+=("$(printf '| spamprobe %s, fold%d | 1 batch | %d | %s | - | 0 |' "$mode" "$test" "$n" \
              "$(python3 -c "print(round($n / ($end - $learned), 1))")")")
    echo "spamprobe $mode, learning for fold$test: $(python3 -c "print(round($learned - $start, 1))") s"
  }
  for mode in auto all; do
    for ((t = 0; t < k; ++t)); do spamprobe_fold "$mode" "$t"; done
  done
  add_quality "spamprobe, auto-train (0.6)" spamprobe-auto.test
  add_quality "spamprobe, spam/good (0.6)" spamprobe-all.test
fi

echo
echo "Throughput (trained on the folds but fold0, scoring fold0 unless named):"
echo "| filter | clients | messages | msgs/s | server CPU/msg | failures |"
echo "|---|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "Quality, $k folds, each scored by the filter trained on the other $((k - 1)), pooled; then each fold:"
header="| filter (its threshold) | FP | FN | AUC | FN at FP ≤ 0.1% |" rule="|---|---|---|---|---|"
for ((t = 0; t < k; ++t)); do header+=" fold $t: AUC / FN at FP ≤ 0.1% |" rule+="---|"; done
echo "$header"
echo "$rule"
for r in "${quality_rows[@]}"; do echo "$r"; done
echo
echo "spamwarden RSS: ${rss_kb} kB after training, ${rss_after} kB after the runs"
