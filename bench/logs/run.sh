#!/usr/bin/env bash
# Benchmarks `spamwarden logs` against its peers on one large synthetic Exim main log.
#
#   bench/logs/run.sh [--size-mb N] [--seed S] [--runs R] [--keep] [--skip-eximstats]
#                     [--full-eximstats] [--prefix-mb P]
#
# Builds what is missing (scripts/build.sh release), generates the log once into bench/out/
# (plus a pigz copy), warms the page cache, then times every peer on the same bytes, in R
# rounds (default 3) of one run per peer, keeping each peer's best:
#   spamwarden    build/spamwarden logs --json --no-cache LOG
#   pipeline      grep cwd | grep -v /var/spool | awk | awk | sort | uniq -c | sort -n
#   eximstats     eximstats LOG (one run on a P MB prefix, scaled linearly; or the whole log)
#   wc -l         wc -l LOG
#   zcat          zcat LOG.gz
#   spamwarden.gz build/spamwarden logs --json LOG.gz
#   rotated_first build/spamwarden logs --json over the same log as a rotated set (today's log
#                 plus the days before it as exim_mainlog-YYYYMMDD.gz), summary cache emptied
#   rotated_rerun the same again: the rotated days' summary and today's log's state come from
#                 the cache (today's log is unchanged: nothing is parsed)
#   rotated_next_day
#                 the rotated set the morning after a rotation: the cache as the run of the day
#                 before left it (its set: the same days less the newest, then today's log), so
#                 the set's summary does not serve and each older day's own summary does
#                 (--cache-each-file, in both runs)
#   rotated_first_each
#                 the first run with --cache-each-file, cache emptied: what the option costs
#   stuck_queue   build/spamwarden logs --json --no-cache over a log of the same size whose spam
#                 is deferred and still queued at its end (gen_stuck_queue.py: about 1.7 million
#                 messages in flight on 1100 MB), once: its peak RSS and its count of them
#   actor_auth, actor_script
#                 build/spamwarden logs --actor auth:ACCOUNT LOG (and script:DIR), the planted
#                 compromised account and spamming script, against grep_auth and grep_script:
#                 grep -c KEY LOG, the count an admin starts with (its output goes to a file: with
#                 stdout on /dev/null GNU grep stops at the first match)
#   floor         build/bench/logs/scan_floor LOG: read, split lines, join each to its message
#                 by id, on every core, and nothing else (the least a per-message report does)
#   lean          build/bench/logs/scan_lean LOG: the floor plus taking lines apart and
#                 counting every actor kind with peak windows, in a design built for speed,
#                 without evidence or findings (what a redesign of the report could expect)
# Wall time comes from the shell clock (ns), less the harness's own (GNU time starting bash
# starting an empty command, timed in every round like a peer), peak RSS from GNU time (%M).
# All peers run with LC_ALL=C, the fastest setting for grep/sort, so the bar is not lowered by
# a slow locale.
# Prints a table with the targets and PASS/FAIL, and writes it to bench/out/logs-results.md.
# Exit status: 0 when the run completed (whatever the verdicts), 2 on bad usage, 3 when the
# log could not be generated.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

size_mb=1100 seed=1 runs=3 keep=0 skip_ex=0 full_ex=0 prefix_mb=100
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --size-mb) size_mb=$2; shift ;;
    --seed) seed=$2; shift ;;
    --runs) runs=$2; shift ;;
    --prefix-mb) prefix_mb=$2; shift ;;
    --keep) keep=1 ;;
    --skip-eximstats) skip_ex=1 ;;
    --full-eximstats) full_ex=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ $size_mb =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ && $runs =~ ^[1-9][0-9]*$ && $prefix_mb =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: sizes, seed and runs are positive integers" >&2; exit 2; }

export LC_ALL=C
OUT=$ROOT/bench/out
BUILD=$ROOT/build
GEN=$BUILD/bench/logs/gen_mainlog
SW=$BUILD/spamwarden
FLOOR=$BUILD/bench/logs/scan_floor
LEAN=$BUILD/bench/logs/scan_lean
mkdir -p "$OUT"
note() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- build
sw_note=""
if [[ ! -f $BUILD/build.ninja || ! -x $GEN || ! -x $SW ]]; then
  note "run.sh: building (scripts/build.sh release)"
  scripts/build.sh release >"$OUT/logs-build.log" 2>&1 || note "run.sh: full build failed, see bench/out/logs-build.log"
fi
if ! cmake --build "$BUILD" --target gen_mainlog scan_floor scan_lean >>"$OUT/logs-build.log" 2>&1; then
  note "run.sh: cannot build gen_mainlog, scan_floor or scan_lean, see bench/out/logs-build.log"; exit 3
fi
if ! cmake --build "$BUILD" --target spamwarden >>"$OUT/logs-build.log" 2>&1; then
  if [[ -x $SW ]]; then sw_note="spamwarden did not rebuild (see bench/out/logs-build.log); timed the existing binary"
  else sw_note="spamwarden does not build yet (see bench/out/logs-build.log)"; fi
  note "run.sh: $sw_note"
fi
for tool in pigz zcat eximstats; do
  command -v $tool >/dev/null || { note "run.sh: $tool missing: run scripts/setup-deps.sh"; exit 3; }
done
[[ -x /usr/bin/time ]] || { note "run.sh: GNU time missing: run scripts/setup-deps.sh"; exit 3; }

# ---------------------------------------------------------------- the log
gen_hash=$(cat bench/logs/gen_*.h bench/logs/gen_*.cc | sha1sum | cut -c1-8)
base=$OUT/mainlog-${size_mb}mb-s${seed}-${gen_hash}
LOG=$base.log GZ=$base.log.gz TRUTH=$base.truth PREFIX=$base.prefix${prefix_mb}mb.log
created=()
gen_secs=""
if [[ -s $LOG && -s $TRUTH ]]; then
  note "run.sh: reusing $(basename "$LOG")"
else
  # Logs from other sizes, seeds or generator versions are caches: drop them.
  rm -f "$OUT"/mainlog-*
  note "run.sh: generating ${size_mb} MB log (seed $seed)"
  t0=$(date +%s%N)
  "$GEN" --size-mb "$size_mb" --seed "$seed" --print-truth >"$LOG.tmp" 2>"$TRUTH.tmp" ||
    { note "run.sh: gen_mainlog failed"; rm -f "$LOG.tmp" "$TRUTH.tmp"; exit 3; }
  t1=$(date +%s%N)
  gen_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  mv "$LOG.tmp" "$LOG"; mv "$TRUTH.tmp" "$TRUTH"
  created+=("$LOG" "$TRUTH")
fi
if [[ ! -s $GZ ]]; then
  note "run.sh: compressing with pigz"
  pigz -6 -c "$LOG" >"$GZ.tmp" && mv "$GZ.tmp" "$GZ"
  created+=("$GZ")
fi
if [[ ! -s $PREFIX ]]; then
  # The first P MB, cut back to a whole line. Before the mid-log Exim upgrade, so Debian 12's
  # eximstats (4.96, 16-character ids only) reads every line of it.
  head -c $((prefix_mb * 1000000)) "$LOG" | head -n -1 >"$PREFIX"
  created+=("$PREFIX")
fi
# The same log as a server keeps it: one file per day, the days before today rotated and
# compressed (cPanel's exim_mainlog-YYYYMMDD.gz), today's (the last, partial day) as it is.
ROT=$base.rotated
if [[ ! -s $ROT/exim_mainlog ]]; then
  note "run.sh: splitting the log into days (the rotated set)"
  rm -rf "$ROT"; mkdir -p "$ROT"
  awk -v dir="$ROT" '$1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ && $1 != day {
      if (out != "") close(out); day = $1; d = day; gsub("-", "", d); out = dir "/exim_mainlog-" d }
    { print > out }' "$LOG"
  last=$(ls "$ROT" | sort | tail -n 1)
  mv "$ROT/$last" "$ROT/exim_mainlog"
  for f in "$ROT"/exim_mainlog-*; do pigz -6 "$f"; done
  created+=("$ROT")
fi
# A stuck queue: most of the mail deferred and still queued at the end of the log.
STUCK=$OUT/stuck-queue-${size_mb}mb.log
if [[ ! -s $STUCK ]]; then
  note "run.sh: generating the stuck queue's ${size_mb} MB log"
  python3 bench/logs/gen_stuck_queue.py --size-mb "$size_mb" >"$STUCK.tmp" 2>"$STUCK.truth"
  mv "$STUCK.tmp" "$STUCK"
  created+=("$STUCK" "$STUCK.truth")
fi
rotated=("$ROT"/exim_mainlog-*.gz "$ROT/exim_mainlog")
rotated_q=$(for f in "${rotated[@]}"; do printf '%q ' "$f"; done)
# The day before: the same days less the newest rotated one, which was then the live log.
YEST=$ROT.yesterday
mapfile -t older < <(printf '%s\n' "$ROT"/exim_mainlog-*.gz | sort)
newest=${older[-1]}
unset 'older[-1]'
if [[ ! -s $YEST/exim_mainlog ]]; then
  rm -rf "$YEST"; mkdir -p "$YEST"
  zcat "$newest" >"$YEST/exim_mainlog"
  created+=("$YEST")
fi
yesterday=("${older[@]}" "$YEST/exim_mainlog")
CACHE=$OUT/logs-state CACHE_Y=$OUT/logs-state-yesterday CACHE_N=$OUT/logs-state-next-day
cleanup() {
  rm -rf "$CACHE" "$CACHE_Y" "$CACHE_N"
  ((keep)) && return 0
  ((${#created[@]})) && rm -rf "${created[@]}"
  return 0
}
trap cleanup EXIT

log_bytes=$(stat -c %s "$LOG")
gz_bytes=$(stat -c %s "$GZ")
prefix_bytes=$(stat -c %s "$PREFIX")
log_mb=$(awk -v b="$log_bytes" 'BEGIN{printf "%.0f", b/1e6}')
note "run.sh: warming the page cache"
cat "$LOG" "$GZ" "$PREFIX" "${rotated[@]}" >/dev/null
cat "$LOG" "$GZ" "$PREFIX" "${rotated[@]}" >/dev/null

# ---------------------------------------------------------------- timing
# measure_once NAME CMD: one run of CMD under bash -c, its stderr to bench/out/logs-NAME.stderr.
# Keeps the best wall seconds in T[NAME], the least CPU seconds (user+sys, all processes and
# threads) in C[NAME], the largest peak RSS (KB) in M[NAME], the last exit status in RC[NAME]
# and the number of runs in N[NAME].
declare -A T C M RC N
measure_once() {
  local name=$1 cmd=$2 rc=0 t0 t1 wall rss cpu
  t0=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$OUT/.time" bash -c "$cmd" 2>"$OUT/logs-$name.stderr" || rc=$?
  t1=$(date +%s%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  read -r rss cpu < <(tail -n 1 "$OUT/.time" | awk '{printf "%d %.2f\n", $1, $2 + $3}')
  [[ $rss =~ ^[0-9]+$ ]] || rss=0
  if [[ -z ${T[$name]:-} ]] || awk -v w="$wall" -v b="${T[$name]}" 'BEGIN{exit !(w<b)}'; then T[$name]=$wall; fi
  if [[ -z ${C[$name]:-} ]] || awk -v w="$cpu" -v b="${C[$name]}" 'BEGIN{exit !(w<b)}'; then C[$name]=$cpu; fi
  ((rss > ${M[$name]:-0})) && M[$name]=$rss
  RC[$name]=$rc N[$name]=$((${N[$name]:-0} + 1))
  note "  $name run ${N[$name]}: ${wall}s wall, ${cpu}s CPU, $((rss / 1024)) MB, exit $rc"
}

q() { printf '%q' "$1"; }
sw_ok=0
if [[ -x $SW ]] && "$SW" logs --help >/dev/null 2>&1; then sw_ok=1; fi

# The timed peers take turns, one run each per round: this machine's speed drifts from minute
# to minute, and rounds spread the drift over every peer instead of favouring whoever ran in
# a fast minute.
declare -A CMD
order=()
if ((sw_ok)); then
  # Exit 1 means "findings", which this log always has. --no-cache: a run stores the state at
  # the end of a live log (and a .gz is a rotated log, whose summary it stores) in the default
  # state directory, and every later run would resume from it instead of parsing the log.
  CMD[spamwarden]="$(q "$SW") logs --json --no-cache $(q "$LOG") >$(q "$OUT/logs-spamwarden.json")"
  CMD[spamwarden_gz]="$(q "$SW") logs --json --no-cache $(q "$GZ") >/dev/null"
  # The engine split both ways, whatever the default on this machine's cores.
  CMD[spamwarden_e1]="$(q "$SW") logs --json --no-cache --engines 1 $(q "$LOG") >/dev/null"
  CMD[spamwarden_e2]="$(q "$SW") logs --json --no-cache --engines 2 $(q "$LOG") >/dev/null"
  # The log in slices, each folded by an engine of its own and merged (the report must not change).
  CMD[spamwarden_s2]="$(q "$SW") logs --json --no-cache --slices 2 $(q "$LOG") >$(q "$OUT/logs-spamwarden_s2.json")"
  CMD[spamwarden_s4]="$(q "$SW") logs --json --no-cache --slices 4 $(q "$LOG") >$(q "$OUT/logs-spamwarden_s4.json")"
  order+=(spamwarden spamwarden_gz spamwarden_e1 spamwarden_e2 spamwarden_s2 spamwarden_s4)
  # Each round: the first run over the rotated set (cache emptied), then the re-run from it.
  CMD[rotated_first]="rm -rf $(q "$CACHE") && $(q "$SW") logs --json --state-dir $(q "$CACHE") $rotated_q >$(q "$OUT/logs-rotated-first.json")"
  CMD[rotated_rerun]="$(q "$SW") logs --json --state-dir $(q "$CACHE") $rotated_q >/dev/null"
  # The morning after: the day before's cache, linked (not copied) afresh for each run.
  note "run.sh: the day before's run over ${#yesterday[@]} files, for its cache"
  rm -rf "$CACHE_Y"
  "$SW" logs --json --cache-each-file --state-dir "$CACHE_Y" "${yesterday[@]}" >/dev/null || true
  CMD[rotated_next_day]="rm -rf $(q "$CACHE_N") && cp -al $(q "$CACHE_Y") $(q "$CACHE_N") && $(q "$SW") logs --json --cache-each-file --state-dir $(q "$CACHE_N") $rotated_q >$(q "$OUT/logs-rotated-next-day.json")"
  # The first run with each rotated log's own summary: what the option costs.
  CMD[rotated_first_each]="rm -rf $(q "$CACHE_N") && $(q "$SW") logs --json --cache-each-file --state-dir $(q "$CACHE_N") $rotated_q >/dev/null"
  order+=(rotated_first rotated_rerun rotated_next_day rotated_first_each)
  # One actor's story, for the two planted culprits an admin would look into first.
  account=$(awk '/^culprit account /{for(i=1;i<=NF;i++) if($i ~ /^account=/){sub("account=","",$i); print $i}}' "$TRUTH")
  script_dir=$(awk '/^culprit script /{for(i=1;i<=NF;i++) if($i ~ /^dir=/){sub("dir=","",$i); print $i}}' "$TRUTH")
  if [[ -n $account && -n $script_dir ]]; then
    CMD[actor_auth]="$(q "$SW") logs --actor $(q "auth:$account") $(q "$LOG") >$(q "$OUT/logs-actor-auth.txt")"
    CMD[grep_auth]="grep -c -- $(q "$account") $(q "$LOG") >$(q "$OUT/logs-grep-auth.txt")"
    CMD[actor_script]="$(q "$SW") logs --actor $(q "script:$script_dir") $(q "$LOG") >$(q "$OUT/logs-actor-script.txt")"
    CMD[grep_script]="grep -c -- $(q "$script_dir") $(q "$LOG") >$(q "$OUT/logs-grep-script.txt")"
    order+=(actor_auth grep_auth actor_script grep_script)
  fi
fi
CMD[pipeline]="grep cwd $(q "$LOG") | grep -v /var/spool | awk -F\"cwd=\" '{print \$2}' | awk '{print \$1}' | sort | uniq -c | sort -n >$(q "$OUT/logs-pipeline.txt")"
CMD[wc]="wc -l $(q "$LOG") >/dev/null"
CMD[zcat]="zcat $(q "$GZ") >/dev/null"
CMD[floor]="$(q "$FLOOR") $(q "$LOG") >$(q "$OUT/logs-floor.txt")"
# On transparent huge pages, as spamwarden puts its own tables.
CMD[lean]="GLIBC_TUNABLES=glibc.malloc.hugetlb=1 $(q "$LEAN") $(q "$LOG") >$(q "$OUT/logs-lean.txt")"
order+=(pipeline wc zcat floor lean)
# The harness itself (GNU time starting bash starting an empty command): subtracted from every
# wall time in the targets, as hyperfine subtracts its shell's start. It is ~20 ms here: nothing
# beside a 1 s run, a sixth of a 0.1 s re-run.
CMD[harness]="true >/dev/null"
order+=(harness)

note "run.sh: timing ($runs rounds, best of each; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
for ((round = 0; round < runs; round++)); do
  for name in "${order[@]}"; do measure_once "$name" "${CMD[$name]}"; done
done
((sw_ok)) && measure_once stuck_queue "$(q "$SW") logs --json --no-cache $(q "$STUCK") >$(q "$OUT/logs-stuck-queue.json")"
((sw_ok)) && measure_once spamwarden_prefix "$(q "$SW") logs --json --no-cache $(q "$PREFIX") >$(q "$OUT/logs-spamwarden_prefix.json")"
ex_scaled=0
if ((!skip_ex)); then
  if ((full_ex)); then
    measure_once eximstats "eximstats $(q "$LOG") >/dev/null"
  else
    measure_once eximstats "eximstats $(q "$PREFIX") >/dev/null"
    eximstats_prefix=${T[eximstats]}
    T[eximstats]=$(awk -v t="${T[eximstats]}" -v f="$log_bytes" -v p="$prefix_bytes" 'BEGIN{printf "%.3f", t*f/p}')
    C[eximstats]=$(awk -v t="${C[eximstats]}" -v f="$log_bytes" -v p="$prefix_bytes" 'BEGIN{printf "%.2f", t*f/p}')
    ex_scaled=1
  fi
fi

# Net wall times (W): each best wall less the harness's best, what the targets are judged on.
declare -A W
harness=${T[harness]:-0}
for name in "${!T[@]}"; do W[$name]=$(awk -v t="${T[$name]}" -v h="$harness" 'BEGIN{n = t - h; printf "%.3f", (n > 0.001 ? n : 0.001)}'); done
if ((ex_scaled)); then
  W[eximstats]=$(awk -v t="$eximstats_prefix" -v h="$harness" -v f="$log_bytes" -v p="$prefix_bytes" 'BEGIN{printf "%.3f", (t-h)*f/p}')
fi

# ---------------------------------------------------------------- report
sw_status() {  # why a spamwarden row has no usable time, or "" when it has one
  local name=$1
  ((sw_ok)) || { echo "missing"; return; }
  local rc=${RC[$name]}
  [[ $rc == 0 || $rc == 1 ]] || { echo "failed (exit $rc)"; return; }
  echo ""
}
fmt_row() {  # name label command bytes [suffix]
  local name=$1 label=$2 cmd=${3//|/\\|} bytes=$4 st=""  # a | would end the table cell
  [[ $name == spamwarden* || $name == actor_* ]] && st=$(sw_status "$name")
  if [[ -n $st ]]; then printf '| %s | `%s` | %s | | | | | |\n' "$label" "$cmd" "$st"; return; fi
  if [[ -z ${T[$name]:-} ]]; then printf '| %s | `%s` | skipped | | | | | |\n' "$label" "$cmd"; return; fi
  awk -v l="$label" -v c="$cmd" -v t="${T[$name]}" -v w="${W[$name]}" -v u="${C[$name]}" -v b="$bytes" -v m="${M[$name]}" -v s="${5:-}" \
    'BEGIN{printf "| %s | `%s` | %.2f%s | %.3f | %.2f | %.0f | %.0f | %s |\n", l, c, t, s, w, u, b/1e6/w, m/1024, (s==""?"":"linear scale-up")}'
}
actors_in() {  # sum of a JSON report's actor_counts, 0 when absent
  awk '/"actor_counts"/{f=1; next} f && /}/{exit} f {gsub(/[^0-9]/, "", $2); s += $2} END{print s+0}' "$1" 2>/dev/null || echo 0
}
usable() { [[ -n ${T[$1]:-} ]] && { [[ $1 != spamwarden* && $1 != actor_* ]] || [[ -z $(sw_status "$1") ]]; }; }
verdict() {  # value op limit -> PASS/FAIL
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{ok = (op==">=") ? v>=l : v<=l; print ok ? "PASS" : "FAIL"}'
}
checks=()
add_check() {  # label target measured verdict
  checks+=("| $1 | $2 | $3 | $4 |")
}
if usable spamwarden; then
  sw=${W[spamwarden]}
  if usable pipeline; then
    r=$(awk -v a="${W[pipeline]}" -v b="$sw" 'BEGIN{printf "%.2f", a/b}')
    add_check "vs one-column pipeline" "≥ 1.5× faster" "${r}×" "$(verdict "$r" ">=" 1.5)"
  fi
  if usable eximstats; then
    r=$(awk -v a="${W[eximstats]}" -v b="$sw" 'BEGIN{printf "%.1f", a/b}')
    add_check "vs eximstats$( ((ex_scaled)) && echo ' (scaled)')" "≥ 45× faster" "${r}×" "$(verdict "$r" ">=" 45)"
  fi
  if usable wc; then
    r=$(awk -v a="$sw" -v b="${W[wc]}" 'BEGIN{printf "%.2f", a/b}')
    add_check "vs wc -l" "≤ 3× its time" "${r}×" "$(verdict "$r" "<=" 3)"
  fi
  rss=$(awk -v a="${M[spamwarden]}" 'BEGIN{printf "%.0f", a/1024}')
  add_check "peak RSS, plain log" "≤ 256 MB" "${rss} MB" "$(verdict "$rss" "<=" 256)"
  if usable spamwarden_prefix; then
    r=$(awk -v a="${M[spamwarden]}" -v b="${M[spamwarden_prefix]}" 'BEGIN{printf "%.2f", a/b}')
    add_check "RSS growth, ${prefix_mb} MB → ${log_mb} MB" "≤ 2× (bounded by actors)" "${r}×" "$(verdict "$r" "<=" 2)"
    # The requirement itself: memory follows the distinct actors. Bytes of peak RSS per
    # distinct actor (all kinds, from the report's actor_counts) must not grow with the log.
    a_full=$(actors_in "$OUT/logs-spamwarden.json") a_prefix=$(actors_in "$OUT/logs-spamwarden_prefix.json")
    if ((a_full > 0 && a_prefix > 0)); then
      b_full=$(awk -v m="${M[spamwarden]}" -v a="$a_full" 'BEGIN{printf "%.0f", m*1024/a}')
      b_prefix=$(awk -v m="${M[spamwarden_prefix]}" -v a="$a_prefix" 'BEGIN{printf "%.0f", m*1024/a}')
      add_check "RSS per distinct actor, ${prefix_mb} MB → ${log_mb} MB" "no higher on the whole log" \
        "${b_prefix} → ${b_full} B ($a_prefix → $a_full actors)" "$(verdict "$b_full" "<=" "$b_prefix")"
    fi
  fi
fi
# Slices merge to the report one engine gives: the same JSON but for its wall time.
same_report() { python3 -c 'import json,sys
a,b=(json.load(open(p)) for p in sys.argv[1:3])
for d in (a,b): d.pop("seconds",None)
sys.exit(a!=b)' "$1" "$2"; }
for s in s2 s4; do
  if usable "spamwarden_$s" && usable spamwarden; then
    if same_report "$OUT/logs-spamwarden.json" "$OUT/logs-spamwarden_$s.json"; then v=PASS; else v=FAIL; fi
    add_check "--slices ${s#s}: the same report" "byte for byte (but its time)" "${W[spamwarden_$s]} s, ${M[spamwarden_$s]} KB" "$v"
  fi
done
for kind in auth script; do
  if usable "actor_$kind" && usable "grep_$kind"; then
    r=$(awk -v a="${W[actor_$kind]}" -v b="${W[grep_$kind]}" 'BEGIN{printf "%.2f", a/b}')
    add_check "--actor $kind:… vs grep -c" "≤ 2× its time" "${r}× (${W[actor_$kind]} s against ${W[grep_$kind]} s)" "$(verdict "$r" "<=" 2)"
  fi
done
if usable spamwarden_gz && usable zcat; then
  r=$(awk -v a="${W[zcat]}" -v b="${W[spamwarden_gz]}" 'BEGIN{printf "%.2f", a/b}')
  add_check "gzip input vs zcat" "≥ 1.0× zcat's speed" "${r}×" "$(verdict "$r" ">=" 1.0)"
  rss=$(awk -v a="${M[spamwarden_gz]}" 'BEGIN{printf "%.0f", a/1024}')
  add_check "peak RSS, gzip log" "≤ 256 MB" "${rss} MB" "$(verdict "$rss" "<=" 256)"
fi

if usable stuck_queue; then
  rss=$(awk -v a="${M[stuck_queue]}" 'BEGIN{printf "%.0f", a/1024}')
  want=$(sed -n 's/.*still_queued=\([0-9]*\).*/\1/p' "$STUCK.truth")
  got=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["still_queued"])' "$OUT/logs-stuck-queue.json")
  v=$(verdict "$rss" "<=" 256)
  [[ $got == "$want" ]] || v="FAIL (still queued: $got, generated $want)"
  add_check "peak RSS, a stuck queue ($want messages in flight)" "≤ 256 MB" "${rss} MB" "$v"
fi

if usable rotated_first && usable rotated_rerun; then
  r=$(awk -v a="${W[rotated_first]}" -v b="${W[rotated_rerun]}" 'BEGIN{printf "%.1f", a/b}')
  raw=$(awk -v a="${T[rotated_first]}" -v b="${T[rotated_rerun]}" 'BEGIN{printf "%.1f", a/b}')
  add_check "re-run over an unchanged rotated set" "≥ 20× faster than the first run" "${r}× (${raw}× with the harness)" "$(verdict "$r" ">=" 20)"
  rss=$(awk -v a="${M[rotated_first]}" 'BEGIN{printf "%.0f", a/1024}')
  add_check "peak RSS, rotated set (first run)" "≤ 256 MB" "${rss} MB" "$(verdict "$rss" "<=" 256)"
fi

if usable rotated_first && usable rotated_next_day; then
  r=$(awk -v a="${W[rotated_first]}" -v b="${W[rotated_next_day]}" 'BEGIN{printf "%.1f", a/b}')
  if same_report "$OUT/logs-rotated-first.json" "$OUT/logs-rotated-next-day.json"; then v=PASS; else v=FAIL; fi
  add_check "the morning after a rotation (--cache-each-file): the same report" "byte for byte (but its time)" "${r}× faster than a first run" "$v"
  rss=$(awk -v a="${M[rotated_next_day]}" 'BEGIN{printf "%.0f", a/1024}')
  add_check "peak RSS, the morning after (--cache-each-file)" "≤ 256 MB" "${rss} MB" "$(verdict "$rss" "<=" 256)"
fi

# The wall time each speed target leaves the full report, against the floor's own time.
allow=()
allow_row() {  # label allowed_seconds
  awk -v l="$1" -v a="$2" -v f="${W[floor]}" -v s="${W[spamwarden]:-0}" -v n="${W[lean]:-0}" \
    'BEGIN{printf "| %s | %.2f s | %.2f s | %.2f s | %.2f s (%.1f× the floor) | %.2f s |\n", l, a, f, a-f, s, s/f, n}'
}
if usable floor && usable spamwarden; then
  usable pipeline && allow+=("$(allow_row "≥ 1.5× faster than the pipeline" "$(awk -v t="${W[pipeline]}" 'BEGIN{print t/1.5}')")")
  usable eximstats && allow+=("$(allow_row "≥ 45× faster than eximstats" "$(awk -v t="${W[eximstats]}" 'BEGIN{print t/45}')")")
  usable wc && allow+=("$(allow_row "≤ 3× wc -l" "$(awk -v t="${W[wc]}" 'BEGIN{print t*3}')")")
fi

lines=$(awk '/^truth bytes=/{for(i=1;i<=NF;i++) if($i ~ /^lines=/){sub("lines=","",$i); print $i}}' "$TRUTH")
{
  echo "# spamwarden logs benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted src changes)')"
  echo "- machine: $(nproc) cores, $(awk '/model name/{sub(/^[^:]*: /,""); print; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- log: $(basename "$LOG"), ${log_bytes} bytes, ${lines:-?} lines; gzip copy ${gz_bytes} bytes; warm page cache; LC_ALL=C"
  [[ -n $gen_secs ]] && echo "- generator: ${gen_secs} s for ${log_mb} MB ($(awk -v b="$log_bytes" -v t="$gen_secs" 'BEGIN{printf "%.0f", b/1e6/t}') MB/s, to disk)"
  [[ -n $sw_note ]] && echo "- note: $sw_note"
  echo "- best of $runs runs, the peers taking turns round by round (eximstats: 1 run$( ((ex_scaled)) && echo " on the first ${prefix_mb} MB, scaled linearly to the whole log"))"
  echo
  echo "| peer | command | wall s | net s | CPU s | MB/s | peak RSS MB | note |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  fmt_row spamwarden "spamwarden" "spamwarden logs --json --no-cache LOG" "$log_bytes"
  fmt_row pipeline "one-column pipeline" "grep cwd LOG | grep -v /var/spool | awk -F\"cwd=\" '{print \$2}' | awk '{print \$1}' | sort | uniq -c | sort -n" "$log_bytes"
  if ((ex_scaled)); then fmt_row eximstats "eximstats" "eximstats LOG" "$log_bytes" " (scaled)"
  else fmt_row eximstats "eximstats" "eximstats LOG" "$log_bytes"; fi
  fmt_row wc "wc -l" "wc -l LOG" "$log_bytes"
  fmt_row zcat "zcat" "zcat LOG.gz" "$log_bytes"
  fmt_row floor "floor: read + split + join by id" "scan_floor LOG" "$log_bytes"
  fmt_row lean "lean sketch: floor + arrivals taken apart + all actors counted" "scan_lean LOG" "$log_bytes"
  fmt_row spamwarden_gz "spamwarden, gzip" "spamwarden logs --json --no-cache LOG.gz" "$log_bytes"
  fmt_row spamwarden_e1 "spamwarden, one engine thread" "spamwarden logs --json --no-cache --engines 1 LOG" "$log_bytes"
  fmt_row spamwarden_e2 "spamwarden, two engine threads (senders on the second)" "spamwarden logs --json --no-cache --engines 2 LOG" "$log_bytes"
  fmt_row spamwarden_s2 "spamwarden, two slices merged" "spamwarden logs --json --no-cache --slices 2 LOG" "$log_bytes"
  fmt_row spamwarden_s4 "spamwarden, four slices merged" "spamwarden logs --json --no-cache --slices 4 LOG" "$log_bytes"
  fmt_row spamwarden_prefix "spamwarden, ${prefix_mb} MB prefix" "spamwarden logs --json --no-cache PREFIX" "$prefix_bytes"
  fmt_row rotated_first "spamwarden, rotated set, first run" "spamwarden logs --json exim_mainlog-*.gz exim_mainlog (${#rotated[@]} files, cache empty)" "$log_bytes"
  fmt_row actor_auth "spamwarden, one account's story" "spamwarden logs --actor auth:ACCOUNT LOG" "$log_bytes"
  fmt_row grep_auth "grep -c the account" "grep -c ACCOUNT LOG" "$log_bytes"
  fmt_row actor_script "spamwarden, one script's story" "spamwarden logs --actor script:DIR LOG" "$log_bytes"
  fmt_row grep_script "grep -c the script's directory" "grep -c DIR LOG" "$log_bytes"
  fmt_row rotated_rerun "spamwarden, rotated set, re-run" "the same again (rotated days and today's log's state from the cache)" "$log_bytes"
  fmt_row rotated_first_each "spamwarden, rotated set, first run, each file's summary too" "the first run with --cache-each-file" "$log_bytes"
  fmt_row rotated_next_day "spamwarden, rotated set, the morning after a rotation" "--cache-each-file, from the cache of the day before (older days' own summaries; the new day and today's log read)" "$log_bytes"
  echo
  echo "net s is the wall time less the harness's own (GNU time starting bash starting an empty"
  echo "command: $(awk -v h="$harness" 'BEGIN{printf "%.0f", h*1000}') ms here), as hyperfine subtracts its shell's start; the targets below use it."
  echo "MB/s is net wall-clock, over uncompressed bytes (10^6) for every row, the gzip ones included."
  echo "CPU s is user+sys of all processes and threads: on a busy machine it shows what wall time hides."
  echo
  if ((${#checks[@]})); then
    echo "| target | wanted | measured | result |"
    echo "|---|---|---:|---|"
    printf '%s\n' "${checks[@]}"
  else
    echo "No targets checked: spamwarden logs is missing or failed."
  fi
  echo
  if ((${#allow[@]})); then
    echo "What each speed target allows, next to the floor (scan_floor: every byte read, every line"
    echo "split and joined to its message by id on all cores, nothing parsed or counted):"
    echo
    echo "| target | full report may take | floor | left for parsing, counting, findings, output | spamwarden now | lean sketch |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${allow[@]}"
    floor_lines=$(awk '{print $2}' "$OUT/logs-floor.txt" 2>/dev/null)
    [[ -n ${lines:-} && $floor_lines != "$lines" ]] && echo && echo "Warning: scan_floor saw ${floor_lines:-no} lines, the generator wrote $lines."
    # The sketch must have counted what the report counts: its senders against the report's.
    lean_senders=$(awk '{for(i=1;i<NF;i++) if($i=="sender") print $(i+1)}' "$OUT/logs-lean.txt" 2>/dev/null)
    sw_senders=$(grep -o '"sender": *[0-9][0-9]*' "$OUT/logs-spamwarden.json" 2>/dev/null | head -1 | grep -o '[0-9]*$')
    [[ -n $sw_senders && $lean_senders != "$sw_senders" ]] && echo && echo "Warning: scan_lean counted ${lean_senders:-no} senders, the report $sw_senders."
    echo
  fi
  echo "Naive one-column pipeline, top 5 (compare with the planted truth below):"
  echo
  echo '```'
  tail -n 5 "$OUT/logs-pipeline.txt" 2>/dev/null || true
  echo '```'
  echo
  echo "Planted truth (gen_mainlog --print-truth):"
  echo
  echo '```'
  grep -E '^(culprit|legit) ' "$TRUTH" || true
  echo '```'
} >"$OUT/logs-results.md"
cat "$OUT/logs-results.md"
rm -f "$OUT/.time"
