#!/usr/bin/env python3
"""labplay.py: plays mail incidents through an eximlab server (see eximlab.sh, README.md).

Run through `eximlab.sh play DIR SCENARIO ...`, which starts this script inside a private
mount namespace where a plain /usr/sbin/sendmail uses the lab's config. SMTP traffic goes
to the lab server on 127.0.0.1:PORT from loopback source addresses (127.0.0.x).
Every loop is bounded by a --count; every socket has a timeout.
"""
import argparse
import base64
import concurrent.futures as cf
import os
import pwd
import random
import re
import smtplib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

MAX_COUNT = 20000          # hard bound on any --count
SMTP_TIMEOUT = 30          # seconds per SMTP command
EXTERNAL_DOMAINS = ["gmail.example", "yahoo.example", "outlook.example", "hotmail.example",
                    "web.example", "aol.example", "icloud.example", "gmx.example",
                    "comcast.example", "orange.example"]
SPAM_SUBJECTS = ["Your account has been suspended", "URGENT: Verify your payment details",
                 "You have won a $1000 gift card!", "Cheap meds, no prescription needed",
                 "Invoice #{n} overdue - action required", "Re: your parcel could not be delivered",
                 "Make $5000 a week from home", "Security alert: unusual sign-in activity",
                 "Ваш заказ готов", "Last chance: 90% off Ray-Ban"]
FIRST = ["john", "mary", "peter", "linda", "mike", "susan", "david", "karen", "paul", "lisa",
         "mark", "anna", "tom", "julia", "chris", "sarah", "alex", "nina", "sam", "emma"]
LAST = ["smith", "jones", "brown", "miller", "davis", "wilson", "moore", "taylor", "lee", "white"]
GUESS_LOCALS = ["admin", "webmaster", "office", "contact", "hr", "jobs", "marketing", "test",
                "mail", "root", "billing", "accounts", "help", "noreply", "newsletter", "ceo"]

rng = random.Random(1)
print_lock = threading.Lock()


# ------------------------------------------------------------------ lab description

class Lab:
    """The lab directory: port, accounts and mailboxes written by eximlab.sh start."""

    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "port")) as f:
            self.port = int(f.read().strip())
        self.passwords = {}
        with open(os.path.join(d, "passwd")) as f:
            for line in f:
                if ":" in line:
                    user, pw = line.strip().split(":", 1)
                    self.passwords[user] = pw
        with open(os.path.join(d, "mailboxes")) as f:
            self.mailboxes = [x.strip() for x in f if "@" in x]


@dataclass
class Msg:
    sender: str                 # envelope sender ("" = <>)
    rcpts: list                 # envelope recipients
    subject: str
    from_hdr: str = ""
    to_hdr: str = ""
    headers: dict = field(default_factory=dict)
    body: str = "Hello,\n\nplease see below.\n\nRegards\n"
    not_before: float = 0.0     # time.monotonic() before which MAIL FROM is not sent (pacing)

    def text(self):
        lines = [f"From: {self.from_hdr or '<' + self.sender + '>'}",
                 f"To: {self.to_hdr or ', '.join(self.rcpts[:3])}",
                 f"Subject: {self.subject}",
                 f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}",
                 f"Message-ID: <{rng.getrandbits(64):016x}.{int(time.time())}@{self.msgid_domain()}>",
                 "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                 "Content-Transfer-Encoding: 8bit"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return "\n".join(lines) + "\n\n" + self.body

    def msgid_domain(self):
        return self.sender.rpartition("@")[2] or "host.lab.example"


class Stats:
    """Counts what the clients saw; printed at the end of a scenario."""

    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}

    def add(self, key, n=1):
        with self.lock:
            self.c[key] = self.c.get(key, 0) + n

    def line(self):
        return " ".join(f"{k}={v}" for k, v in sorted(self.c.items()))


# ------------------------------------------------------------------ random data

def person():
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randrange(100) if rng.random() < .5 else ''}"


def rand_local(n=None):
    n = n or rng.randint(6, 10)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def external_rcpt(reject_pct=0.0, defer_pct=0.0):
    """A random outside recipient; some at *.reject.test (550) or *.defer.test (451)."""
    r = rng.random() * 100
    if r < reject_pct:
        return f"{person()}@{rng.choice(['oldmail', 'closed-isp', 'expired'])}.reject.test"
    if r < reject_pct + defer_pct:
        return f"{person()}@{rng.choice(['slowmail', 'greylist'])}.defer.test"
    return f"{person()}@{rng.choice(EXTERNAL_DOMAINS)}"


def spam_subject():
    return rng.choice(SPAM_SUBJECTS).format(n=rng.randrange(10000, 99999))


def parse_range(s):
    """'1..3' -> (1, 3); '5' -> (5, 5)."""
    a, _, b = s.partition("..")
    return int(a), int(b or a)


def bounded(n, what="--count"):
    if n < 0 or n > MAX_COUNT:
        sys.exit(f"labplay: {what} must be within 0..{MAX_COUNT}")
    return n


# ------------------------------------------------------------------ senders

@dataclass
class Session:
    """One SMTP connection: optional failed logins, optional AUTH, then messages."""
    src: str
    helo: str
    auth: tuple = None           # (mech, user, password)
    bad_auths: list = field(default_factory=list)   # [(mech, user, wrong password)]
    msgs: list = field(default_factory=list)


def smtp_auth(s, mech, user, pw):
    s.user, s.password = user, pw
    if mech == "PLAIN":
        s.auth("PLAIN", s.auth_plain)
    else:
        s.auth("LOGIN", s.auth_login, initial_response_ok=False)


def run_session(lab, sess, stats):
    """Play one SMTP session against the lab server; never raises (counts errors)."""
    try:
        s = smtplib.SMTP("127.0.0.1", lab.port, local_hostname=sess.helo,
                         source_address=(sess.src, 0), timeout=SMTP_TIMEOUT)
    except OSError as e:
        stats.add("connect_error")
        with print_lock:
            print(f"labplay: connect from {sess.src}: {e}", file=sys.stderr)
        return
    try:
        s.ehlo(sess.helo)
        for mech, user, pw in sess.bad_auths:
            try:
                smtp_auth(s, mech, user, pw)
                stats.add("auth_ok_unexpected")
            except smtplib.SMTPAuthenticationError:
                stats.add("auth_failed")
        if sess.auth:
            smtp_auth(s, *sess.auth)
            stats.add("auth_ok")
        for m in sess.msgs:
            send_one(s, m, stats)
        s.quit()
    except (smtplib.SMTPException, OSError) as e:
        stats.add("smtp_error")
        with print_lock:
            print(f"labplay: session from {sess.src}: {e}", file=sys.stderr)
        try:
            s.close()
        except OSError:
            pass


def send_one(s, m, stats):
    delay = m.not_before - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    code, _ = s.mail(m.sender)
    if code >= 400:
        stats.add("mail_rejected")
        s.rset()
        return
    ok = 0
    for r in m.rcpts:
        code, _ = s.rcpt(r)
        if code < 400:
            ok += 1
        else:
            stats.add("rcpt_rejected")
    if ok:
        code, _ = s.data(m.text().replace("\n", "\r\n").encode())
        stats.add("msg_accepted" if code < 400 else "data_rejected")
        stats.add("rcpt_accepted", ok)
    else:
        s.rset()


def run_local(user, cwd, msg, args=("-t", "-i"), stats=None):
    """sendmail as a local Unix user from cwd; the caller runs inside the lab's namespace.
    The child switches uid/gid itself (no setpriv exec): Exim sees the user as its caller."""
    pw = pwd.getpwnam(user)
    env = {"HOME": pw.pw_dir, "USER": user, "LOGNAME": user, "PATH": "/usr/local/bin:/usr/bin:/bin"}
    groups = os.getgrouplist(user, pw.pw_gid)
    p = subprocess.run(["/usr/sbin/sendmail", *args], input=msg.text().encode(), cwd=cwd, env=env,
                       user=pw.pw_uid, group=pw.pw_gid, extra_groups=groups,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    if stats:
        stats.add("local_sent" if p.returncode == 0 else "local_failed")
    if p.returncode != 0:
        with print_lock:
            print(f"labplay: sendmail as {user} failed: {p.stderr.decode(errors='replace')}",
                  file=sys.stderr)


def run_parallel(jobs, parallel):
    """Run callables on a bounded thread pool and wait for all of them."""
    with cf.ThreadPoolExecutor(max_workers=max(1, parallel)) as ex:
        for f in [ex.submit(j) for j in jobs]:
            f.result()


def paced(jobs, rate):
    """Wrap jobs so that job i starts no earlier than i/rate seconds after the first (rate
    in jobs per second; 0 = as fast as the pool runs them). Bounded: each waits once."""
    if not rate or rate <= 0:
        return jobs
    t0 = time.monotonic()

    def wrap(i, j):
        def run():
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            j()
        return run
    return [wrap(i, j) for i, j in enumerate(jobs)]


def chunks(seq, n):
    return [seq[i:i + n] for i in range(0, len(seq), max(1, n))]


# ------------------------------------------------------------------ scenarios

def place_script(user, cwd, name):
    """The PHP file a scenario's mail claims to come from, in its directory, owned by the user:
    a real site has the file that X-PHP-Originating-Script names."""
    path = os.path.join(cwd, name)
    if not os.path.isdir(cwd) or os.path.exists(path):
        return
    with open(path, "w") as f:
        f.write("<?php mail($to, $subject, $body, $headers); // eximlab\n")
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


class AccessLog:
    """The web server's access log (Apache's combined format) of the site whose script is
    abused: each run of the script is the attacker's POST to it, among visitors' pages. The lab
    runs no web server; this is the line Apache would have written for the request."""
    MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    ATTACKERS = ["203.0.113.45", "203.0.113.45", "203.0.113.45", "198.51.100.23", "192.0.2.180"]
    VISITORS = ["198.51.100.7", "192.0.2.33", "203.0.113.9"]
    AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

    def __init__(self, path, cwd, script):
        self.path, self.lock = path, threading.Lock()
        under = cwd.split("/public_html", 1)[1] if "/public_html" in cwd else ""
        self.url = f"{under}/{script}"

    def line(self, ip, method, url, status, size):
        t = time.localtime()
        stamp = (f"{t.tm_mday:02d}/{self.MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
                 f"{time.strftime('%H:%M:%S %z', t)}")
        with self.lock, open(self.path, "a") as f:
            f.write(f'{ip} - - [{stamp}] "{method} {url} HTTP/1.1" {status} {size} "-" "{self.AGENT}"\n')

    def attack(self):
        self.line(rng.choice(self.ATTACKERS), "POST", self.url, 200, rng.randint(20, 60))
        if rng.random() < 0.2:  # the site's own visitors meanwhile
            self.line(rng.choice(self.VISITORS), "GET", rng.choice(["/", "/contact.html", "/style.css"]), 200,
                      rng.randint(900, 30000))


def play_script_burst(lab, a, stats):
    """A hacked PHP script mails spam through sendmail -t -i, as cPanel's PHP mail() does."""
    lo, hi = parse_range(a.rcpts_per_msg)
    uid = pwd.getpwnam(a.user).pw_uid
    cwd = a.script_dir or f"/home/{a.user}/public_html"
    place_script(a.user, cwd, a.script)
    web = AccessLog(a.access_log, cwd, a.script) if a.access_log else None

    def job():
        rcpts = [external_rcpt(a.reject_pct, a.defer_pct) for _ in range(rng.randint(lo, hi))]
        m = Msg("", rcpts, spam_subject(),
                from_hdr=f'"{rng.choice(["PayPal", "Apple ID", "DHL Express", "Netflix"])}" '
                         f'<no-reply@{rand_local(7)}-secure.example>',
                to_hdr=", ".join(rcpts),
                headers={"X-PHP-Originating-Script": f"{uid}:{a.script}",
                         "X-Mailer": "PHPMailer 5.2.9"})
        if web:
            web.attack()
        run_local(a.user, cwd, m, stats=stats)

    run_parallel(paced([job] * bounded(a.count), a.rate), a.parallel)


def play_auth_burst(lab, a, stats):
    """A hijacked SMTP-AUTH account sends a few messages with very many recipients."""
    pw = a.password or lab.passwords.get(a.account)
    if pw is None:
        sys.exit(f"labplay: no password known for {a.account}; pass --password")
    fails = [Session(a.from_ip, a.helo, bad_auths=[(a.mech, a.account, f"{pw}{i}x")])
             for i in range(bounded(a.failed_logins, "--failed-logins"))]
    for s in fails:   # failed logins come first, one connection each, in order
        run_session(lab, s, stats)
    count, per = bounded(a.count), max(1, bounded(a.per_session, "--per-session"))
    msgs = []
    for _ in range(count):
        rcpts = [external_rcpt(a.reject_pct, a.defer_pct) for _ in range(bounded(a.rcpts, "--rcpts"))]
        msgs.append(Msg(a.account, rcpts, spam_subject(), from_hdr=f'"Customer Service" <{a.account}>',
                        to_hdr="undisclosed-recipients:;"))
    if per == 1:   # one connection (and login) per message
        sessions = [Session(a.from_ip, a.helo, auth=(a.mech, a.account, pw), msgs=[m]) for m in msgs]
        run_parallel(paced([lambda s=s: run_session(lab, s, stats) for s in sessions], a.rate), a.parallel)
        return
    # Several messages per authenticated connection, as a bulk mailer on a stolen login does:
    # message i goes to connection i % n, all connections run at once; with --rate, message i
    # is sent no earlier than i/rate s after the start, so the connections together keep the rate.
    n = (count + per - 1) // per
    sessions = [Session(a.from_ip, a.helo, auth=(a.mech, a.account, pw)) for _ in range(n)]
    t0 = time.monotonic() + 0.2   # connections and logins first
    for i, m in enumerate(msgs):
        if a.rate and a.rate > 0:
            m.not_before = t0 + i / a.rate
        sessions[i % n].msgs.append(m)
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], n)


def play_dictionary(lab, a, stats):
    """A spammer guesses local parts at a domain: most RCPTs are rejected as Unknown user."""
    real = [m.split("@")[0] for m in lab.mailboxes if m.endswith("@" + a.domain)]
    guesses = []
    for _ in range(bounded(a.count)):
        r = rng.random()
        if r < a.hit_pct / 100 and real:
            lp = rng.choice(real)
        elif r < 0.45:
            lp = person()
        elif r < 0.75:
            lp = rng.choice(GUESS_LOCALS) + (str(rng.randrange(10)) if rng.random() < .5 else "")
        else:
            lp = rand_local()
        guesses.append(f"{lp}@{a.domain}")
    sessions = [Session(a.from_ip, a.helo, msgs=[Msg(f"{person()}@{rng.choice(EXTERNAL_DOMAINS)}",
                                                     part, spam_subject())])
                for part in chunks(guesses, a.per_session)]
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], a.parallel)


def play_auth_bruteforce(lab, a, stats):
    """Password guessing: failed AUTH LOGIN/PLAIN attempts against real and guessed accounts."""
    domains = sorted({m.split("@")[1] for m in lab.mailboxes})
    users = list(lab.passwords) + [f"{g}@{rng.choice(domains)}" for g in GUESS_LOCALS[:8]]
    tries = [(rng.choice(["LOGIN", "PLAIN"]), rng.choice(users),
              rng.choice(["123456", "password", "qwerty", "admin123", "Passw0rd!", rand_local(8)]))
             for _ in range(bounded(a.count))]
    sessions = [Session(a.from_ip, a.helo, bad_auths=part) for part in chunks(tries, a.per_session)]
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], a.parallel)


def play_random_senders(lab, a, stats):
    """Malware in a site's uploads sends with random envelope senders at a local domain.
    Outside rejections bounce to those nonexistent senders, and the bounces freeze;
    meanwhile other servers' bounces (<>) to the forged senders are rejected at RCPT."""
    cwd = a.script_dir or f"/home/{a.user}/public_html/wp-content/uploads/2024/03"
    uid = pwd.getpwnam(a.user).pw_uid
    place_script(a.user, cwd, a.script)

    def job():
        sender = f"{rand_local()}@{a.domain}"
        rcpts = [external_rcpt(a.reject_pct, 0) for _ in range(rng.randint(1, 2))]
        m = Msg(sender, rcpts, spam_subject(), from_hdr=f"<{sender}>", to_hdr=", ".join(rcpts),
                headers={"X-PHP-Originating-Script": f"{uid}:{a.script}"})
        run_local(a.user, cwd, m, args=("-t", "-i", "-f", sender), stats=stats)

    run_parallel([job] * bounded(a.count), a.parallel)
    ndrs = [Msg("", [f"{rand_local()}@{a.domain}"], "Undelivered Mail Returned to Sender",
                from_hdr="MAILER-DAEMON@mx.bigmail.example") for _ in range(bounded(a.count // 3 if a.ndr_count is None else a.ndr_count))]
    sessions = [Session(a.ndr_from_ip, "mx.bigmail.example", msgs=part) for part in chunks(ndrs, 10)]
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], a.parallel)


def play_backscatter(lab, a, stats):
    """Spam forged as coming from a victim reaches a forwarder whose target rejects it:
    the server bounces (<> R=id) to the victim. A .defer.test victim keeps the bounces
    queued; bounces to a .reject.test victim fail and are frozen."""
    def spam(victim):
        return Msg(victim, [a.rcpt], spam_subject(), from_hdr=f"<{victim}>")

    msgs = [spam(a.victim) for _ in range(bounded(a.count))]
    msgs += [spam(a.frozen_victim) for _ in range(bounded(a.frozen, "--frozen"))]
    rng.shuffle(msgs)
    sessions = [Session(a.from_ip, a.helo, msgs=part) for part in chunks(msgs, 5)]
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], a.parallel)


def play_normal(lab, a, stats):
    """Ordinary traffic: customers over SMTP AUTH, inbound mail, shop order confirmations
    (one per customer, steady rate) and local users' own mail."""
    n = bounded(a.count)
    n_auth, n_in, n_shop = int(n * .4), int(n * .2), int(n * .25)
    n_local = n - n_auth - n_in - n_shop
    customers = [u for u in lab.passwords if u not in ("sales@acme-shop.example", "orders@acme-shop.example")]
    sessions = []
    for i in range(n_auth):
        acct = customers[i % len(customers)]
        rcpts = [external_rcpt(1, 1) for _ in range(rng.randint(1, 3))]
        if rng.random() < .3:
            rcpts.append(rng.choice(lab.mailboxes))
        m = Msg(acct, rcpts, rng.choice(["Meeting tomorrow", "Re: quote", "Photos", "Invoice",
                                         "Appointment reminder", "Fwd: report"]))
        src = f"127.0.0.{50 + customers.index(acct)}"
        sessions.append(Session(src, f"laptop-{acct.split('@')[0].replace('.', '-')}",
                                auth=(["PLAIN", "LOGIN"][i % 2], acct, lab.passwords[acct]), msgs=[m]))
    for i in range(n_in):
        rcpt = rng.choice(lab.mailboxes + ["office@smile-dental.example", "postmaster@acme-shop.example"])
        m = Msg(f"{person()}@{rng.choice(EXTERNAL_DOMAINS)}", [rcpt],
                rng.choice(["Question about my order", "Appointment", "Hello", "Newsletter"]))
        sessions.append(Session(f"127.0.0.{30 + i % 10}", f"mail{i % 10}.partner.example", msgs=[m]))
    jobs = [lambda s=s: run_session(lab, s, stats) for s in sessions]

    def shop():
        uid = pwd.getpwnam(a.shop_user).pw_uid
        for i in range(n_shop):
            cust = f"{person()}@{rng.choice(EXTERNAL_DOMAINS)}"
            m = Msg("orders@acme-shop.example", [cust], f"Order #{10400 + i} confirmation",
                    from_hdr="ACME Shop <orders@acme-shop.example>", to_hdr=cust,
                    headers={"X-PHP-Originating-Script": f"{uid}:order-confirm.php"})
            run_local(a.shop_user, f"/home/{a.shop_user}/public_html/shop", m,
                      args=("-t", "-i", "-f", "orders@acme-shop.example"), stats=stats)
            time.sleep(a.interval)

    def local():
        for _ in range(n_local):
            rcpt = rng.choice([external_rcpt(), rng.choice(lab.mailboxes)])
            m = Msg("", [rcpt], "Re: weekend", from_hdr=f"{a.local_user}@host.lab.example", to_hdr=rcpt)
            run_local(a.local_user, f"/home/{a.local_user}", m, stats=stats)

    run_parallel(jobs + [shop, local], a.parallel)


def play_queued(lab, a, stats):
    """Messages that stay queued: the internet answers 451 for *.defer.test."""
    pw = lab.passwords[a.account]
    msgs = [Msg(a.account, [f"{person()}@{a.domain}"], f"Quarterly report {i}")
            for i in range(bounded(a.count))]
    sessions = [Session(a.from_ip, "workstation.lab.example", auth=("PLAIN", a.account, pw), msgs=part)
                for part in chunks(msgs, 10)]
    run_parallel([lambda s=s: run_session(lab, s, stats) for s in sessions], a.parallel)


def raw_dialog(lab, src, lines, read_first=True, pause=0.2):
    """Send raw SMTP lines from src, reading the replies loosely; used for protocol oddities."""
    import socket
    with socket.create_connection(("127.0.0.1", lab.port), timeout=2,
                                  source_address=(src, 0)) as so:
        if read_first:
            so.recv(4096)
        for line in lines:
            so.sendall(line.encode() + b"\r\n")
            time.sleep(pause)
            try:
                so.recv(4096)
            except socket.timeout:
                pass   # e.g. inside DATA nothing is answered
            except OSError:
                break


def play_oddities(lab, a, stats):
    """Rarer log line shapes: relay denied, restricted characters, lost connections
    and an abandoned DATA phase."""
    spammer = f"{person()}@{rng.choice(EXTERNAL_DOMAINS)}"
    for _ in range(bounded(a.count)):
        relay = Session(a.from_ip, "relay-test.example",
                        msgs=[Msg(spammer, [external_rcpt(), "bad|pipe@acme-shop.example"], "relay?")])
        run_session(lab, relay, stats)
        raw_dialog(lab, a.from_ip, ["EHLO lost.example"])                   # closes without QUIT
        raw_dialog(lab, a.from_ip, ["EHLO data.example", f"MAIL FROM:<{spammer}>",
                                    "RCPT TO:<info@acme-shop.example>", "DATA", "Subject: cut"])
        stats.add("oddities")


def play_incident(lab, a, stats):
    """The demo's incident: everything at once, scaled by --scale."""
    def sc(n):
        return max(1, int(n * a.scale))

    web = ["--access-log", a.access_log] if a.access_log else []
    parts = [
        ("script-burst", ["--user", "userx1", "--count", str(sc(300)), *web]),
        ("auth-burst", ["--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66",
                        "--failed-logins", "10", "--count", "4", "--rcpts", str(sc(225))]),
        ("dictionary", ["--from-ip", "127.0.0.99", "--count", str(sc(312))]),
        ("normal", ["--count", str(sc(60))]),
    ]
    if a.with_random_senders or a.all:
        parts.append(("random-senders", ["--count", str(sc(150))]))
    if a.with_backscatter or a.all:
        parts.append(("backscatter", ["--count", str(sc(40))]))
    if a.all:
        parts.append(("auth-bruteforce", ["--count", str(sc(50))]))
        parts.append(("queued", ["--count", str(sc(5))]))
    parser = build_parser()
    jobs = []
    for name, argv in parts:
        sub = parser.parse_args(["--dir", lab.dir, name, *argv])
        jobs.append(lambda sub=sub: sub.func(lab, sub, stats))
    run_parallel(jobs, len(jobs))


# ------------------------------------------------------------------ settle

def locked_inodes():
    """Inodes that hold a POSIX lock now (Exim write-locks -D while delivering)."""
    inodes = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            # "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (blocked waiters have "->")
            if len(parts) >= 6 and parts[1] != "->":
                inodes.add(int(parts[5].rsplit(":", 1)[1]))
    return inodes


def pending_messages(spool, logtext_fn):
    """Ids of messages still waiting for their first delivery attempt, or being delivered."""
    locked = locked_inodes()
    pending, first = [], []
    for root, _, files in os.walk(os.path.join(spool, "input")):
        for name in files:
            if not name.endswith("-H"):
                continue
            mid = name[:-2]
            try:
                if os.stat(os.path.join(root, mid + "-D")).st_ino in locked:
                    pending.append(mid)
                    continue
                with open(os.path.join(root, name), errors="replace") as f:
                    head = f.read(4096)
            except FileNotFoundError:
                continue   # delivered and removed meanwhile
            if "\n-deliver_firsttime\n" in head and "\n-frozen " not in head:
                first.append(mid)
    if first:   # a message an ACL queued (or froze) will not be tried: that is settled
        text = logtext_fn()
        first = [m for m in first
                 if not re.search(re.escape(m) + r" (no immediate delivery|frozen by)", text)]
    return pending + first


def play_settle(lab, a, stats):
    spool = os.path.join(lab.dir, "spool")
    mainlog = os.path.join(lab.dir, "log", "mainlog")

    def logtext():
        try:
            with open(mainlog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    deadline = time.monotonic() + a.timeout
    quiet_since, last_size = None, -1
    while time.monotonic() < deadline:
        busy = pending_messages(spool, logtext)
        size = os.path.getsize(mainlog) if os.path.exists(mainlog) else 0
        if busy or size != last_size:
            quiet_since, last_size = None, size
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= a.quiet:
            return
        time.sleep(0.1)
    busy = pending_messages(spool, logtext)
    sys.exit(f"labplay: settle timed out after {a.timeout}s; {len(busy)} message(s) pending: "
             f"{' '.join(busy[:10])}")


# ------------------------------------------------------------------ command line

def build_parser():
    p = argparse.ArgumentParser(prog="eximlab.sh play DIR", description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time based)")
    sub = p.add_subparsers(dest="scenario", required=True)

    def add(name, func, help_):
        s = sub.add_parser(name, help=help_, description=func.__doc__)
        s.set_defaults(func=func)
        s.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="random seed")
        s.add_argument("--parallel", type=int, default=4, help="concurrent clients (default 4)")
        return s

    s = add("script-burst", play_script_burst, "PHP-like spam via sendmail -t -i")
    s.add_argument("--user", default="userx1")
    s.add_argument("--dir", dest="script_dir", default=None, help="script directory (cwd= in the log)")
    s.add_argument("--script", default="mailer.php")
    s.add_argument("--access-log", default=None, help="also write the web requests that ran the script here")
    s.add_argument("--count", type=int, default=300)
    s.add_argument("--rcpts-per-msg", default="1..3")
    s.add_argument("--reject-pct", type=float, default=5)
    s.add_argument("--defer-pct", type=float, default=2)
    s.add_argument("--rate", type=float, default=0, help="messages started per second (0 = as fast as --parallel allows)")

    s = add("auth-burst", play_auth_burst, "hijacked SMTP AUTH account")
    s.add_argument("--account", default="sales@acme-shop.example")
    s.add_argument("--password", default=None, help="default: the account's real password")
    s.add_argument("--from-ip", default="127.0.0.66")
    s.add_argument("--helo", default="User")
    s.add_argument("--mech", choices=["LOGIN", "PLAIN"], default="LOGIN")
    s.add_argument("--count", type=int, default=4)
    s.add_argument("--rcpts", type=int, default=225)
    s.add_argument("--failed-logins", type=int, default=0)
    s.add_argument("--reject-pct", type=float, default=3)
    s.add_argument("--defer-pct", type=float, default=1)
    s.add_argument("--rate", type=float, default=0, help="messages started per second (0 = as fast as --parallel allows)")
    s.add_argument("--per-session", type=int, default=1,
                   help="messages per authenticated connection (default 1); above 1, count/N connections "
                        "run at once and --parallel is not used")

    s = add("dictionary", play_dictionary, "dictionary attack: rejected RCPT lines")
    s.add_argument("--from-ip", default="127.0.0.99")
    s.add_argument("--helo", default="mail.bulk-sender.example")
    s.add_argument("--domain", default="acme-shop.example")
    s.add_argument("--count", type=int, default=312, help="RCPT attempts")
    s.add_argument("--per-session", type=int, default=25)
    s.add_argument("--hit-pct", type=float, default=2, help="share of guesses that exist")

    s = add("auth-bruteforce", play_auth_bruteforce, "failed SMTP AUTH attempts")
    s.add_argument("--from-ip", default="127.0.0.77")
    s.add_argument("--helo", default="ylmf-pc")
    s.add_argument("--count", type=int, default=50)
    s.add_argument("--per-session", type=int, default=5)

    s = add("random-senders", play_random_senders, "random forged senders at a local domain")
    s.add_argument("--domain", default="smile-dental.example")
    s.add_argument("--user", default="smileuser")
    s.add_argument("--dir", dest="script_dir", default=None, help="script directory")
    s.add_argument("--script", default="wp-tmp.php")
    s.add_argument("--count", type=int, default=150)
    s.add_argument("--reject-pct", type=float, default=15)
    s.add_argument("--ndr-count", type=int, default=None, help="default: count/3")
    s.add_argument("--ndr-from-ip", default="127.0.0.45")

    s = add("backscatter", play_backscatter, "bounces to a forged sender")
    s.add_argument("--victim", default="j.doe@victim-corp.defer.test")
    s.add_argument("--frozen-victim", default="noreply@bounce-trap.reject.test")
    s.add_argument("--frozen", type=int, default=3, help="messages whose bounce freezes")
    s.add_argument("--rcpt", default="contact@acme-shop.example", help="a forwarder to *.reject.test")
    s.add_argument("--from-ip", default="127.0.0.88")
    s.add_argument("--helo", default="smtp.victim-corp.example")
    s.add_argument("--count", type=int, default=40)

    s = add("normal", play_normal, "ordinary mail")
    s.add_argument("--count", type=int, default=60)
    s.add_argument("--shop-user", default="shopuser")
    s.add_argument("--local-user", default="userx2")
    s.add_argument("--interval", type=float, default=0.05, help="seconds between shop mails")

    s = add("queued", play_queued, "messages that stay in the queue")
    s.add_argument("--count", type=int, default=10)
    s.add_argument("--domain", default="x.defer.test")
    s.add_argument("--account", default="alice@lab.example")
    s.add_argument("--from-ip", default="127.0.0.51")

    s = add("oddities", play_oddities, "relay denied, lost connections")
    s.add_argument("--from-ip", default="127.0.0.111")
    s.add_argument("--count", type=int, default=1, help="rounds of the oddities")

    s = add("incident", play_incident, "the demo's composed incident")
    s.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    s.add_argument("--with-random-senders", action="store_true")
    s.add_argument("--with-backscatter", action="store_true")
    s.add_argument("--access-log", default=None, help="the script burst's web requests (Apache combined format)")
    s.add_argument("--all", action="store_true", help="every scenario")

    s = add("settle", play_settle, "wait until no message awaits a delivery attempt")
    s.add_argument("--timeout", type=float, default=120)
    s.add_argument("--quiet", type=float, default=0.5, help="log must be unchanged this long")
    return p


def main():
    a = build_parser().parse_args()
    if a.seed is not None:
        rng.seed(a.seed)
    else:
        rng.seed(time.time_ns())
    lab = Lab(a.dir)
    stats = Stats()
    t0 = time.monotonic()
    a.func(lab, a, stats)
    if a.scenario != "settle":
        print(f"{a.scenario}: {stats.line()} ({time.monotonic() - t0:.1f}s)")


if __name__ == "__main__":
    main()
