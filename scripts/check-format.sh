#!/usr/bin/env bash
# Checks that every C++ source in the tree follows .clang-format (Debian 12's clang-format 14);
# with --fix, formats them in place. Exit 1 and the offending lines when a file does not.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/check-format.$$; then
  grep -m 40 'error:' /tmp/check-format.$$ || true
  rm -f /tmp/check-format.$$
  echo "check-format: files above do not follow .clang-format; scripts/check-format.sh --fix formats them" >&2
  exit 1
fi
rm -f /tmp/check-format.$$
echo "check-format: ${#files[@]} files follow .clang-format"
