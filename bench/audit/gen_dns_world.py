#!/usr/bin/env python3
"""Writes a cPanel-shaped DNS world for bench/audit/dns.sh: N hosted domains with the SPF, DMARC,
DKIM, MX and A records a shared-hosting server's zones have, as a dnsmasq config, the domain list
audit_dns_bench reads (with each domain's DKIM key file, as cPanel keeps them in
/var/cpanel/domain_keys/private/DOMAIN), and the plain list for the dig loop.

    gen_dns_world.py DIR N SHARDS SERVER_IP KEY_PEM... (public halves in KEY_PEM.pub.b64)

dnsmasq looks TXT, MX and host records up in linked lists, so one instance holding 20,000 records
spends ~0.3 ms of CPU a query. The world is therefore served as a real hosting company's DNS would
be, by several servers: DIR/front.conf (127.0.0.1, the resolver everything asks: the server's own
records, the blocklist, and a server=/DOMAIN/127.0.0.K line per domain) forwards each domain to
one of SHARDS back ends (DIR/shard-K.conf on 127.0.0.K, K = 2..SHARDS+1).

The mix (deterministic): 70% cPanel's default SPF "+a +mx +ip4:IP ~all", 8% with a shared include,
5% "+all", 2% a syntax error, 15% none; DMARC 45% p=none, 35% quarantine/reject, 20% none; DKIM
published for 90% (5% of those with another key than the one signing); 10% of the domains are
subdomains (shop.dN.example), as cPanel hosts them."""
import os
import sys


def main():
    out, n, shards, ip, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
    pubs = [open(k + ".pub.b64").read().strip() for k in keys]
    os.makedirs(f"{out}/domain_keys/private", exist_ok=True)
    conf = ["local=/example/", "local=/spamhaus.org/", "local=/in-addr.arpa/",
            "address=/2.0.0.127.zen.spamhaus.org/127.0.0.2",
            f"ptr-record={'.'.join(reversed(ip.split('.')))}.in-addr.arpa,server.hosting.example",
            f"host-record=server.hosting.example,{ip}",
            f"txt-record=_spf.hosting.example,v=spf1 ip4:{ip} ip4:198.51.100.0/24 ~all"]
    domains, listing = [], []
    shard_conf = [["local=/example/"] for _ in range(shards)]
    front = conf
    for i in range(n):
        d = f"shop.d{i}.example" if i % 10 == 9 else f"d{i}.example"
        domains.append(d)
        front.append(f"server=/{d}/127.0.0.{2 + i % shards}")
        conf = shard_conf[i % shards]
        conf += [f"host-record={d},{ip}", f"mx-host={d},{d},0"]
        r = i % 100
        if r < 70:
            conf.append(f"txt-record={d},v=spf1 +a +mx +ip4:{ip} ~all")
        elif r < 78:
            conf.append(f"txt-record={d},v=spf1 +a +mx include:_spf.hosting.example ~all")
        elif r < 83:
            conf.append(f"txt-record={d},v=spf1 +a +mx +all")
        elif r < 85:
            conf.append(f"txt-record={d},v=spf1 +a +mx ip4:{ip}/40 ~all")
        q = (i * 7) % 100
        if q < 45:
            conf.append(f"txt-record=_dmarc.{d},v=DMARC1; p=none")
        elif q < 80:
            conf.append(f"txt-record=_dmarc.{d},v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}")
        key = i % len(keys)
        key_file = f"{out}/domain_keys/private/{d}"
        if not os.path.exists(key_file):
            os.symlink(os.path.abspath(keys[key]), key_file)
        k = (i * 13) % 100
        if k < 90:
            published = pubs[(key + 1) % len(pubs)] if k < 5 else pubs[key]
            conf.append(f"txt-record=default._domainkey.{d},v=DKIM1; k=rsa; p={published}")
        listing.append(f"{d} - default {key_file}")
    with open(f"{out}/front.conf", "w") as f:
        f.write("\n".join(front) + "\n")
    for k, lines in enumerate(shard_conf):
        with open(f"{out}/shard-{2 + k}.conf", "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(f"{out}/domains.txt", "w") as f:
        f.write("\n".join(listing) + "\n")
    with open(f"{out}/domains.plain", "w") as f:
        f.write("\n".join(domains) + "\n")


main()
