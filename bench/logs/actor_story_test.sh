#!/usr/bin/env bash
# `spamwarden logs --actor` on a generated log (registered with ctest by bench/logs/CMakeLists.txt):
# the planted culprits' counts from gen_mainlog --print-truth come out of each actor's story.
set -euo pipefail
gen=${1:?usage: actor_story_test.sh path/to/gen_mainlog path/to/spamwarden}
sw=${2:?usage: actor_story_test.sh path/to/gen_mainlog path/to/spamwarden}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "actor_story_test: $*" >&2; exit 1; }
field() { sed -n "s/^culprit $1 .*\\b$2=\\([^ ]*\\) .*/\\1/p" "$tmp/truth"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$gen" --size-mb 40 --seed 5 --print-truth >"$tmp/mainlog" 2>"$tmp/truth"
gzip -c "$tmp/mainlog" >"$tmp/mainlog.gz"

account=$(field account account)
story=$("$sw" logs --json --actor "auth:$account" "$tmp/mainlog") || fail "exit $? for auth:$account"
[[ $(json "['messages']" <<<"$story") == "$(field account messages)" ]] || fail "account messages: $story"
[[ $(json "['recipients']" <<<"$story") == "$(field account rcpts)" ]] || fail "account recipients"
[[ $(json "['failed_logins']" <<<"$story") -ge "$(field account failed_logins)" ]] || fail "account failed logins"
[[ $(json "['client_ips'].__len__()" <<<"$story") -ge "$(field account ips)" ]] || fail "account client IPs"

dir=$(field script dir)
story=$("$sw" logs --json --actor "script:$dir" "$tmp/mainlog.gz") || fail "exit $? for script:$dir"
[[ $(json "['messages']" <<<"$story") == "$(field script messages)" ]] || fail "script messages: $story"

ip=$(field dictionary ip)
story=$("$sw" logs --json --actor "ip:$ip" "$tmp/mainlog") || fail "exit $? for ip:$ip"
[[ $(json "['rejected_recipients']" <<<"$story") == "$(field dictionary rejected_rcpt)" ]] || fail "dictionary"

# --lines: every line holds the account or one of its message ids, as exigrep would give them.
"$sw" logs --lines --actor "auth:$account" "$tmp/mainlog" >"$tmp/lines"
[[ $(grep -ci -- "$account" "$tmp/lines") -ge "$(field account messages)" ]] || fail "--lines lacks arrivals"
set +e
"$sw" logs --actor "auth:nobody@nowhere.example" "$tmp/mainlog" >/dev/null
[[ $? == 1 ]] || fail "an actor not in the log must exit 1"
set -e
echo "actor_story_test: ok"
