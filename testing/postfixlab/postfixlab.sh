#!/usr/bin/env bash
# postfixlab.sh: a throwaway private Postfix on 127.0.0.1 from the unpacked Debian package at
# /opt/spamwarden/postfix (see README.md). Needs root (Postfix's master starts as root).
#
#   postfixlab.sh start DIR --port PORT [--policy 127.0.0.1:PP] [--restrictions "R, R, ..."]
#                           [--sasl-auth 127.0.0.1:AP] [--policy-timeout SECONDS] [--main-cf "name = value"]...
#   postfixlab.sh stop DIR
#
# Mail is accepted by smtpd on 127.0.0.1:PORT and delivered to the discard transport (nothing
# leaves). --restrictions replaces smtpd_recipient_restrictions (default: the policy service, then
# permit). --main-cf appends a line to main.cf (e.g. smtpd_end_of_data_restrictions). --sasl-auth turns on SMTP AUTH against a Dovecot-protocol auth service at that address.
# Logs go to DIR/maillog. Only the master started from DIR's config is stopped (postfix stop).
set -euo pipefail
# shellcheck source=../process.sh
source "$(dirname "${BASH_SOURCE[0]}")/../process.sh"
ROOT=${SW_POSTFIX_ROOT:-/opt/spamwarden/postfix}
PFX=$ROOT/usr/sbin/postfix
export LD_LIBRARY_PATH=$ROOT/usr/lib/postfix

die() { echo "postfixlab: $*" >&2; exit 2; }
# The postfix command logs to syslog unless stderr is a terminal; give it one so errors are seen.
postfix_cmd() { script -qec "$PFX -c $1/etc $2" /dev/null; }

# Debian's postinst creates these; the unpacked package did not.
ensure_accounts() {
  getent group postdrop >/dev/null || addgroup --system --quiet postdrop
  getent passwd postfix >/dev/null ||
    adduser --system --group --home /var/spool/postfix --no-create-home --disabled-login --quiet postfix
}

write_main_cf() {
  local dir=$1 restrictions=$2 sasl=$3 policy_timeout=$4
  cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $dir/etc
meta_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
daemon_directory = $ROOT/usr/lib/postfix/sbin
shlib_directory = $ROOT/usr/lib/postfix
command_directory = $ROOT/usr/sbin
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH=$LD_LIBRARY_PATH
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = postfixlab.example
mydomain = postfixlab.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
default_transport = discard
relay_transport = discard
local_transport = discard
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = $restrictions
smtpd_policy_service_timeout = ${policy_timeout}s
smtpd_policy_service_default_action = DUNNO
CF
  if [[ -n $sasl ]]; then
    cat >>"$dir/etc/main.cf" <<CF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:$sasl
smtpd_tls_auth_only = no
broken_sasl_auth_clients = no
CF
  fi
}

write_master_cf() {
  local dir=$1 port=$2
  cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
}

start() {
  local dir=$1; shift
  local port="" policy="" restrictions="" sasl="" policy_timeout=2 extra=()
  while (($#)); do
    case $1 in
      --port) port=$2; shift 2 ;;
      --policy) policy=$2; shift 2 ;;
      --restrictions) restrictions=$2; shift 2 ;;
      --sasl-auth) sasl=$2; shift 2 ;;
      --policy-timeout) policy_timeout=$2; shift 2 ;;
      --main-cf) extra+=("$2"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || die "run as root"
  [[ -x $PFX ]] || die "no Postfix at $ROOT (scripts/setup-deps.sh unpacks it)"
  [[ -n $port ]] || die "start: --port is required"
  if [[ -z $restrictions ]]; then
    restrictions="permit_mynetworks, reject_unauth_destination"
    [[ -n $policy ]] && restrictions="check_policy_service inet:$policy, permit"
  fi
  ensure_accounts
  mkdir -p "$dir"/{etc,spool,data} "$dir/etc/dynamicmaps.cf.d" "$dir/etc/postfix-files.d"
  chmod 0755 "$dir"
  chown postfix "$dir/data"
  cp "$ROOT/etc/postfix/postfix-files" "$ROOT/usr/share/postfix/dynamicmaps.cf" "$dir/etc/"
  write_main_cf "$dir" "$restrictions" "$sasl" "$policy_timeout"
  write_master_cf "$dir" "$port"
  if ((${#extra[@]})); then printf '%s\n' "${extra[@]}" >>"$dir/etc/main.cf"; fi
  # Warnings about postdrop/postqueue not being set-gid concern local submission, unused here.
  postfix_cmd "$dir" start | grep -v -e 'postdrop' -e 'postqueue' >&2 || true
  for ((i = 0; i < 100; i++)); do
    if [[ -s $dir/spool/pid/master.pid ]] && kill -0 "$(tr -d ' ' <"$dir/spool/pid/master.pid")" 2>/dev/null &&
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "postfixlab: master $(tr -d ' ' <"$dir/spool/pid/master.pid") on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  tail -20 "$dir/maillog" >&2 2>/dev/null || true
  die "Postfix did not start; see $dir/maillog"
}

stop() {
  local dir=$1 pid=""
  [[ -f $dir/etc/main.cf ]] || return 0
  [[ -s $dir/spool/pid/master.pid ]] && pid=$(tr -d ' ' <"$dir/spool/pid/master.pid")
  postfix_cmd "$dir" stop >/dev/null 2>&1 || true
  # postfix stop signals the master; wait for it, and KILL that PID (only) if it hangs.
  if [[ -n $pid ]]; then
    for ((i = 0; i < 50; i++)); do running "$pid" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

cmd=${1:-}; shift || true
case $cmd in
  start) [[ $# -ge 1 ]] || die "usage: postfixlab.sh start DIR --port PORT ..."; start "$@" ;;
  stop) [[ $# -ge 1 ]] || die "usage: postfixlab.sh stop DIR"; stop "$1" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
