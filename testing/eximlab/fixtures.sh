#!/usr/bin/env bash
# fixtures.sh: regenerate the real-Exim parser fixtures from two eximlab runs.
#
#   src/eximlog/testdata/real-4.96-pid.log     main log with +pid (flat spool)
#   src/eximlog/testdata/real-4.96-nopid.log   main log without +pid (split spool, like cPanel)
#   src/spool/testdata/real-4.96/{flat,split}/ -H/-D/msglog files of queued messages + exim -bp
#
# Usage: testing/eximlab/fixtures.sh [REPO_ROOT]     (root; takes about a minute)
# The runs use fixed seeds, but times, ids, pids and ports differ on every run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "${1:-$HERE/../..}" && pwd)
LAB=$HERE/eximlab.sh
LOG_OUT=$ROOT/src/eximlog/testdata
SPOOL_OUT=$ROOT/src/spool/testdata/real-4.96
labs=()

cleanup() {
  local d
  for d in "${labs[@]}"; do "$LAB" stop "$d" || true; rm -rf "$d"; done
}
trap cleanup EXIT

# play_varied DIR - every scenario, small, then queue runs and manual queue actions.
play_varied() {
  local d=$1 id
  "$LAB" play "$d" --seed 11 normal --count 30
  "$LAB" play "$d" --seed 12 script-burst --count 40 --reject-pct 10 --defer-pct 5
  "$LAB" play "$d" --seed 13 auth-burst --failed-logins 5 --count 2 --rcpts 60 --reject-pct 5 --defer-pct 3
  "$LAB" play "$d" --seed 14 dictionary --count 60
  "$LAB" play "$d" --seed 15 auth-bruteforce --count 10
  "$LAB" play "$d" --seed 16 random-senders --count 20 --reject-pct 20
  "$LAB" play "$d" --seed 17 backscatter --count 6 --frozen 2
  "$LAB" play "$d" --seed 18 queued --count 4
  "$LAB" play "$d" --seed 19 oddities
  "$LAB" settle "$d" --timeout 120
  # Queue runs: -q respects retry times ("retry time not reached"), -qff forces
  # another attempt of everything, frozen messages included.
  "$LAB" exim "$d" -q
  "$LAB" exim "$d" -qff
  # Manual queue actions: freeze + thaw one queued message, remove another.
  mapfile -t ids < <("$LAB" exim "$d" -bpru | awk '/^ *[0-9]+[smhd] / && $4 == "<alice@lab.example>" {print $3}')
  if ((${#ids[@]} >= 2)); then
    "$LAB" exim "$d" -Mf "${ids[0]}" >/dev/null
    "$LAB" exim "$d" -Mt "${ids[0]}" >/dev/null
    "$LAB" exim "$d" -Mrm "${ids[1]}" >/dev/null
  fi
  "$LAB" settle "$d" --timeout 60
}

# copy_spool DIR OUT - copy a few interesting queued messages (-H, -D, msglog) and exim -bp.
copy_spool() {
  local d=$1 out=$2 spool id rel n=0 seen=" "
  spool=$("$LAB" spool "$d")
  rm -rf "$out" && mkdir -p "$out"
  "$LAB" exim "$d" -bp >"$out/exim-bp.txt"
  # One of each: hijacked account (many rcpts, partly delivered), PHP script (U=userx1),
  # frozen bounce (<>), backscatter bounce to the victim, queued mail of a customer.
  for pat in 'sales@acme-shop.example' '^userx1@' '^<>$' 'j.doe@victim' 'alice@lab.example'; do
    id=$(find "$spool/input" -name '*-H' -print0 | xargs -0 grep -l -m1 -E "^<?${pat#^}" 2>/dev/null |
         sort | head -n1 | xargs -r basename | sed 's/-H$//')
    [[ -n $id && $seen != *" $id "* ]] || continue
    seen+="$id "
    for f in $(find "$spool/input" "$spool/msglog" -name "$id*"); do
      rel=${f#"$spool"/}
      mkdir -p "$out/$(dirname "$rel")"
      cp "$f" "$out/$rel"
    done
    n=$((n + 1))
  done
  chmod -R u+rwX,go+rX "$out"
  echo "fixtures: $n queued messages copied to $out"
}

# run_lab NAME START_ARGS... - start, play, collect the main log.
run_lab() {
  local name=$1 d; shift
  d=$(mktemp -d "/tmp/eximlab-fixtures-$name.XXXXXX")
  labs+=("$d")
  "$LAB" start "$d" "$@"
  play_varied "$d"
  cp "$("$LAB" mainlog "$d")" "$LOG_OUT/real-4.96-$name.log"
  chmod 0644 "$LOG_OUT/real-4.96-$name.log"
  echo "fixtures: $(wc -l <"$LOG_OUT/real-4.96-$name.log") lines -> $LOG_OUT/real-4.96-$name.log"
  LAST_LAB=$d
}

mkdir -p "$LOG_OUT" "$SPOOL_OUT"
run_lab pid
copy_spool "$LAST_LAB" "$SPOOL_OUT/flat"
run_lab nopid --no-pid --split-spool
copy_spool "$LAST_LAB" "$SPOOL_OUT/split"
