#!/usr/bin/env bash
# Installs everything spamwarden needs to build, test, benchmark and demo, from Debian 12 packages.
# Idempotent: when every package is already installed it does nothing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates clang-format
  lld                                             # a quicker linker for the project's builds
  clang libclang-rt-14-dev                        # libFuzzer targets
  libgtest-dev libgmock-dev libbenchmark-dev      # tests, micro-benchmarks
  libcli11-dev libfmt-dev nlohmann-json3-dev      # CLI, formatting, JSON
  zlib1g-dev libsqlite3-dev libtomlplusplus-dev libcpp-httplib-dev
  liburing-dev                                    # batched spool reads (queue), io_uring
  libpcre2-dev                                    # --subject/--header regexes, with match limits
  exim4-daemon-heavy exim4-base swaks             # the real MTA for tests and demo; eximstats
  redis-server procps util-linux python3 gzip pigz time
  curl                                            # demo, bench and tests read watch's metrics
  libhiredis-dev libasio-dev                      # serve: Redis counters for a fleet
  libc-ares-dev libspf2-dev libunbound-dev libssl-dev bind9-dnsutils  # audit: DNS, SPF, DKIM keys
  dnsmasq-base ldnsutils                          # offline DNS servers for audit tests
  libgmime-3.0-dev                                # content filter: MIME decoding
  libisal-dev libdeflate-dev                      # logs: faster gzip inflate
  postgrey postfwd policyd-rate-limit socat       # bench/serve: today's policy daemons
  spamassassin spamc spamd rspamd bogofilter spamprobe  # bench/content: today's content filters
  libicu72 libdb5.3 libsasl2-2 ssl-cert cpio      # what the private Postfix needs (below)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Postfix conflicts with exim4 as a package (both are the MTA), so the tests' private Postfix
# is Debian's package unpacked beside it, never installed.
POSTFIX_ROOT=/opt/spamwarden/postfix
install_private_postfix() {
  [[ -x $POSTFIX_ROOT/usr/sbin/postfix ]] && return 0
  local dir
  dir=$(mktemp -d)
  (cd "$dir" && apt-get download -qq postfix 2>/dev/null && mkdir -p "$POSTFIX_ROOT" &&
    dpkg-deb -x postfix_*.deb "$POSTFIX_ROOT")
  rm -rf "$dir"
}
if ((${#missing[@]} == 0)); then
  install_private_postfix
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-deps: need root to install: ${missing[*]}" >&2
  exit 2
fi
echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps apt from starting the system exim4 daemon; tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if ((created_policy)); then rm -f "$policy"; fi
install_private_postfix
