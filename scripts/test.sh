#!/usr/bin/env bash
# The README's test command: installs dependencies, builds the release and the ASan+UBSan
# flavours, runs every test in both (unit and real-Exim integration), then runs each libFuzzer
# target briefly. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-10}

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
scripts/setup-deps.sh

step "format (.clang-format)"
scripts/check-format.sh

step "build: release"
scripts/build.sh release
step "build: asan+ubsan"
scripts/build.sh asan
step "build: fuzz targets"
scripts/build.sh fuzz

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Tests that start real servers (Exim, Postfix, Redis, DNS in a namespace) or time a process under
# load run one at a time, once, in the sanitizer build, which covers the same code; the unit tests
# run in both builds, two at a time.
SERIAL='OnRealExim|EximLab|RealSpool|OnRealRedis|PostfixLab|ServeWithContentFilter|DnsLab|WatchProcess'
JOBS=${TEST_JOBS:-2}
step "tests: release (unit)"
ctest --test-dir build --output-on-failure --timeout 600 -j "$JOBS" -E "$SERIAL"
step "tests: asan+ubsan (unit)"
ctest --test-dir build-asan --output-on-failure --timeout 900 -j "$JOBS" -E "$SERIAL"
step "tests: asan+ubsan (real servers, one at a time)"
ctest --test-dir build-asan --output-on-failure --timeout 900 -R "$SERIAL"

step "fuzz: ${FUZZ_SECONDS}s per target"
shopt -s nullglob
for target in build-fuzz/src/*/fuzz_*; do
  [[ -x $target ]] || continue
  name=$(basename "$target")
  corpus=$(mktemp -d)
  seeds=$(dirname "${target/build-fuzz\//}")/testdata/$name
  [[ -d $seeds ]] && cp -rL "$seeds"/. "$corpus"/   # -L: seeds may link to test fixtures
  echo "-- $name"
  "$target" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -print_final_stats=0 "$corpus" 2>&1 | tail -n 2
  rm -rf "$corpus"
done

step "all tests passed"
