#!/usr/bin/env bash
# eximlab.sh: a throwaway real-Exim lab for spamwarden's tests, demo and benchmarks.
#
# Starts two private Exim daemons (Debian's exim4) under a directory it is given,
# plays spam incidents through them, and leaves a real Exim main log behind.
#   "server"   on 127.0.0.1:PORT  – the hosting server under investigation
#   "internet" on 127.0.0.2:PORT2 – the rest of the world; discards mail, except
#                                  *.defer.test (451 at RCPT) and *.reject.test (550)
# Everything listens on loopback only; processes are stopped by recorded PID only.
# Usage summary: eximlab.sh help   (full docs: testing/eximlab/README.md)
set -euo pipefail

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../process.sh
source "$LAB_HOME/../process.sh"
EXIM=${EXIM:-/usr/sbin/exim4}
PYTHON=${PYTHON:-/usr/bin/python3}   # not a pyenv shim: it is slow to start
EXIM_USER=Debian-exim
TRUSTED_LIST=/etc/exim4/trusted_configs
LOCK_FILE=/run/lock/eximlab.lock
LAB_USERS=(userx1 userx2 shopuser smileuser)
ACL_HOOKS=(connect helo mail rcpt predata data not_smtp auth quit notquit)

die() { echo "eximlab: $*" >&2; exit 1; }

usage() {
  cat <<'USAGE'
usage: eximlab.sh COMMAND DIR [args]
  start DIR [--port N] [--no-pid] [--millisec] [--split-spool] [--acl-include [HOOK:]FILE]...
        [--drop-privilege] [--watch-pid PID]
                                --millisec: log_selector +millisec (ms timestamps)
                                --drop-privilege: deliver_drop_privilege (delivery without the -Mc re-exec)
                                --watch-pid: stop the lab by itself when process PID ends
  stop DIR                      kill the lab's daemons, forget its trusted configs
  reload DIR                    SIGHUP the server daemon (after editing DIR/*.inc)
  mainlog DIR | spool DIR | port DIR | internet-mainlog DIR
  exim DIR ARGS...              exim4 -C DIR/server.conf ARGS (e.g. -bp, -Mf ID, -q)
  sendmail-as DIR USER CWD [sendmail args...]   (stdin = message; default args -t -i)
  play DIR SCENARIO [options]   scenarios: script-burst auth-burst dictionary
                                auth-bruteforce random-senders backscatter normal
                                queued incident  (python3 labplay.py SCENARIO -h)
  settle DIR [--timeout S]      wait until no message awaits a delivery attempt
  users                         create the lab's Unix users (userx1 userx2 shopuser smileuser)
USAGE
}

# ---------------------------------------------------------------- helpers

# abs_dir DIR - print the absolute path of an existing directory.
abs_dir() { [[ -d $1 ]] || die "no such directory: $1"; (cd "$1" && pwd); }

# free_port IP - print a TCP port that is free on IP right now.
free_port() {
  "$PYTHON" -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# is_listening IP PORT - true when something listens on IP:PORT (reads /proc, no connection made).
is_listening() {
  local hex
  hex=$(printf '%02X%02X%02X%02X:%04X' $(echo "$1" | awk -F. '{print $4, $3, $2, $1}') "$2")
  awk -v a="$hex" '$2 == a && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp
}

# pid_alive PIDFILE - true when the pid recorded in PIDFILE is a running exim process.
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q exim
}

# with_lock CMD... - run CMD while holding the lab-wide lock on the trusted_configs file.
with_lock() {
  mkdir -p "$(dirname "$LOCK_FILE")"
  ( flock -w 30 9 || die "cannot lock $LOCK_FILE"; "$@" ) 9>"$LOCK_FILE"
}

# trust_config FILE - list FILE in /etc/exim4/trusted_configs (Debian honours -C only for those).
trust_config() {
  [[ -e $TRUSTED_LIST ]] || install -o root -g root -m 0644 /dev/null "$TRUSTED_LIST"
  grep -qxF "$1" "$TRUSTED_LIST" || echo "$1" >>"$TRUSTED_LIST"
}

# untrust_config FILE - remove FILE from /etc/exim4/trusted_configs again.
untrust_config() {
  [[ -e $TRUSTED_LIST ]] || return 0
  local tmp
  tmp=$(mktemp "$TRUSTED_LIST.XXXXXX")
  grep -vxF "$1" "$TRUSTED_LIST" >"$tmp" || true
  chown root:root "$tmp" && chmod 0644 "$tmp" && mv "$tmp" "$TRUSTED_LIST"
}

# ---------------------------------------------------------------- lab data files

# write_lab_files DIR - mailboxes, aliases and SMTP AUTH accounts of the lab's domains.
write_lab_files() {
  local d=$1
  # Real mailboxes (local part@domain), delivered into DIR/mail/DOMAIN/LOCALPART.
  cat >"$d/mailboxes" <<'M'
sales@acme-shop.example
info@acme-shop.example
orders@acme-shop.example
support@acme-shop.example
john@acme-shop.example
info@smile-dental.example
dr.smile@smile-dental.example
reception@smile-dental.example
billing@smile-dental.example
postmaster@lab.example
abuse@lab.example
alice@lab.example
bob@lab.example
M
  # Aliases (cPanel valiases style): the forwarders make all_parents and backscatter real.
  cat >"$d/aliases" <<'A'
postmaster@acme-shop.example: info@acme-shop.example
postmaster@smile-dental.example: info@smile-dental.example
contact@acme-shop.example: owner.acme@freemail.reject.test
office@smile-dental.example: reception@smile-dental.example, dr.smile.home@mail.example
A
  # SMTP AUTH accounts: user:password (plaintext, looked up by the dovecot_* authenticators).
  cat >"$d/passwd" <<'P'
sales@acme-shop.example:secret
orders@acme-shop.example:orders123
info@acme-shop.example:info456
info@smile-dental.example:dental1
dr.smile@smile-dental.example:smile2
alice@lab.example:alicepw
bob@lab.example:bobpw
P
  chmod 0644 "$d/mailboxes" "$d/aliases" "$d/passwd"
}

# write_acl_hooks DIR HOOK:FILE... - copy each snippet to DIR/acl.d/ (root-owned, 0644: Exim
# opens included files after giving up root) and .include it from DIR/acl_<hook>.inc.
write_acl_hooks() {
  local d=$1 spec hook file n=0 copy; shift
  rm -rf "$d/acl.d" && mkdir -p "$d/acl.d"
  for spec in "$@"; do
    if [[ $spec == *:* ]]; then hook=${spec%%:*}; file=${spec#*:}
    else  # infer the hook from a name like acl_smtp_rcpt.inc or acl_not_smtp.inc
      file=$spec; hook=$(basename "$file" | sed -nE 's/^acl_(smtp_)?([a-z_]+[a-z])([._-].*)?$/\2/p')
    fi
    [[ " ${ACL_HOOKS[*]} " == *" $hook "* ]] || die "unknown ACL hook '$hook' in --acl-include $spec (one of: ${ACL_HOOKS[*]})"
    [[ -r $file ]] || die "cannot read ACL snippet $file"
    n=$((n + 1)); copy=$d/acl.d/$n-$hook-$(basename "$file")
    install -o root -g root -m 0644 "$file" "$copy"
    echo ".include $copy" >>"$d/acl_$hook.inc"
  done
}

# ---------------------------------------------------------------- Exim configurations

# write_server_conf DIR PORT IPORT PID(0|1) SPLIT(0|1) [MILLISEC(0|1)] - the hosting server's configuration.
# Names of routers, transports and authenticators follow cPanel's so the log looks like one.
write_server_conf() {
  local d=$1 port=$2 iport=$3 pid=$4 split=$5 millisec=${6:-0} dropriv=${7:-0} sel
  sel="+arguments +received_recipients +subject +incoming_port +smtp_connection +all_parents"
  sel+=" +sender_on_delivery +retry_defer"
  ((pid)) && sel+=" +pid"
  ((millisec)) && sel+=" +millisec"
  cat >"$d/server.conf" <<CONF
# eximlab "server" instance, generated by testing/eximlab/eximlab.sh - do not edit.
primary_hostname = host.lab.example
domainlist local_domains = @ : acme-shop.example : smile-dental.example : lab.example
domainlist relay_to_domains =
hostlist relay_from_hosts = <; 127.0.0.1

local_interfaces = 127.0.0.1
daemon_smtp_ports = $port
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/server.pid
split_spool_directory = $( ((split)) && echo true || echo false)
log_selector = $sel

# Debian specifics: deliveries never run as root; root is trusted anyway (for -f).
never_users = root
trusted_users = root
untrusted_set_sender = *
keep_environment =
$( ((dropriv)) && printf '%s\n' "# --drop-privilege: deliveries run as the Exim user from the start, so the receiving process" \
  "# delivers itself instead of re-executing Exim (-Mc) to regain root: still at once, one exec less." \
  "deliver_drop_privilege = true" || true)

# No DNS, no ident, no TLS: everything stays on loopback and is fast.
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
auth_advertise_hosts = *
dns_retrans = 1s
dns_retry = 1

# Immediate delivery of everything; bounded parallelism.
smtp_accept_max = 200
smtp_accept_queue_per_connection = 0
smtp_accept_max_per_host =
queue_run_max = 4
remote_max_parallel = 4
delay_warning = 0s
timeout_frozen_after = 0s
ignore_bounce_errors_after = 2d
message_size_limit = 20M
recipients_max = 0

acl_smtp_connect = acl_check_connect
acl_smtp_helo = acl_check_helo
acl_smtp_auth = acl_check_auth
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_predata = acl_check_predata
acl_smtp_data = acl_check_data
acl_smtp_quit = acl_check_quit
acl_smtp_notquit = acl_check_notquit
acl_not_smtp = acl_check_not_smtp

# Hook for later work: extra main-section options (ratelimit tables, event_action, ...).
.include_if_exists $d/main.inc

begin acl

# Every ACL starts with a hook: eximlab.sh start --acl-include HOOK:FILE writes DIR/acl_HOOK.inc.
acl_check_connect:
.include_if_exists $d/acl_connect.inc
  accept

acl_check_helo:
.include_if_exists $d/acl_helo.inc
  accept

acl_check_auth:
.include_if_exists $d/acl_auth.inc
  accept

acl_check_mail:
.include_if_exists $d/acl_mail.inc
  accept

acl_check_rcpt:
.include_if_exists $d/acl_rcpt.inc
  accept  hosts = :
  deny    message = Restricted characters in address
          local_parts = ^[./|] : ^.*[@%!|] : ^.*/\\\\.\\\\./
  deny    message = Unknown user
          domains = +local_domains
          !verify = recipient
  accept  domains = +local_domains
  accept  authenticated = *
  accept  hosts = +relay_from_hosts
  deny    message = relay not permitted

acl_check_predata:
.include_if_exists $d/acl_predata.inc
  accept

acl_check_data:
.include_if_exists $d/acl_data.inc
  accept

acl_check_quit:
.include_if_exists $d/acl_quit.inc
  accept

acl_check_notquit:
.include_if_exists $d/acl_notquit.inc
  accept

acl_check_not_smtp:
.include_if_exists $d/acl_not_smtp.inc
  accept

begin routers

# Hook for later work: routers placed before the lab's own.
.include_if_exists $d/routers.inc

lookuphost:
  driver = manualroute
  domains = ! +local_domains
  transport = remote_smtp
  route_list = * 127.0.0.2
  self = send
  no_more

virtual_aliases_nostar:
  driver = redirect
  domains = +local_domains
  data = \${lookup{\$local_part@\$domain}lsearch{$d/aliases}}
  allow_fail
  allow_defer

virtual_user:
  driver = accept
  domains = +local_domains
  condition = \${lookup{\$local_part@\$domain}lsearch{$d/mailboxes}{yes}{no}}
  transport = dovecot_virtual_delivery

localuser:
  driver = accept
  domains = @
  check_local_user
  transport = dovecot_delivery

fail_unknown_local:
  driver = redirect
  domains = +local_domains
  allow_fail
  data = :fail: Unknown user

begin transports

remote_smtp:
  driver = smtp
  port = $iport
  allow_localhost
  hosts_try_fastopen = :
  hosts_avoid_tls = *
  connect_timeout = 5s

# File names must be untainted: ret=key returns the key as stored in the (trusted) file.
dovecot_virtual_delivery:
  driver = appendfile
  file = $d/mail/\${lookup{\$local_part@\$domain}lsearch,ret=key{$d/mailboxes}}
  delivery_date_add
  envelope_to_add
  return_path_add
  user = $EXIM_USER
  group = $EXIM_USER
  mode = 0640

dovecot_delivery:
  driver = appendfile
  file = $d/mail/\${local_part_data}@host.lab.example
  delivery_date_add
  envelope_to_add
  return_path_add
  user = $EXIM_USER
  group = $EXIM_USER
  mode = 0640

begin retry
# Deferred messages stay queued: first retry after 15 minutes, give up after 4 days.
*  *  F,2h,15m; F,4d,1h

begin authenticators

dovecot_plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_advertise_condition = true
  server_condition = \${if eq{\$auth3}{\${lookup{\$auth2}lsearch{$d/passwd}{\$value}{*no user*}}}}
  server_set_id = \$auth2

dovecot_login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_advertise_condition = true
  server_condition = \${if eq{\$auth2}{\${lookup{\$auth1}lsearch{$d/passwd}{\$value}{*no user*}}}}
  server_set_id = \$auth1
CONF
  chmod 0644 "$d/server.conf"
}

# write_internet_conf DIR IPORT - "the internet": accepts and discards, except test domains.
write_internet_conf() {
  local d=$1 iport=$2
  cat >"$d/internet.conf" <<CONF
# eximlab "internet" instance, generated by testing/eximlab/eximlab.sh - do not edit.
primary_hostname = mx.internet.test
local_interfaces = 127.0.0.2
daemon_smtp_ports = $iport
spool_directory = $d/internet/spool
log_file_path = $d/internet/log/%slog
pid_file_path = $d/internet.pid
log_selector = -retry_defer -skip_delivery
never_users = root
keep_environment =
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
chunking_advertise_hosts =
smtp_accept_max = 200
smtp_accept_queue_per_connection = 0
recipients_max = 0
message_size_limit = 50M
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  defer   message = 451 4.7.1 Greylisted, please try again later
          domains = *.defer.test : defer.test
  deny    message = 550 5.1.1 User unknown
          domains = *.reject.test : reject.test
  # Discarding at RCPT drops the message right after DATA: no delivery process, fast.
  discard

begin routers
discard:
  driver = redirect
  data = :blackhole:
CONF
  chmod 0644 "$d/internet.conf"
}

# ---------------------------------------------------------------- users

# ensure_users - create the lab's Unix users with web-hosting-like home directories.
ensure_users() {
  local u
  for u in "${LAB_USERS[@]}"; do
    # another lab may create the same user at the same moment: re-check before failing
    id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u" 2>/dev/null || id "$u" >/dev/null
    mkdir -p "/home/$u/public_html/wp-content/plugins/contact-form" \
             "/home/$u/public_html/wp-content/uploads/2024/03" "/home/$u/public_html/shop"
    chown -R "$u:" "/home/$u/public_html"
    chmod 0755 "/home/$u"
  done
}

# ---------------------------------------------------------------- start / stop

# make_dirs DIR - spool, log and mailbox directories owned by the Exim user.
make_dirs() {
  local d=$1
  chmod 0755 "$d"
  mkdir -p "$d/spool" "$d/log" "$d/mail" "$d/internet/spool" "$d/internet/log"
  chown "$EXIM_USER:$EXIM_USER" "$d/spool" "$d/log" "$d/mail" "$d/internet/spool" "$d/internet/log"
  chmod 0750 "$d/spool" "$d/internet/spool"
  chmod 0755 "$d/log" "$d/mail" "$d/internet" "$d/internet/log"
}

# start_daemon CONF IP PORT PIDFILE - start one exim daemon and wait until it listens.
start_daemon() {
  local conf=$1 ip=$2 port=$3 pidfile=$4 i
  rm -f "$pidfile"
  # 9>&-: the daemon must not keep the lab-wide lock (cmd_start holds it on fd 9)
  "$EXIM" -C "$conf" -bd -oX "$port" -oP "$pidfile" </dev/null >/dev/null 2>"$pidfile.err" 9>&- ||
    die "exim daemon failed to start ($conf): $(cat "$pidfile.err")"
  for ((i = 0; i < 300; i++)); do  # up to 30 s: a loaded machine (tests run two at a time)
    if [[ -s $pidfile ]] && is_listening "$ip" "$port"; then return 0; fi
    sleep 0.1
  done
  die "exim daemon did not listen on $ip:$port ($conf): $(cat "$pidfile.err" 2>/dev/null)"
}

cmd_start() {
  local d port="" pid=1 split=0 millisec=0 dropriv=0 includes=() iport watch=""
  d=$(abs_dir "${1:?start needs DIR}"); shift
  while (($#)); do
    case $1 in
      --port) port=$2; shift 2 ;;
      --no-pid) pid=0; shift ;;
      --split-spool) split=1; shift ;;
      --millisec) millisec=1; shift ;;
      --drop-privilege) dropriv=1; shift ;;
      --acl-include) includes+=("$2"); shift 2 ;;
      --watch-pid) watch=$2; shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || die "start needs root"
  pid_alive "$d/server.pid" && die "a lab is already running in $d"
  # Labs started at once (tests run two at a time) must not both take the port that was free a
  # moment before: the ports are chosen and bound under the lab-wide lock, released before the
  # watcher starts (it would keep it).
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  flock -w 120 9 || die "cannot lock $LOCK_FILE"
  [[ -n $port ]] || port=$(free_port 127.0.0.1)
  iport=$(free_port 127.0.0.2)
  ensure_users
  make_dirs "$d"
  write_lab_files "$d"
  rm -f "$d"/acl_*.inc
  ((${#includes[@]})) && write_acl_hooks "$d" "${includes[@]}"
  write_server_conf "$d" "$port" "$iport" "$pid" "$split" "$millisec" "$dropriv"
  write_internet_conf "$d" "$iport"
  echo "$port" >"$d/port"; echo "$iport" >"$d/internet.port"
  trust_config "$d/server.conf"  # the lock is held already (with_lock would wait on it)
  trust_config "$d/internet.conf"
  "$EXIM" -C "$d/server.conf" -bV >/dev/null 2>"$d/conf.err" || die "bad server.conf: $(cat "$d/conf.err")"
  start_daemon "$d/internet.conf" 127.0.0.2 "$iport" "$d/internet.pid"
  start_daemon "$d/server.conf" 127.0.0.1 "$port" "$d/server.pid"
  exec 9>&-
  [[ -z $watch ]] || start_watcher "$d" "$watch"
}

# start_watcher DIR PID - a detached process that runs "stop DIR" once PID has ended
# (e.g. a crashed test), or after WATCH_MAX_HOURS at the latest. Its pid is DIR/watch.pid.
start_watcher() {
  local d=$1 owner=$2
  [[ -e /proc/$owner ]] || die "--watch-pid $owner: no such process"
  setsid bash -c '
    for ((i = 0; i < $3 * 3600; i++)); do [[ -e /proc/$2 ]] || break; sleep 1; done
    rm -f "$1/watch.pid"
    exec "$4" stop "$1"' eximlab-watch "$d" "$owner" "${WATCH_MAX_HOURS:-6}" "$LAB_HOME/eximlab.sh" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$d/watch.pid"
}

# stop_daemons PIDFILE... - TERM the recorded exim daemons together (each takes about 2 s
# to exit), wait up to 5 s, then KILL what is left. Only pids recorded by this lab are touched.
stop_daemons() {
  local f pids=() pid i alive
  for f in "$@"; do
    pid_alive "$f" && pids+=("$(<"$f")")
    rm -f "$f"
  done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

cmd_stop() {
  local d
  d=$(abs_dir "${1:?stop needs DIR}")
  stop_daemons "$d/server.pid" "$d/internet.pid"
  with_lock untrust_config "$d/server.conf"
  with_lock untrust_config "$d/internet.conf"
  if [[ -s $d/watch.pid ]]; then   # the watcher is a bash loop we started: end it by pid
    kill "$(<"$d/watch.pid")" 2>/dev/null || true
    rm -f "$d/watch.pid"
  fi
}

cmd_reload() {
  local d
  d=$(abs_dir "${1:?reload needs DIR}")
  pid_alive "$d/server.pid" || die "no server running in $d"
  kill -HUP "$(<"$d/server.pid")"
}

# ---------------------------------------------------------------- local submissions

# default_config_path - the config file a plain exim4/sendmail run reads (first existing in
# Exim's compiled search path), or the last entry of that path when none exists.
default_config_path() {
  local path f
  path=$("$EXIM" -bV 2>/dev/null | sed -n 's/^Configuration file search path is //p')
  [[ -n $path ]] || die "cannot read exim's configuration search path"
  IFS=: read -ra files <<<"$path"
  for f in "${files[@]}"; do [[ -e $f ]] && { echo "$f"; return; }; done
  echo "${files[-1]}"
}

# ns_exec DIR CMD... - run CMD in a private mount namespace in which Exim's default config
# path is DIR/server.conf. A plain /usr/sbin/sendmail then logs like on a real server
# (with -C, Exim drops privileges for non-root callers and skips +arguments logging).
# The real file outside the namespace is never touched.
ns_exec() {
  local d=$1 target; shift
  target=$(default_config_path)
  unshare -m --propagation private -- bash -c '
    set -e
    conf=$1 target=$2; shift 2
    if [[ ! -e $target ]]; then   # no default config: an empty tmpfs holds a placeholder
      mount -t tmpfs -o mode=0755 eximlab "$(dirname "$target")"
      : >"$target"
    fi
    mount --bind "$conf" "$target"
    exec "$@"' eximlab-ns "$d/server.conf" "$target" "$@"
}

cmd_sendmail_as() {
  local d user cwd
  d=$(abs_dir "${1:?sendmail-as needs DIR}"); user=${2:?sendmail-as needs USER}; cwd=${3:?sendmail-as needs CWD}
  shift 3
  (($#)) || set -- -t -i
  id "$user" >/dev/null 2>&1 || ensure_users
  id "$user" >/dev/null 2>&1 || die "no such user: $user"
  [[ -d $cwd ]] || die "no such directory: $cwd"
  ns_exec "$d" bash -c 'cd "$1" && shift && exec "$@"' eximlab-cd "$cwd" \
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
    env -i HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
    PATH=/usr/local/bin:/usr/bin:/bin /usr/sbin/sendmail "$@"
}

# ---------------------------------------------------------------- play / settle / misc

cmd_play() {
  local d
  d=$(abs_dir "${1:?play needs DIR}"); shift
  [[ $# -ge 1 ]] || die "play needs a SCENARIO"
  pid_alive "$d/server.pid" || die "no lab running in $d (eximlab.sh start $d)"
  ensure_users
  ns_exec "$d" "$PYTHON" "$LAB_HOME/labplay.py" --dir "$d" "$@"
}

cmd_settle() {
  local d
  d=$(abs_dir "${1:?settle needs DIR}"); shift
  "$PYTHON" "$LAB_HOME/labplay.py" --dir "$d" settle "$@"
}

cmd_exim() {
  local d
  d=$(abs_dir "${1:?exim needs DIR}"); shift
  exec "$EXIM" -C "$d/server.conf" "$@"
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    reload) cmd_reload "$@" ;;
    mainlog) echo "$(abs_dir "${1:?mainlog needs DIR}")/log/mainlog" ;;
    internet-mainlog) echo "$(abs_dir "${1:?needs DIR}")/internet/log/mainlog" ;;
    spool) echo "$(abs_dir "${1:?spool needs DIR}")/spool" ;;
    port) cat "$(abs_dir "${1:?port needs DIR}")/port" ;;
    exim) cmd_exim "$@" ;;
    sendmail-as) cmd_sendmail_as "$@" ;;
    play) cmd_play "$@" ;;
    settle) cmd_settle "$@" ;;
    users) ensure_users ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
