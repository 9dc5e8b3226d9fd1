#!/usr/bin/env bash
# Trains the default content model on the whole train half, as a fresh install could ship it:
#   bench/content/quality-default-model.sh STATE_DIR   -> STATE_DIR/content-model.bin
# Same SW_CORPUS_DIR / SW_TRAIN_LIST as quality.sh. Only train.txt's messages are read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state=${1:?usage: quality-default-model.sh STATE_DIR}
corpus=${SW_CORPUS_DIR:-$here}
list=${SW_TRAIN_LIST:-/work/shared/corpus/train.txt}
[[ -f $root/../shared/corpus/train.txt && -z ${SW_TRAIN_LIST:-} ]] && list=$root/../shared/corpus/train.txt
mkdir -p "$state"
for label in ham spam; do
  awk -F'\t' -v l="$label" -v base="$corpus" '$1 == l { print base "/" $2 }' "$list" |
    xargs -d '\n' "$root/build/spamwarden" learn "--$label" --state-dir "$state"
done
