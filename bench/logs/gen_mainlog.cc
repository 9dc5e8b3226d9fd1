// gen_mainlog: writes a synthetic but realistic Exim main log (cPanel server, Exim 4.96
// upgraded mid-log to 4.97) to stdout, for benchmarking and testing `spamwarden logs`.
//
//   gen_mainlog --size-mb 1100 --seed 1 [--no-pid] [--start "2026-10-25 00:00:00"]
//               [--print-truth] [--rate-scale X] [--upgrade-at F] [--max-per-hour N] > mainlog
//
// Deterministic: the same arguments give the same bytes (seeded xoshiro256**, no clocks, no
// std::random_device, no unordered containers). Output stops at the first line boundary at or
// after --size-mb megabytes (10^6 bytes). Time starts at --start and only moves forward, as
// on a host with timezone = UTC; at the default rates 1100 MB covers about 7 days (~1.9
// messages/s on average, following a daily curve with quieter weekends).
//
// Log selector modelled (cPanel's defaults plus +pid):
//   +arguments +received_recipients +subject +incoming_port +smtp_connection +all_parents
//   +sender_on_delivery +retry_defer [+pid unless --no-pid]
//
// Line shapes, all from shared/reference/exim-formats.md section 1:
//   - daemon "SMTP connection from [ip]:port (TCP/IP connection count = N)" (daemon pid),
//     session close "SMTP connection from <fullhost> closed by QUIT" / "lost" (D= after the
//     upgrade), "no host name found", TLS errors, command timeouts, synchronization errors;
//   - "<=" for inbound SMTP (H= in all four forms, a few IPv6 clients, P=esmtp/esmtps, X=,
//     CV=, S=, id=, T="...", for ...), SMTP-AUTH submissions (P=esmtpsa/esmtpa,
//     A=dovecot_login:/dovecot_plain:), webmail over localhost, PHP mail() (preceded by
//     "cwd=... N args: /usr/sbin/sendmail -t -i" from the same pid, U=user P=local), cron
//     mail, Exim's own bounces ("<= <> R=<id> U=mailnull P=local" after an
//     "exim -t -oem -oi -f <> -E<id>" cwd line) and remote bounces ("<= <> H=...");
//   - delivery re-exec lines "cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc <id>";
//   - "=>" / "->" local (virtual_user/dovecot_virtual_delivery, localuser, /dev/null via a
//     filter with T=**bypassed**, autoresponder pipes with spaces in the address,
//     :blackhole:) and remote (dkim_lookuphost/dkim_remote_smtp with H=, X=, CV=, C="..."),
//     forwards with "<top>" and two-level "(parent) <top>";
//   - "==" defers (greylisting, quota, rate limiting, timeouts, "retry time not reached"
//     in hourly queue runs), "**" failures with colon-rich multi-line replies, cPanel's
//     "R=enforce_mail_permissions: Domain ... has exceeded the max emails per hour",
//     "retry timeout exceeded" after 4 days, "Frozen (delivery error message)",
//     "Unfrozen by errmsg timer", "Completed";
//   - ACL rejections "H=... F=<...> rejected RCPT <...>: Unknown user | No Such User Here |
//     relay not permitted | JunkMail rejected - ... is in an RBL: ... | Sender verify
//     failed", "sender verify fail for", SpamAssassin "Warning:" lines (with id, before <=);
//   - "dovecot_login authenticator failed for (helo) [ip]:port: 535 Incorrect
//     authentication data (set_id=...)" ("for H=..." after the upgrade);
//   - cPanel: "SMTP connection identification ... B=identify_local_connection",
//     "<id> Sender identification U= D= S=", "<id> SMTP connection outbound <epoch> <id>
//     <domain> <rcpt>";
//   - queue runs: "cwd=/var/spool/exim 2 args: /usr/sbin/exim -q", "Start queue run: pid=N",
//     "End queue run: pid=N"; the upgrade: "exim 4.97.1 daemon started: ...".
// Message ids carry the real reception time and the receiving pid; they are 16 characters
// before the upgrade (--upgrade-at, default 60% of the log) and 23 after, and deferred
// messages keep their old ids, so both forms appear together after the upgrade. Subjects
// include quotes, backslashes, tabs, UTF-8 (octal-escaped) and over-long text (cut at 100
// bytes). Deliveries follow arrival by up to a few seconds; deferred mail is retried hours
// or days later, so a parser must join lines by message id across long distances.
//
// Planted culprits (printed with exact counts by --print-truth; volumes and durations are
// scaled down for logs smaller than 1100 MB; positions are fractions of the log's span):
//   1. script: /home/userx1/public_html/wp-content/uploads/x sends ~3000 spam messages
//      (1-4 remote recipients each) through PHP mail() in ~15 minutes at ~29% of the log.
//      cPanel's hourly limit discards most of it (enforce_mail_permissions), which bounces
//      back to userx1@cpanel01.hostsrv.net.
//   2. account: sales@harbourlight-dental.com (user harbourl). From ~44%: ~2400 failed
//      logins from 64 IPs over ~3 hours, then ~4000 messages (10-40 recipients each) over ~6
//      hours from ~320 IPs, the first one being a guessing host.
//   3. dictionary: 45.137.21.9 gets ~9000 "rejected RCPT ...: Unknown user" over ~5 hours
//      at ~63%, guessing local parts at two dozen domains.
//   4. random_senders: user printpro sends ~2500 messages over ~75 minutes at ~76% through
//      PHPMailer-over-localhost (P=esmtp from 127.0.0.1), each from a fresh random local
//      part at printpro-online.net.
//   5. backscatter: accounts@greenvalley-farm.org receives ~3500 remote bounces ("<= <>")
//      spread from 38% to 92% of the log.
//   Not a culprit: lumashop (/home/lumashop/public_html/store, orders@lumashop.com) sends
//   ~4000 order confirmations a day all week, one customer each plus a copy to
//   orders@lumashop.com, with normal failure rates. It tops a naive count of cwd= lines;
//   a sane detector must not flag it.
// Background: 3200 cPanel users, ~5000 local domains, ~20000 mailboxes, ~5000 script
// directories, 6000 remote business domains plus the big providers, 16000 sending MTAs,
// 7000 user devices and 26000 bot IPs.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gen_core.h"
#include "gen_sim.h"
#include "gen_world.h"

using namespace sw::bench::gen;

namespace {

void usage(FILE* f) {
  std::fputs(
      "usage: gen_mainlog --size-mb N [--seed S] [--no-pid] [--start \"YYYY-MM-DD HH:MM:SS\"]\n"
      "                   [--print-truth] [--rate-scale X] [--upgrade-at F] [--max-per-hour N]\n"
      "Writes a synthetic cPanel Exim main log of about N*10^6 bytes to stdout.\n"
      "  --print-truth    print the planted culprits and line counts to stderr\n"
      "  --upgrade-at F   fraction of the log where Exim 4.96 -> 4.97 (16 -> 23-char ids); 1 = never\n"
      "  --rate-scale X   multiply all background traffic rates (default 1: ~7 days per 1100 MB)\n"
      "  --max-per-hour N cPanel per-domain hourly limit (default 500; 0 = unlimited)\n",
      f);
}

bool parse_start(const char* s, int64_t& out) {
  int y, hh, mm, ss;
  unsigned mo, d;
  if (std::sscanf(s, "%d-%u-%u %d:%d:%d", &y, &mo, &d, &hh, &mm, &ss) != 6) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return false;
  out = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
  return true;
}

std::string when(int64_t t) {
  if (t < 0) return "-";
  TimestampCache c;
  return std::string(c.get(t), TimestampCache::kLen);
}

std::string window(const Window& w) { return "first=\"" + when(w.first) + "\" last=\"" + when(w.last) + "\""; }

void print_truth(const Config& cfg, const World& w, const Truth& t) {
  FILE* e = stderr;
  double days = t.last_epoch > t.first_epoch ? double(t.last_epoch - t.first_epoch) / 86400.0 : 0;
  std::fprintf(e, "truth bytes=%llu lines=%llu seed=%llu pid=%s first=\"%s\" last=\"%s\" days=%.2f\n",
               (unsigned long long)t.bytes, (unsigned long long)t.lines, (unsigned long long)cfg.seed,
               cfg.with_pid ? "yes" : "no", when(t.first_epoch).c_str(), when(t.last_epoch).c_str(), days);
  std::fprintf(e, "truth upgrade=\"%s\" ids_16=%llu ids_23=%llu\n", when(t.upgrade_epoch).c_str(),
               (unsigned long long)t.ids_old, (unsigned long long)t.ids_new);
  std::fprintf(e,
               "truth received=%llu received_bounces=%llu delivered=%llu delivered_more=%llu "
               "deferred=%llu failed=%llu completed=%llu frozen=%llu\n",
               (unsigned long long)t.received, (unsigned long long)t.received_bounces, (unsigned long long)t.delivered,
               (unsigned long long)t.delivered_more, (unsigned long long)t.deferred, (unsigned long long)t.failed,
               (unsigned long long)t.completed, (unsigned long long)t.frozen);
  std::fprintf(e, "truth rejected_rcpt=%llu auth_failed=%llu cwd_lines=%llu connections=%llu queue_runs=%llu\n",
               (unsigned long long)t.rejected_rcpt, (unsigned long long)t.auth_failed, (unsigned long long)t.cwd_lines,
               (unsigned long long)t.connections, (unsigned long long)t.queue_runs);
  std::fprintf(e,
               "truth actors users=%zu domains=%zu mailboxes=%zu scripts=%zu remote_domains=%zu "
               "mta_ips=%zu device_ips=%zu bot_ips=%zu\n",
               w.users.size(), w.domains.size(), w.boxes.size(), w.scripts.size(), w.remote.size(),
               w.inbound_mtas.size(), w.auth_clients.size(), w.bot_clients.size());
  std::fprintf(e, "culprit script dir=%s user=%s messages=%llu rcpts=%llu discarded_by_limit=%llu %s\n",
               w.scripts[w.script_spam].cwd.c_str(), w.users[w.u_script].name.c_str(),
               (unsigned long long)t.script.messages, (unsigned long long)t.script.rcpts,
               (unsigned long long)t.script.limited, window(t.script.w).c_str());
  std::fprintf(e,
               "culprit account account=%s user=%s failed_logins=%llu brute_ips=%llu brute_%s "
               "messages=%llu rcpts=%llu ips=%llu %s\n",
               w.address(w.box_compromised).c_str(), w.users[w.u_compromised].name.c_str(),
               (unsigned long long)t.account.failed_logins, (unsigned long long)t.account.brute_ips,
               window(t.account.brute).c_str(), (unsigned long long)t.account.messages,
               (unsigned long long)t.account.rcpts, (unsigned long long)t.account.ips,
               window(t.account.sending).c_str());
  std::fprintf(e, "culprit dictionary ip=%s rejected_rcpt=%llu sessions=%llu %s\n", w.dict_client.ip.c_str(),
               (unsigned long long)t.dict.rejected, (unsigned long long)t.dict.sessions, window(t.dict.w).c_str());
  std::fprintf(e, "culprit random_senders domain=%s user=%s messages=%llu distinct_senders=%llu %s\n",
               w.domains[w.users[w.u_randsend].main_domain].name.c_str(), w.users[w.u_randsend].name.c_str(),
               (unsigned long long)t.randsend.messages, (unsigned long long)t.randsend.senders,
               window(t.randsend.w).c_str());
  std::fprintf(e, "culprit backscatter address=%s bounces=%llu %s\n", w.address(w.box_backscatter).c_str(),
               (unsigned long long)t.backscatter.bounces, window(t.backscatter.w).c_str());
  std::fprintf(e, "legit shop dir=%s sender=%s user=%s messages=%llu rcpts=%llu %s (must NOT be flagged)\n",
               w.scripts[w.script_shop].cwd.c_str(), w.scripts[w.script_shop].sender.c_str(),
               w.users[w.u_shop].name.c_str(), (unsigned long long)t.shop.messages, (unsigned long long)t.shop.rcpts,
               window(t.shop.w).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  bool truth = false, have_size = false;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gen_mainlog: %s needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    char* end = nullptr;
    if (!std::strcmp(a, "--size-mb")) {
      double mb = std::strtod(value(), &end);
      if (*end || mb <= 0) return usage(stderr), 2;
      cfg.size_bytes = uint64_t(mb * 1e6);
      have_size = true;
    } else if (!std::strcmp(a, "--seed")) {
      cfg.seed = std::strtoull(value(), &end, 10);
      if (*end) return usage(stderr), 2;
    } else if (!std::strcmp(a, "--no-pid")) {
      cfg.with_pid = false;
    } else if (!std::strcmp(a, "--start")) {
      if (!parse_start(value(), cfg.start_epoch)) {
        std::fprintf(stderr, "gen_mainlog: --start wants \"YYYY-MM-DD HH:MM:SS\"\n");
        return 2;
      }
    } else if (!std::strcmp(a, "--print-truth")) {
      truth = true;
    } else if (!std::strcmp(a, "--rate-scale")) {
      cfg.rate_scale = std::strtod(value(), &end);
      if (*end || cfg.rate_scale <= 0) return usage(stderr), 2;
    } else if (!std::strcmp(a, "--upgrade-at")) {
      cfg.upgrade_at = std::strtod(value(), &end);
      if (*end || cfg.upgrade_at < 0) return usage(stderr), 2;
    } else if (!std::strcmp(a, "--max-per-hour")) {
      cfg.max_per_hour = int(std::strtol(value(), &end, 10));
      if (*end || cfg.max_per_hour < 0) return usage(stderr), 2;
    } else if (!std::strcmp(a, "-h") || !std::strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "gen_mainlog: unknown argument %s\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!have_size) {
    usage(stderr);
    return 2;
  }
  World world = build_world(cfg.seed);
  Sim sim(cfg, world, stdout);
  sim.run();
  if (std::fflush(stdout) != 0 || sim.write_failed()) {
    std::fprintf(stderr, "gen_mainlog: write error on stdout\n");
    return 3;
  }
  if (truth) print_truth(cfg, world, sim.truth());
  return 0;
}
