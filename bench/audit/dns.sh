#!/usr/bin/env bash
# bench/audit/dns.sh: the DNS part of `spamwarden audit` (D1-D6) on a cPanel-shaped server with
# 5,000 hosted domains, against the admins' `dig` loop for SPF and DMARC, in one run.
#
#   bench/audit/dns.sh [--domains N] [--dig-domains N] [--in-flight N] [--shards N] [--keep]
#
# --dig-domains: the dig loop runs on the first N domains (default 500: 1,000 dig processes) and
# its time is extrapolated to all; --dig-domains 5000 runs it whole.
#
# Runs as root inside a private network+mount namespace (it re-executes itself under
# `unshare -m -n`): only loopback exists, /etc/resolv.conf is bind-mounted to 127.0.0.1, and
# dnsmasq (dnsmasq-base) serves every zone from generated configs (one front on 127.0.0.1 that
# forwards each domain to one of --shards back ends, see gen_dns_world.py), so the host's
# resolver and the network are never touched. Every dnsmasq is stopped by its PID.
#
# Measured: wall time of audit_dns_bench (every D-check of every domain: SPF evaluated with its
# includes, DMARC, DKIM key compared with the signing key file, MX and its A/AAAA, PTR/FCrDNS,
# the blocklist) and of `for d in ...; do dig +short TXT $d; dig +short TXT _dmarc.$d; done`
# (SPF and DMARC only, one process per lookup, as admins write it). Target: the full DNS audit of
# 5,000 domains in <= 30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${SW_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
BENCH=$BUILD/bench/audit/audit_dns_bench
DOMAINS=5000 DIG_DOMAINS=500 IN_FLIGHT=200 SHARDS=8 KEEP=0
while (($#)); do
  case $1 in
    --domains) DOMAINS=$2; shift 2 ;;
    --dig-domains) DIG_DOMAINS=$2; shift 2 ;;   # time the dig loop on the first N only (extrapolated)
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--domains N] [--dig-domains N] [--in-flight N] [--shards N] [--keep]" >&2; exit 2 ;;
  esac
done
DIG_DOMAINS=${DIG_DOMAINS:-$DOMAINS}
[[ $(id -u) == 0 ]] || { echo "dns.sh: needs root (unshare of the network namespace)" >&2; exit 3; }
for tool in dnsmasq dig openssl python3 unshare; do
  command -v $tool >/dev/null || { echo "dns.sh: $tool not installed" >&2; exit 3; }
done
[[ -x $BENCH ]] || { echo "dns.sh: $BENCH missing: ninja -C $BUILD audit_dns_bench" >&2; exit 3; }

if [[ ${SW_BENCH_AUDIT_NS:-} != 1 ]]; then
  exec unshare -m -n env SW_BENCH_AUDIT_NS=1 "$0" --domains "$DOMAINS" --dig-domains "$DIG_DOMAINS" \
    --in-flight "$IN_FLIGHT" --shards "$SHARDS" $( ((KEEP)) && echo --keep)
fi

# Inside the namespace.
WORK=$(mktemp -d /tmp/sw-bench-audit-dns.XXXXXX)
DNSMASQ_PIDS=()
cleanup() {
  for pid in "${DNSMASQ_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  ((KEEP)) && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
ip link set lo up
mount --make-rprivate /
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf

SERVER_IP=203.0.113.25
keys=()
for k in 1 2 3 4; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key$k.pem" 2>/dev/null
  openssl pkey -in "$WORK/key$k.pem" -pubout -outform DER | base64 -w0 >"$WORK/key$k.pem.pub.b64"
  keys+=("$WORK/key$k.pem")
done
python3 bench/audit/gen_dns_world.py "$WORK" "$DOMAINS" "$SHARDS" "$SERVER_IP" "${keys[@]}"
echo "world: $DOMAINS domains, $(cat "$WORK"/shard-*.conf | wc -l) records on $SHARDS dnsmasq back ends behind one"

start_dnsmasq() {  # ADDRESS CONF
  dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address="$1" --port=53 --user=root --cache-size=0 \
    --dns-forward-max=1000 --conf-file="$2" --pid-file="$2.pid" --log-facility="$2.log" &
  DNSMASQ_PIDS+=($!)
}
for ((k = 2; k < SHARDS + 2; k++)); do start_dnsmasq 127.0.0.$k "$WORK/shard-$k.conf"; done
start_dnsmasq 127.0.0.1 "$WORK/front.conf"
last=$(head -1 "$WORK/domains.plain")
for ((i = 0; i < 200; i++)); do
  [[ $(dig +short +time=1 +tries=1 A 2.0.0.127.zen.spamhaus.org 2>/dev/null) == 127.0.0.2 &&
     -n $(dig +short +time=1 +tries=1 A "$last" 2>/dev/null) ]] && break
  sleep 0.05
done
((i < 200)) || { echo "dns.sh: dnsmasq did not answer" >&2; exit 3; }

now() { date +%s.%N; }
t0=$(now)
"$BENCH" --domains "$WORK/domains.txt" --ip "$SERVER_IP" --helo server.hosting.example --resolver 127.0.0.1:53 \
  --dnsbl zen.spamhaus.org --in-flight "$IN_FLIGHT" | tee "$WORK/spamwarden.out"
t1=$(now)
head -n "$DIG_DOMAINS" "$WORK/domains.plain" >"$WORK/dig.domains"
for d in $(cat "$WORK/dig.domains"); do
  dig +short TXT "$d"
  dig +short TXT "_dmarc.$d"
done >"$WORK/dig.out"
t2=$(now)

awk -v n="$DOMAINS" -v dn="$DIG_DOMAINS" -v sw="$(echo "$t1 - $t0" | bc)" -v dg="$(echo "$t2 - $t1" | bc)" 'BEGIN {
  full = dg * n / dn
  printf "\n%-58s %10s\n", "DNS audit of " n " domains", "wall s"
  printf "%-58s %10.2f\n", "spamwarden: D1-D6 (SPF+includes, DMARC, DKIM+key, MX, PTR, DNSBL)", sw
  printf "%-58s %10.2f%s\n", "dig loop: SPF + DMARC TXT only (" dn " domains)", dg, ""
  if (dn != n) printf "%-58s %10.2f\n", "dig loop extrapolated to " n " domains", full
  printf "%-58s %9.1fx\n", "ratio dig loop / spamwarden", full / sw
  printf "%-58s %10s\n", "target: spamwarden <= 30 s", (sw <= 30 ? "met" : "MISSED")
}' | tee "$WORK/summary.txt"
