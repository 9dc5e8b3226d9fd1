#!/usr/bin/env bash
# Writes a cPanel-shaped tree for the catch-all benchmark: DIR/etc/localdomains with N
# domains, DIR/etc/valiases/DOMAIN in cPanel's format (most :fail:, some :blackhole:, local
# users, outside forwards and pipes), DIR/usr/local/cpanel, and a main log with catch-all
# deliveries. Deterministic: domain i always gets the same file.
set -euo pipefail
dir=${1:?usage: catchall_tree.sh DIR [DOMAINS]}
count=${2:-5000}
mkdir -p "$dir/etc/valiases" "$dir/usr/local/cpanel" "$dir/var/log" "$dir/var/cpanel"
echo "defaultmailaction=fail" > "$dir/var/cpanel/cpanel.config"
: > "$dir/etc/localdomains"
for ((i = 1; i <= count; i++)); do
  d="site$i.example"
  echo "$d" >> "$dir/etc/localdomains"
  case $((i % 20)) in
    0) star='*: :blackhole:' ;;
    1) star="*: owner$i@gmail.com" ;;
    2) star="*: user$i" ;;
    3) star='*: "|/usr/local/cpanel/bin/autorespond info@'"$d"' /home/user'"$i"'/.autorespond"' ;;
    *) star='*: :fail: No Such User Here' ;;
  esac
  printf 'info@%s: user%s\nsales@%s: info@%s, boss@gmail.com\n%s\n' "$d" "$i" "$d" "$d" "$star" \
    > "$dir/etc/valiases/$d"
done
# A main log: catch-all deliveries (R=virtual_aliases) for a few domains, other traffic around.
{
  for ((i = 1; i <= count; i += 20)); do
    printf '2026-12-04 10:00:%02d 1tQ0a%04d-000AbC-%02d => owner%s@gmail.com <x%s@site%s.example> R=virtual_aliases T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.1.27]\n' \
      $((i % 60)) $((i % 10000)) $((i % 100)) "$i" "$i" "$i"
    printf '2026-12-04 10:00:%02d 1tQ0b%04d-000AbC-%02d => user%s <info@site%s.example> R=virtual_user T=virtual_userdelivery\n' \
      $((i % 60)) $((i % 10000)) $((i % 100)) "$i" "$i"
  done
} > "$dir/var/log/exim_mainlog"
