#!/usr/bin/env bash
# Smoke test for gen_mainlog (registered with ctest by bench/logs/CMakeLists.txt):
#   1. the same arguments give the same bytes;
#   2. every line has the main-log prefix of exim-formats.md 1.2, and time never goes back;
#   3. Debian's eximstats reads a pre-upgrade sample and counts exactly the generator's
#      received and delivered messages (skipped when eximstats is not installed).
set -euo pipefail
gen=${1:?usage: gen_smoke_test.sh path/to/gen_mainlog}
# No dot in the path: eximstats reads any file whose path holds ".Z" or ".gz" through
# uncompress/gunzip, and mktemp's default /tmp/tmp.XXXXXXXXXX holds ".Z" about one time in 62.
tmp=$(mktemp -d /tmp/sw-gen-smoke-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "gen_smoke_test: $*" >&2; exit 1; }

"$gen" --size-mb 3 --seed 11 --upgrade-at 0.5 >"$tmp/a.log"
"$gen" --size-mb 3 --seed 11 --upgrade-at 0.5 >"$tmp/b.log"
cmp -s "$tmp/a.log" "$tmp/b.log" || fail "output differs between two identical runs"

id='([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4})'
bad=$(LC_ALL=C grep -Evc "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \[[0-9]+\] ($id )?[^ ]" "$tmp/a.log" || true)
((bad == 0)) || fail "$bad lines without a valid prefix"
LC_ALL=C grep -Eq "\] [0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4} <= " "$tmp/a.log" || fail "no 23-character ids"
LC_ALL=C grep -Eq "\] [0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2} <= " "$tmp/a.log" || fail "no 16-character ids"
cut -c1-19 "$tmp/a.log" | LC_ALL=C sort -c 2>/dev/null || fail "timestamps go back"

if command -v eximstats >/dev/null; then
  "$gen" --size-mb 3 --seed 12 --upgrade-at 1 --print-truth >"$tmp/c.log" 2>"$tmp/c.truth"
  want_rcv=$(sed -n 's/^truth received=\([0-9]*\) .*/\1/p' "$tmp/c.truth")
  want_dlv=$(sed -n 's/^truth .* delivered=\([0-9]*\) .*/\1/p' "$tmp/c.truth")
  eximstats -nr -nt -t0 -h0 "$tmp/c.log" >"$tmp/c.stats" 2>&1 || { tail -5 "$tmp/c.stats" >&2; fail "eximstats failed"; }
  got_rcv=$(awk '$1 == "Received" {print $3; exit}' "$tmp/c.stats")
  got_dlv=$(awk '$1 == "Delivered" {print $3; exit}' "$tmp/c.stats")
  [[ $got_rcv == "$want_rcv" ]] || fail "eximstats received $got_rcv, generator says $want_rcv"
  [[ $got_dlv == "$want_dlv" ]] || fail "eximstats delivered $got_dlv, generator says $want_dlv"
fi
echo "gen_smoke_test: ok"
