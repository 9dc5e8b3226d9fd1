#!/usr/bin/env bash
# Builds one flavour: release (build/), asan (build-asan/), fuzz (build-fuzz/, clang + libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
case $flavour in
  release) dir=build;      args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DSW_SANITIZE=ON -DSW_BENCH=OFF) ;;
  # -O1: the targets run for seconds in the test command, where a quicker build matters more
  # than -O2's speed; -O0 builds a quarter quicker but runs the targets five times slower.
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DSW_FUZZ=ON -DSW_BENCH=OFF -DSW_TESTS=OFF
                                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
# lld links the sanitizer builds' large binaries about three times faster than ld.bfd (a
# packager's plain build keeps the system linker).
if command -v ld.lld >/dev/null; then
  args+=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld)
fi
# Every flavour compiles each target's files eight at a time as one (a unity build): the
# headers' inline code and templates are then compiled once per eight files, which saves a
# quarter of the release build and two thirds of the fuzz build. scripts/check-standalone.sh
# checks that each file still compiles on its own (a missing include, a helper of a neighbour).
args+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
# The release build also precompiles the external headers (json, fmt, GoogleTest) once per
# target: an eighth less compiling. Not the sanitizer build, where loading the 140 MB header in
# every file cost more than parsing it at -O0 saved.
if [[ $flavour == release ]]; then args+=(-DSW_PCH=ON); else args+=(-DSW_PCH=OFF); fi
cmake -S . -B "$dir" -G Ninja -DSW_WERROR=ON "${args[@]}" >/dev/null
targets=()
if [[ $flavour == fuzz ]]; then  # the fuzz targets (and what they link) and the binary, not the tests
  mapfile -t targets < <(ninja -C "$dir" -t targets all | sed -n 's/^\(fuzz_[a-z0-9_]*\): phony$/\1/p')
  targets+=(spamwarden)
fi
cmake --build "$dir" -j "$jobs" ${targets[@]+--target "${targets[@]}"}
