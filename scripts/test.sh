#!/usr/bin/env bash
# The README's test command: installs dependencies, builds the release and the ASan+UBSan
# flavours, runs every test in both (unit and real-Exim integration), then runs each libFuzzer
# target briefly. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-5}

step() { printf '\n==> %s  [%s]\n' "$*" "$(date +%T)"; }

step "dependencies"
scripts/setup-deps.sh

step "format (.clang-format)"
scripts/check-format.sh

step "build: release"
scripts/build.sh release
step "build: asan+ubsan"
scripts/build.sh asan
# The fuzz targets build, and each source is checked to compile on its own (the builds compile
# eight as one), while the tests run: the tests that start real servers mostly wait on them, so
# the two share the cores instead of taking turns. At the lowest priority, so the unit tests
# keep the cores and the build takes what the waiting tests leave. Its own session, so a
# failing test stops the whole build with it.
step "build: fuzz targets, files on their own (in the background while the tests run)"
fuzz_log=$(mktemp)
setsid nice -n 19 bash -c 'scripts/build.sh fuzz && scripts/check-standalone.sh' > "$fuzz_log" 2>&1 &
fuzz_build=$!
trap 'kill -- -$fuzz_build 2>/dev/null || true; rm -f "$fuzz_log"' EXIT

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Tests that start real servers (Exim, Postfix, Redis, DNS in a namespace) run once, in the
# sanitizer build, which covers the same code; the unit tests run in both builds, two at a time.
# Of the real-server tests, those that time what they watch (a hold within a second, a fleet's
# sync, a process under load) run one at a time; the rest mostly wait on their servers (two
# cores two-thirds busy with three at a time), and run three at a time (each lab has its own
# directory and ports).
SERIAL='OnRealExim|EximLab|RealSpool|OnRealRedis|PostfixLab|ServeWithContentFilter|DnsLab|WatchProcess'
TIMED='WatchOnRealExim|WatchProcess|ServeWithContentFilter|OnRealRedis|ServeOnRealExim'
JOBS=${TEST_JOBS:-2}
SERVER_JOBS=${SERVER_TEST_JOBS:-3}
step "tests: release (unit)"
ctest --test-dir build --output-on-failure --timeout 600 -j "$JOBS" -E "$SERIAL"
step "tests: asan+ubsan (unit)"
ctest --test-dir build-asan --output-on-failure --timeout 900 -j "$JOBS" -E "$SERIAL"
step "tests: asan+ubsan (real servers, three at a time)"
ctest --test-dir build-asan --output-on-failure --timeout 900 -j "$SERVER_JOBS" -R "$SERIAL" -E "$TIMED"
step "tests: asan+ubsan (real servers that time what they watch, one at a time)"
ctest --test-dir build-asan --output-on-failure --timeout 900 -R "$TIMED"

step "build: fuzz targets, files on their own (waiting)"
if ! wait "$fuzz_build"; then
  tail -n 60 "$fuzz_log"
  echo "fuzz build or check-standalone failed" >&2
  exit 1
fi
tail -n 2 "$fuzz_log"

# Each target runs for FUZZ_SECONDS on one core; two at a time.
fuzz_one() {
  local target=$1 name corpus seeds out
  name=$(basename "$target")
  corpus=$(mktemp -d)
  seeds=$(dirname "${target/build-fuzz\//}")/testdata/$name
  [[ -d $seeds ]] && cp -rL "$seeds"/. "$corpus"/   # -L: seeds may link to test fixtures
  if out=$("$target" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -print_final_stats=0 "$corpus" 2>&1); then
    echo "-- $name: $(tail -n 1 <<< "$out")"
  else
    echo "-- $name FAILED"
    tail -n 40 <<< "$out"
    rm -rf "$corpus"
    return 1
  fi
  rm -rf "$corpus"
}
export -f fuzz_one
export FUZZ_SECONDS
step "fuzz: ${FUZZ_SECONDS}s per target, two at a time"
shopt -s nullglob
targets=()
for target in build-fuzz/src/*/fuzz_*; do [[ -x $target ]] && targets+=("$target"); done
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'fuzz_one "$1"' _ {}

step "all tests passed"
