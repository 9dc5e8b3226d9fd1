#!/usr/bin/env python3
"""Writes an Exim main log of a stuck queue to stdout: hijacked accounts' spam, deferred at
every remote server and still queued when the log ends, beside inbound mail delivered at once.

    gen_stuck_queue.py --size-mb 1100 [--seed S] > stuck.log 2> truth

At 100 messages a second, four in five are the spam (seven accounts, one recipient each, one
"==" line each) and never complete: a 1100 MB log holds about 1.74 million messages in flight
at its end, what a report must keep joined by id until their outcomes come. Same arguments,
same bytes. Prints `messages=N still_queued=M` on stderr.
"""
import argparse
import sys
import time

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    digits = []
    for _ in range(width):
        digits.append(B62[n % 62])
        n //= 62
    return "".join(reversed(digits))


def message_lines(i, stamp, t):
    """The lines of the i-th message, which arrived at epoch second t (a 16-character id)."""
    pid = 100000 + i % 50000
    mid = f"{base62(t, 6)}-{base62(pid, 6)}-{base62(i % 3844, 2)}"
    head = f"{stamp} [{pid}] {mid}"
    if i % 5 == 0:  # inbound, delivered to a mailbox here at once
        box = f"box{i % 2000}@local{i % 40}.test"
        return (f"{head} <= user{i % 5000}@example{i % 300}.com H=mx{i % 700}.example{i % 300}.com "
                f"[198.51.{i // 7 % 250}.{i % 250}]:{40000 + i % 9999} P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 "
                f"CV=no S={2000 + i % 40000} T=\"Invoice {i % 9000}\" for {box}\n"
                f"{head} => {box} R=virtual_user T=dovecot_virtual_delivery C=\"250 2.0.0 Saved\"\n"
                f"{head} Completed\n"), False
    account = f"sales{i % 7}@shop{i % 7}.test"
    rcpt = f"r{i}@remote{i % 3000}.example"
    return (f"{head} <= {account} H=(pc) [203.0.113.{i % 200}]:{50000 + i % 9999} P=esmtpsa "
            f"X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:{account} S={3000 + i % 900} "
            f"T=\"Your parcel {i % 1000} is waiting\" for {rcpt}\n"
            f"{head} == {rcpt} R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx.remote{i % 3000}.example "
            f"[192.0.2.{i % 250}]: SMTP error from remote mail server after RCPT TO:<{rcpt}>: "
            f"451 4.7.1 Greylisted, try again later\n"), True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, required=True)
    parser.add_argument("--start", type=int, default=1793491200, help="epoch seconds (default 2026-11-01 UTC)")
    args = parser.parse_args()
    target = args.size_mb * 1000000
    out = sys.stdout
    written = messages = stuck = 0
    batch = []
    stamp_of = {}
    while written < target:
        t = args.start + messages // 100
        stamp = stamp_of.get(t)
        if stamp is None:
            stamp_of = {t: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))}
            stamp = stamp_of[t]
        text, queued = message_lines(messages, stamp, t)
        batch.append(text)
        written += len(text)
        messages += 1
        stuck += queued
        if len(batch) >= 10000:
            out.write("".join(batch))
            batch = []
    out.write("".join(batch))
    out.flush()
    print(f"messages={messages} still_queued={stuck}", file=sys.stderr)


if __name__ == "__main__":
    main()
