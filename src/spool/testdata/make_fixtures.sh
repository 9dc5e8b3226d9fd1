#!/usr/bin/env bash
# Regenerates the real -H fixtures: runs the installed Exim with a private config whose remote
# deliveries defer (port 1 on localhost), then copies the -H files it wrote. Needs root.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
lab=$(mktemp -d /tmp/sw-fixtures.XXXXXX)
chmod 755 "$lab"
# Debian's exim honours -C with privilege only for configs in trusted_configs (same lock as eximlab).
trusted=/etc/exim4/trusted_configs
edit_trusted() { ( flock -w 30 9; "$@" ) 9>/run/lock/eximlab.lock; }
untrust() { edit_trusted sed -i "\\|^$lab/exim.conf\$|d" "$trusted"; rm -rf "$lab"; }
trap untrust EXIT
edit_trusted sh -c "echo '$lab/exim.conf' >> $trusted"
exim=$(command -v exim4 || command -v exim)
mkdir -p "$lab/spool" "$lab/log"
chown -R Debian-exim:Debian-exim "$lab/spool" "$lab/log"
cat > "$lab/exim.conf" <<CONF
keep_environment =
spool_directory = $lab/spool
log_file_path = $lab/log/%slog
primary_hostname = lab.test
exim_user = Debian-exim
exim_group = Debian-exim
trusted_users = root
qualify_domain = lab.test
dsn_advertise_hosts = *
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
acl_not_smtp = acl_local
begin acl
acl_local:
  accept remove_header = X-Remove-Me
acl_rcpt:
  accept set acl_m_note = line one\nline two
acl_data:
  accept add_header = X-Spam-Score: 5.2
begin routers
fail_domain:
  driver = redirect
  domains = fail.test
  allow_fail
  data = :fail: no such user
remote:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = remote_smtp
  self = send
begin transports
remote_smtp:
  driver = smtp
  port = 1
begin retry
* * F,1d,1h
CONF
run() { "$exim" -C "$lab/exim.conf" "$@"; }

# 1. local sendmail by a PHP script
printf 'Subject: Cheap pills\nX-Remove-Me: yes\nX-PHP-Script: shop.example/wp-content/x.php for 203.0.113.9\n\nbuy now\n' |
  run -odq -f bob@shop.example a@x.defer.test b@y.defer.test
# 2. authenticated SMTP with ACL variable holding a newline, DSN recipients (#3), rewritten header
printf '%s\r\n' 'EHLO helo.example' 'MAIL FROM:<alice@cust.example> RET=HDRS ENVID=abc' \
  'RCPT TO:<r1@x.defer.test> NOTIFY=FAILURE ORCPT=rfc822;r1@x.defer.test' \
  'RCPT TO:<r2@z.defer.test> NOTIFY=NEVER' 'RCPT TO:<r3@z.defer.test>' 'DATA' \
  'Subject: Invoice' 'From: Alice <alice@cust.example>' 'To: r1@x.defer.test' '' 'hello' '.' 'QUIT' |
  run -odq -bs -oMa 192.0.2.7.4567 -oMs rdns.example -oMr esmtpa -oMai alice@cust.example -oMaa PLAIN >/dev/null
# 3. IPv6 client
printf '%s\r\n' 'HELO v6.example' 'MAIL FROM:<>' 'RCPT TO:<postmaster@x.defer.test>' 'DATA' \
  'Subject: bounce-ish' '' 'x' '.' 'QUIT' |
  run -odq -bs -oMa 2001:db8::7.2525 -oMr smtp >/dev/null
# 4. a frozen bounce: mail to a failing address from a failing sender
printf 'Subject: will fail\n\nx\n' | run -odi -f nobody@fail.test user@fail.test || true

cd "$lab/spool/input"
# ids sort by reception time and pid, so the order is the order they were queued in
names=(local-php auth-smtp-dsn ipv6-null-sender frozen-bounce)
n=0
for h in $(ls -- *-H | sort); do
  cp "$h" "$out/${names[$n]}.H"
  n=$((n + 1))
done
echo "wrote $n fixtures to $out"
