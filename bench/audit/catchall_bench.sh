#!/usr/bin/env bash
# The catch-all part of the audit on a 5,000-domain cPanel-shaped tree vs the admins' shell
# pipeline (grep '*:' /etc/valiases/* | egrep -v ':fail:'). Reports wall time and the ratio
# (target: within 2x). Usage: bench/audit/catchall_bench.sh [BUILD_DIR] [DOMAINS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
count=${2:-5000}
tree=$(mktemp -d /tmp/sw-audit-bench.XXXXXX)
trap 'rm -rf "$tree"' EXIT
"$here/catchall_tree.sh" "$tree" "$count"
cat "$tree"/etc/valiases/* > /dev/null  # both runs start from a warm page cache
best() {  # best of 5 wall times in ms
  local best=999999 t0 t1
  for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    "$@" > /dev/null
    t1=$(date +%s%N)
    (( (t1 - t0) / 1000000 < best )) && best=$(( (t1 - t0) / 1000000 ))
  done
  echo "$best"
}
grep_pipeline() { cd "$tree/etc/valiases" && grep '*:' ./* | grep -E -v ':fail:'; }
ours() { "$build/spamwarden" audit --root "$tree" --only C1 --json || [[ $? == 1 ]]; }
found_grep=$(grep_pipeline | wc -l)
found_ours=$("$build/spamwarden" audit --root "$tree" --only C1 --json | grep -c '"check": "C1"' || true)
t_grep=$(best grep_pipeline)
t_ours=$(best ours)
echo "domains=$count grep_pipeline_ms=$t_grep (catch-alls: $found_grep) spamwarden_ms=$t_ours (catch-alls: $found_ours)"
awk -v a="$t_ours" -v b="$t_grep" 'BEGIN { r = (b > 0 ? a / b : 0); printf "ratio spamwarden/grep = %.2f (target <= 2)\n", r }'
