#!/usr/bin/env bash
# Queue benchmark: spamwarden's spool summary against Exim's own tools, on spools written by a
# real Exim and cloned up to size (clone_spool keeps every message valid under a fresh id).
#
#   bench/queue/run.sh [WORKDIR]        env: N=20000 BIG=100000 RUNS=3 BUILD=build REUSE=0
#
# REUSE=1 keeps the spools of an earlier run in WORKDIR (same N and BIG) instead of queueing
# and cloning them again.
#
# Times (best of RUNS, warm page cache, then cold after drop_caches if permitted):
#   spamwarden queue --json (also with --sizes, and with --io syscalls) | exim -bp |
#   exim -bp | exiqsumm | exiqgrep -c -f SENDER (and spamwarden queue list --sender, the
#   like-for-like to exiqgrep), on a flat and a split spool of N messages, then spamwarden
#   (1 and 2 threads) and exim -bp on BIG messages. Ratios are printed for wall and CPU time.
# Needs root (Exim's -C with privilege) and Debian's exim4 + exiqgrep/exiqsumm.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/sw-bench-queue}
N=${N:-20000}
BIG=${BIG:-100000}
RUNS=${RUNS:-3}
REUSE=${REUSE:-0}
build=${BUILD:-build}; [[ $build == /* ]] || build=$repo/$build
sw=$build/spamwarden
clone=$build/bench/queue/clone_spool
exim=$(command -v exim4 || command -v exim)
trusted=/etc/exim4/trusted_configs
lock=/run/lock/eximlab.lock
[[ -x $sw && -x $clone ]] || { echo "build first: scripts/build.sh release" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 2; }

reuse=0
if [[ $REUSE == 1 && -f $work/.complete-$N-$BIG ]]; then reuse=1; else rm -rf "$work"; fi
mkdir -p "$work"
chmod 755 "$work"
configs=()
untrust_all() {
  for c in "${configs[@]}"; do
    ( flock -w 30 9; sed -i "\\|^$c\$|d" "$trusted" ) 9>"$lock"
  done
}
trap untrust_all EXIT

# make_spool NAME SPLIT: a private Exim whose remote deliveries defer (port 1 on localhost).
make_spool() {
  local name=$1 split=$2 dir=$work/$1
  if ((reuse)); then
    ( flock -w 30 9; echo "$dir/exim.conf" >>"$trusted" ) 9>"$lock"
    configs+=("$dir/exim.conf")
    return
  fi
  mkdir -p "$dir/spool/input" "$dir/log"
  chown -R Debian-exim:Debian-exim "$dir/spool" "$dir/log"
  cat >"$dir/exim.conf" <<CONF
keep_environment =
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
primary_hostname = bench.test
exim_user = Debian-exim
exim_group = Debian-exim
trusted_users = root
split_spool_directory = $split
acl_smtp_rcpt = accept_all
begin acl
accept_all:
  accept
begin routers
remote:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = remote_smtp
  self = send
begin transports
remote_smtp:
  driver = smtp
  port = 1
CONF
  ( flock -w 30 9; echo "$dir/exim.conf" >>"$trusted" ) 9>"$lock"
  configs+=("$dir/exim.conf")
}

smtp_message() {  # auth ip sender nrcpt subject
  local auth=$1 ip=$2 sender=$3 n=$4 subject=$5
  {
    printf 'EHLO client.example\r\nMAIL FROM:<%s>\r\n' "$sender"
    for ((r = 0; r < n; r++)); do printf 'RCPT TO:<u%d.%d@dest%d.defer.test>\r\n' "$RANDOM" "$r" "$((r % 7))"; done
    printf 'DATA\r\nSubject: %s\r\nFrom: <%s>\r\n\r\nHello,\r\nthis is a benchmark message.\r\n.\r\nQUIT\r\n' "$subject" "$sender"
  } | "$exim" -C "$work/templates/exim.conf" -odq -bs -oMa "$ip.2525" -oMr esmtpa ${auth:+-oMai "$auth" -oMaa PLAIN} >/dev/null
}

ug="$(id -u Debian-exim):$(id -g Debian-exim)"
if ((reuse)); then
  echo "== reusing the spools in $work"
  for s in templates flat split big; do make_spool $s false; done
else
echo "== queueing template messages with a real Exim"
make_spool templates false
for ((i = 0; i < 120; i++)); do smtp_message spammer@cust.example 203.0.113.66 "spam$((i % 5))@cust.example" 3 "Cheap pills $i"; done
for ((i = 0; i < 60; i++)); do smtp_message "user$((i % 30))@example.org" "198.51.100.$((i % 50))" "user$((i % 30))@example.org" 1 "Meeting $i"; done
for ((i = 0; i < 10; i++)); do smtp_message bulk@example.org 198.51.100.9 bulk@example.org 40 "Newsletter $i"; done
for ((i = 0; i < 60; i++)); do
  printf 'Subject: Order %d\nX-PHP-Script: shop.example/wp/x.php for 192.0.2.%d\n\nThanks\n' "$i" "$i" |
    "$exim" -C "$work/templates/exim.conf" -odq -f "web@shop.example" "c$i@x.defer.test"
done
for ((i = 0; i < 30; i++)); do
  printf 'Subject: Mail delivery failed\n\nbounce\n' | "$exim" -C "$work/templates/exim.conf" -odq -f '<>' "v$i@victim.defer.test"
done
templates=$(ls "$work/templates/spool/input" | grep -c -- '-H$')
echo "   $templates templates"

make_spool flat false
make_spool split true
"$clone" "$work/templates/spool" "$work/flat/spool" "$N" --owner "$ug"
"$clone" "$work/templates/spool" "$work/split/spool" "$N" --split --owner "$ug"
make_spool big true
"$clone" "$work/templates/spool" "$work/big/spool" "$BIG" --split --owner "$ug" >/dev/null
touch "$work/.complete-$N-$BIG"
fi

cold_ok=0
if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then cold_ok=1; fi

# timed MODE CMD...: prints "best_wall_seconds max_rss_kib best_cpu_seconds" over RUNS runs.
# Best, not median: other jobs on a shared machine only ever add time. Warm runs are each
# preceded by an untimed run of the same command, so the page cache holds exactly what the
# command reads (some VMs reclaim page cache that has been idle for a few seconds). Cold runs
# follow drop_caches. Wall and CPU (user+sys of all the command's processes) come from bash's
# `time` keyword around the command itself: no wrapper process (bash -c, GNU time) inside
# the timed span, since its ~15 ms of start-up would be added to every peer alike. Peak RSS
# comes from GNU time on the untimed run.
timed() {
  local mode=$1; shift
  local best_wall="" best_cpu="" rss=0 out
  for ((r = 0; r < RUNS; r++)); do
    out=$( { /usr/bin/time -f '%M' bash -c "$* >/dev/null 2>&1" || true; } 2>&1 | tail -1)
    if ((out > rss)); then rss=$out; fi
    if [[ $mode == cold ]]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
    out=$( TIMEFORMAT='%3R %3U %3S'; { time eval "$* >/dev/null 2>&1" || true; } 2>&1 | tail -1)
    local wall user sys cpu
    read -r wall user sys <<<"$out"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [[ -z $best_wall ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then best_wall=$wall; fi
    if [[ -z $best_cpu ]] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then best_cpu=$cpu; fi
  done
  printf '%s %s %s\n' "$best_wall" "$rss" "$best_cpu"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.005; printf "%.1fx", a / b }'; }

bench_layout() {
  local name=$1 dir=$work/$1 conf=$work/$1/exim.conf
  local ours theirs
  # exit code 1 means "findings", not failure
  ours=$({ "$sw" queue --spool "$dir/spool" --json || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')
  theirs=$("$exim" -C "$conf" -bpc)
  echo
  echo "== $name spool: $ours messages (exim -bpc says $theirs)"
  [[ $ours == "$theirs" ]] || echo "   MISMATCH"
  local sw_sum="$sw queue --spool $dir/spool --json"
  local sw_sizes="$sw queue --spool $dir/spool --json --sizes"
  local sw_plain="$sw queue --spool $dir/spool --json --io syscalls"
  local bp="$exim -C $conf -bp"
  local sumq="$exim -C $conf -bp | exiqsumm"
  local grep_c="exiqgrep -C $conf -c -f spam1@cust.example"
  local sw_list="$sw queue list --spool $dir/spool --sender spam1@cust.example | wc -l"
  for mode in warm cold; do
    if [[ $mode == cold && $cold_ok == 0 ]]; then
      echo "   cold: drop_caches not permitted here, skipped"
      continue
    fi
    read -r t_sw m_sw c_sw < <(timed $mode "$sw_sum")
    read -r t_sz _ c_sz < <(timed $mode "$sw_sizes")
    read -r t_pl _ c_pl < <(timed $mode "$sw_plain")
    read -r t_bp _ c_bp < <(timed $mode "$bp")
    read -r t_sq _ c_sq < <(timed $mode "$sumq")
    read -r t_gc _ c_gc < <(timed $mode "$grep_c")
    read -r t_sl _ c_sl < <(timed $mode "$sw_list")
    printf '   %-4s wall (cpu) s: spamwarden queue --json %.3f (%.2f, rss %d MiB) | --sizes %.3f (%.2f) | --io syscalls %.3f (%.2f) | exim -bp %.3f (%.2f) | -bp|exiqsumm %.3f (%.2f) | exiqgrep -c %.3f (%.2f) | spamwarden list --sender %.3f (%.2f)\n' \
      "$mode" "$t_sw" "$c_sw" "$((m_sw / 1024))" "$t_sz" "$c_sz" "$t_pl" "$c_pl" "$t_bp" "$c_bp" "$t_sq" "$c_sq" "$t_gc" "$c_gc" "$t_sl" "$c_sl"
    printf '   %-4s wall ratios: exim -bp / summary %s (--sizes %s, --io syscalls %s), exiqsumm pipeline / summary %s, exiqgrep -c / list %s\n' \
      "$mode" "$(ratio "$t_bp" "$t_sw")" "$(ratio "$t_bp" "$t_sz")" "$(ratio "$t_bp" "$t_pl")" "$(ratio "$t_sq" "$t_sw")" "$(ratio "$t_gc" "$t_sl")"
    printf '   %-4s cpu ratios:  exim -bp / summary %s (--sizes %s, --io syscalls %s)\n' \
      "$mode" "$(ratio "$c_bp" "$c_sw")" "$(ratio "$c_bp" "$c_sz")" "$(ratio "$c_bp" "$c_pl")"
  done
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_layout flat
bench_layout split

echo
echo "== $BIG messages (split spool)"
for threads in 1 2; do
  read -r t m c < <(timed warm "$sw queue --spool $work/big/spool --json --threads $threads")
  printf '   warm, %d thread(s): %.3fs wall, %.2fs cpu, max rss %d MiB\n' "$threads" "$t" "$c" "$((m / 1024))"
done
read -r t_bp _ c_bp < <(timed warm "$exim -C $work/big/exim.conf -bp")
printf '   exim -bp warm: %.3fs wall, %.2fs cpu; ratios (2 threads) wall %s, cpu %s\n' "$t_bp" "$c_bp" \
  "$(ratio "$t_bp" "$t")" "$(ratio "$c_bp" "$c")"
if [[ $cold_ok == 1 ]]; then
  read -r t m c < <(timed cold "$sw queue --spool $work/big/spool --json")
  read -r t_bp _ c_bp < <(timed cold "$exim -C $work/big/exim.conf -bp")
  printf '   cold: spamwarden %.3fs wall (%.2f cpu), exim -bp %.3fs wall (%.2f cpu), ratio %s\n' "$t" "$c" "$t_bp" "$c_bp" \
    "$(ratio "$t_bp" "$t")"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
