#!/usr/bin/env bash
# Checks that every source of the library and the command line compiles on its own, as a
# packager's plain (non-unity) build compiles it. The CI builds compile eight files as one, where
# a missing include or a helper of a neighbouring file goes unnoticed. Syntax only (clang, with
# the project's warnings as errors): about a fifth of what compiling each file costs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-standalone
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG= -DSW_WERROR=ON -DSW_TESTS=OFF \
  -DSW_BENCH=OFF -DCMAKE_UNITY_BUILD=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
# ninja's own compile commands, each made to check its file instead of writing an object.
commands=$(cd "$dir" && ninja -t commands spamwarden spamwarden_http | grep -E ' -c [^ ]+\.cc$' |
  sed -E 's/ -MD -MT [^ ]+ -MF [^ ]+//; s/ -o [^ ]+ -c / -fsyntax-only /')
count=$(grep -c . <<<"$commands")
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT
# Each check runs in the build directory (the commands' paths are relative to it).
if ! (cd "$dir" && tr '\n' '\0' <<<"$commands" |
  xargs -0 -P "$(nproc)" -I{} bash -c '{} 2>>"$1" || { echo "  in: ${0##* }" >>"$1"; exit 1; }' {} "$failures"); then
  head -n 60 "$failures"
  echo "check-standalone: the files above do not compile on their own" >&2
  exit 1
fi
echo "check-standalone: $count files compile on their own"
