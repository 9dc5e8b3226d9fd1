#!/usr/bin/env bash
# bench/audit/run.sh: the `spamwarden audit` benchmark on a cPanel-shaped server with 5,000 hosted
# domains, in one run: the DNS part (dns.sh: D1-D6 against a `dig` loop for SPF/DMARC) and, when
# the catch-all part (catchall_bench.sh on a catchall_tree.sh tree: the valiases scan against the admins'
# grep pipeline).
# Debian 12, as root. Options after the part's name go to that part:
#
#   bench/audit/run.sh                                  # both parts, defaults
#   bench/audit/run.sh --domains 5000 dns --dig-domains 5000
#   bench/audit/run.sh catchall build-release          # the catch-all part's build directory
#
# Targets: the full audit of 5,000 domains in <= 30 s; the catch-all part within 2x the grep pipeline.
set -euo pipefail
cd "$(dirname "$0")/../.."
DOMAINS=5000
DNS_ARGS=() CATCHALL_ARGS=()
while (($#)); do
  case $1 in
    --domains) DOMAINS=$2; shift 2 ;;
    dns) shift; while (($#)) && [[ $1 != catchall ]]; do DNS_ARGS+=("$1"); shift; done ;;
    catchall) shift; while (($#)) && [[ $1 != dns ]]; do CATCHALL_ARGS+=("$1"); shift; done ;;
    *) echo "usage: $0 [--domains N] [dns ARGS...] [catchall ARGS...]" >&2; exit 2 ;;
  esac
done

echo "== audit benchmark: $DOMAINS domains"
echo "== DNS part (bench/audit/dns.sh)"
bench/audit/dns.sh --domains "$DOMAINS" ${DNS_ARGS[@]+"${DNS_ARGS[@]}"}
echo "== catch-all part (bench/audit/catchall_bench.sh)"
bench/audit/catchall_bench.sh "${CATCHALL_ARGS[0]:-build}" "$DOMAINS"
