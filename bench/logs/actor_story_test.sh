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

# The web requests behind the script, from an access log under --root: the attacker's POSTs
# during the burst, not the page views of the site's other directories or of other days.
first=$(sed -n 's/^culprit script .* first="\([^"]*\)".*/\1/p' "$tmp/truth")
python3 - "$tmp/root" "$first" "$dir" <<'PY'
import datetime, os, sys
root, first, d = sys.argv[1], datetime.datetime.strptime(sys.argv[2], "%Y-%m-%d %H:%M:%S"), sys.argv[3]
url = d.split("/public_html", 1)[1]
logs = os.path.join(root, "home/userx1/access-logs")
os.makedirs(logs)
stamp = lambda t: t.strftime("%d/%b/%Y:%H:%M:%S +0000")
with open(os.path.join(logs, "example.com"), "w") as f:
    for i in range(40):
        t = first + datetime.timedelta(seconds=10 * i)
        f.write(f'203.0.113.66 - - [{stamp(t)}] "POST {url}/mailer.php HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n')
        f.write(f'198.51.100.7 - - [{stamp(t)}] "GET /index.php HTTP/1.1" 200 900 "-" "Mozilla/5.0"\n')
    late = first + datetime.timedelta(days=2)
    f.write(f'192.0.2.99 - - [{stamp(late)}] "POST {url}/mailer.php HTTP/1.1" 200 5 "-" "curl"\n')
    f.write("not an access log line\n")
PY
report=$("$sw" logs --json --root "$tmp/root" "$tmp/mainlog") && fail "the report must exit 1 (findings)" || true
web=$(json "['findings']" <<<"$report" | python3 -c "
import ast, sys
for f in ast.literal_eval(sys.stdin.read()):
    if f['kind'] == 'spamming_script' and f['actor'] == '$dir':
        w = f['web_requests']; print(w['requests'], w['client_ips'][0]['ip'], w['bad_lines'], w['block_commands'][0])")
[[ $web == "40 203.0.113.66 1 iptables -I INPUT -s 203.0.113.66 -j DROP" ]] || fail "web requests of the finding: $web"
story=$("$sw" logs --json --root "$tmp/root" --actor "script:$dir" "$tmp/mainlog")
[[ $(json "['web_requests']['requests']" <<<"$story") == 40 ]] || fail "web requests of the story: $story"

# --lines: every line holds the account or one of its message ids, as exigrep would give them.
"$sw" logs --lines --actor "auth:$account" "$tmp/mainlog" >"$tmp/lines"
[[ $(grep -ci -- "$account" "$tmp/lines") -ge "$(field account messages)" ]] || fail "--lines lacks arrivals"
set +e
"$sw" logs --actor "auth:nobody@nowhere.example" "$tmp/mainlog" >/dev/null
[[ $? == 1 ]] || fail "an actor not in the log must exit 1"
set -e
echo "actor_story_test: ok"
