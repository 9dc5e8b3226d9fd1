// Two engines folding a hand-built log in two slices, merged (Forensics::merge), against one
// engine folding it whole: what crosses the border (messages in flight, cwd= lines, windows,
// first rejections and failed logins, an account's IPs) merges to the same report, and what
// cannot be merged exactly is refused, so the caller folds those lines again.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "eximlog/line_parser.h"
#include "stats/findings.h"
#include "stats/forensics.h"
#include "stats/report.h"

namespace sw::stats {
namespace {

struct TimedLine {
  CivilSeconds time;
  std::string text;
};

class SplitLog {
 public:
  SplitLog() : t0_(*parse_civil("2026-11-01 00:00:00")) {}
  // A line `seconds` after the log's start.
  void at(int64_t seconds, const std::string& text, uint32_t pid = 0) {
    CivilSeconds t = t0_ + seconds;
    lines_.push_back({t, format_civil(t) + (pid ? fmt::format(" [{}] ", pid) : " ") + text});
  }
  // Background traffic every 20 s from 0 to `until`, so windows and slices have lines.
  void background(int64_t until) {
    for (int64_t s = 0, n = 0; s < until; s += 20, ++n) {
      std::string id = fmt::format("1tBBBB-{:06d}-BB", n);
      at(s,
         fmt::format("{} <= shop@shop.example H=(pc) [198.51.100.{}]:4000 P=esmtpa A=dovecot_login:shop@shop.example "
                     "S=2000 T=\"Order {}\" for c{}@far.test",
                     id, n % 5, n, n));
      at(s + 1, id + " => c@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
      at(s + 1, id + " Completed");
    }
  }
  // The n-th mail of a script in /home/USER/public_html/DIR, `s` seconds in: its cwd= line
  // `before` seconds ahead (with the pid it shares with the arrival), then its completion.
  void script_mail(const std::string& user, const std::string& dir, int n, int64_t s, int64_t before) {
    uint32_t pid = 5000 + uint32_t(n) * 2;
    std::string id = fmt::format("1t{:0>4}-{:06d}-SS", user, n);
    at(s - before, fmt::format("cwd=/home/{}/public_html/{} 3 args: /usr/sbin/sendmail -t -i", user, dir), pid);
    at(s,
       fmt::format("{} <= {}@host.example U={} P=local S=900 T=\"Hi\" for a{}@far.test b{}@far.test", id, user, user, n,
                   n),
       pid);
    at(s + 1, id + " => a@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", pid + 1);
    at(s + 1, id + " Completed", pid + 1);
  }
  std::vector<std::string> sorted() const {
    std::vector<TimedLine> l = lines_;
    std::stable_sort(l.begin(), l.end(), [](const TimedLine& a, const TimedLine& b) { return a.time < b.time; });
    std::vector<std::string> out;
    for (auto& x : l) out.push_back(x.text);
    return out;
  }
  CivilSeconds start() const { return t0_; }

 private:
  CivilSeconds t0_;
  std::vector<TimedLine> lines_;
};

std::string report_of(Forensics& f) {
  f.finish();
  LogReport r;
  r.forensics = &f;
  r.findings = find_abuse(f);
  ReportOptions all;
  all.top = 0;
  std::string out = report_json(r, all).dump(1) + report_text(r, all);
  // Counts the report shows only through its findings, for every actor.
  std::vector<std::string> trusted;
  for (ActorKind k : {ActorKind::LocalUser, ActorKind::Sender, ActorKind::SenderDomain})
    for (const ActorStats& a : f.table(k).all())
      trusted.push_back(fmt::format("{} {} trusted {}\n", int(k), a.key, a.trusted_submissions));
  std::sort(trusted.begin(), trusted.end());
  for (const std::string& line : trusted) out += line;
  return out;
}

void add(Forensics& f, const std::string& raw) {
  eximlog::LogLine l;
  eximlog::parse_line(raw, l, eximlog::LineFields::Essential);
  f.add(l, raw);
}

struct SplitRun {
  bool merged = false;
  std::string whole, split;
};

// Folds `lines` whole, and in two slices: the second from line `cut`, warm up to its first
// line warm_up_seconds() later, the first engine counting on up to there; the second slice
// ends at `resume` (default: the end), from where the merged engine folds the rest itself, as
// it does a slice it could not merge, or the live log after a stored state.
SplitRun fold_split(const std::vector<std::string>& lines, size_t cut, const Thresholds& t, size_t resume = SIZE_MAX) {
  resume = std::min(resume, lines.size());
  auto time_of = [](const std::string& raw) {
    eximlog::LogLine l;
    eximlog::parse_line(raw, l, eximlog::LineFields::Essential);
    return l.time;
  };
  SplitRun run;
  Forensics whole(t);
  for (const auto& raw : lines) add(whole, raw);
  run.whole = report_of(whole);

  Forensics first(t);
  auto later = std::make_unique<Forensics>(t);
  CivilSeconds slice_start = time_of(lines[cut]);
  size_t warm_end = cut;
  while (warm_end < lines.size() && time_of(lines[warm_end]) < slice_start + first.warm_up_seconds()) ++warm_end;
  for (size_t i = 0; i < cut; ++i) add(first, lines[i]);
  first.enter_next_slice();
  for (size_t i = cut; i < warm_end; ++i) add(first, lines[i]);
  for (size_t i = cut; i < warm_end; ++i) {
    eximlog::LogLine l;
    eximlog::parse_line(lines[i], l, eximlog::LineFields::Essential);
    later->warm(l, lines[i], Forensics::line_keys(l));
  }
  later->start_counting(warm_end < resume);
  for (size_t i = warm_end; i < resume; ++i) add(*later, lines[i]);
  run.merged = first.merge(std::move(later));
  if (!run.merged)
    for (size_t i = warm_end; i < resume; ++i) add(first, lines[i]);
  for (size_t i = resume; i < lines.size(); ++i) add(first, lines[i]);
  run.split = report_of(first);
  return run;
}

// The index of the first line at or after `seconds` into the log.
size_t line_at(const std::vector<std::string>& lines, const SplitLog& log, int64_t seconds) {
  for (size_t i = 0; i < lines.size(); ++i) {
    eximlog::LogLine l;
    eximlog::parse_line(lines[i], l, eximlog::LineFields::Essential);
    if (l.time >= log.start() + seconds) return i;
  }
  return lines.size();
}

Thresholds minute_window() {
  Thresholds t;
  t.window_seconds = 60;  // warm-up: six minutes
  return t;
}

constexpr int64_t kBorder = 1800;  // the second slice starts half an hour in

// Splits the log at kBorder and expects the two slices to merge (or the merge to be refused)
// and the report to be one engine's; returns that report.
std::string expect_split(const SplitLog& log, bool merges) {
  auto lines = log.sorted();
  SplitRun run = fold_split(lines, line_at(lines, log, kBorder), minute_window());
  EXPECT_EQ(run.merged, merges);
  EXPECT_EQ(run.split, run.whole);
  return run.whole;
}

TEST(ForensicsMerge, AScriptBurstAcrossTheBorderWithItsCwdLinesMerges) {
  SplitLog log;
  log.background(3600);
  // A script bursting from five minutes before the border to five after, cwd= lines just
  // before their arrivals (with pids), so one waits across the border.
  for (int i = 0; i < 120; ++i) log.script_mail("u1", "x", i, kBorder - 300 + i * 5, 2);
  EXPECT_NE(expect_split(log, true).find("/home/u1/public_html/x"), std::string::npos);
}

// cPanel's identification of a script talking SMTP to 127.0.0.1 comes a second before its
// arrival: a pair on either side of the border, and in the later slice's warm-up, joins as
// one engine joins it.
TEST(ForensicsMerge, ACpanelIdentificationJoinsItsArrivalAcrossTheBorder) {
  SplitLog log;
  log.background(3600);
  for (int i = 0; i < 150; ++i) {
    int64_t s = kBorder - 300 + i * 4;
    std::string id = fmt::format("1tIIII-{:06d}-II", i);
    log.at(s - 1, id + " Sender identification U=webuser D=site.example S=info@site.example");
    log.at(s, fmt::format("{} <= info@site.example H=localhost [127.0.0.1]:{} P=esmtp S=900 for a{}@far.test "
                          "b{}@far.test",
                          id, 40000 + i, i, i));
    log.at(s + 1, id + " Completed");
  }
  std::string report = expect_split(log, true);
  EXPECT_NE(report.find("\"actor\": \"webuser\""), std::string::npos) << report.substr(0, 3000);
}

// cPanel's own order: the line comes when the message is routed, after its arrival and before
// its deliveries. Pairs on either side of the border and of the end of the later slice's
// warm-up, with a "for" list or only deliveries, new senders and known ones, count as one
// engine counts them: the later engine counts the user of mail the engine before counted.
TEST(ForensicsMerge, ACpanelIdentificationAfterItsArrivalJoinsAcrossTheBorder) {
  SplitLog log;
  log.background(3600);
  for (int i = 0; i < 220; ++i) {
    // From i = 200 on, arrivals just before the end of the warm-up (six minutes after the
    // border), named just after it: the engine before counts them, the later one names them.
    int64_t s = i < 200 ? kBorder - 300 + i * 4 : kBorder + 354 + (i - 200) / 2;
    std::string id = fmt::format("1tJJJJ-{:06d}-JJ", i);
    std::string sender = i % 3 ? "info@site.example" : fmt::format("n{}@site{}.example", i, i % 5);
    bool listed = i % 2 == 0;
    log.at(s, fmt::format("{} <= {} H=localhost [127.0.0.1]:{} P=esmtp S=900{}", id, sender, 40000 + i,
                          listed ? fmt::format(" for a{}@far.test b{}@far.test", i, i) : ""));
    // A first try before the warm-up's end, the user named at the next.
    if (i >= 200 && i % 4 == 0)
      log.at(s, fmt::format("{} == c{}@far.test R=dnslookup T=remote_smtp defer (-44): timeout", id, i));
    int64_t named = i < 200 ? s + 1 + i % 2 : kBorder + 361;
    log.at(named, fmt::format("{} Sender identification U=webuser{} D=site.example S={}", id, i % 2, sender));
    log.at(named, fmt::format("{} => a{}@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", id, i));
    log.at(named + 1, fmt::format("{} => b{}@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", id, i));
    log.at(named + 2, id + " Completed");
  }
  std::string report = expect_split(log, true);
  EXPECT_NE(report.find("\"actor\": \"webuser0\""), std::string::npos) << report.substr(0, 3000);
  EXPECT_NE(report.find("\"actor\": \"webuser1\""), std::string::npos) << report.substr(0, 3000);
}

// cPanel also names a local connection as it opens; its arrivals are the user's at once, frozen
// (never routed) or routed (named again, counted once). Connections the later slice's warm-up
// sees merge as one engine counts them.
void connection_mail(SplitLog& log, int port, int64_t opened, int64_t from, int64_t to, int64_t step) {
  log.at(opened, fmt::format("SMTP connection identification H=localhost A=127.0.0.1 P={} U=webuser{} ID=1001 "
                             "S=webuser B=identify_local_connection",
                             port, port % 2));
  for (int64_t s = from; s < to; s += step) {
    std::string id = fmt::format("1tKKKK-{:06d}-KK", (port - 41000) * 1000 + (s - from) / step);
    log.at(s, fmt::format("{} <= n{}@site.example H=localhost [127.0.0.1]:{} P=esmtp S=900 for a{}@far.test", id, s,
                          port, s));
    if ((s / step) % 2) {
      log.at(s, id + " frozen by ACL");
      continue;
    }
    log.at(s + 1,
           fmt::format("{} Sender identification U=webuser{} D=site.example S=n{}@site.example", id, port % 2, s));
    log.at(s + 1, fmt::format("{} => a{}@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", id, s));
    log.at(s + 2, id + " Completed");
  }
}

TEST(ForensicsMerge, ArrivalsOfAConnectionCpanelNamedMergeAcrossTheBorder) {
  SplitLog log;
  log.background(3600);
  connection_mail(log, 41000, kBorder - 100, kBorder - 90, kBorder, 10);         // before the later slice
  connection_mail(log, 41001, kBorder + 10, kBorder + 20, kBorder + 400, 20);    // across its warm-up's end
  connection_mail(log, 41002, kBorder + 400, kBorder + 410, kBorder + 600, 15);  // after it
  std::string report = expect_split(log, true);
  EXPECT_NE(report.find("\"actor\": \"webuser0\""), std::string::npos) << report.substr(0, 3000);
  EXPECT_NE(report.find("\"actor\": \"webuser1\""), std::string::npos) << report.substr(0, 3000);
}

// A connection named before the later slice, whose arrival in the slice's warm-up stays in
// flight (frozen): the later engine cannot know its user, so the slice is folded again.
TEST(ForensicsMerge, AConnectionNamedBeforeTheLaterSliceIsFoldedAgain) {
  SplitLog log;
  log.background(3600);
  connection_mail(log, 41001, kBorder - 100, kBorder + 51, kBorder + 52, 1);  // frozen
  std::string report = expect_split(log, false);
  EXPECT_NE(report.find("\"actor\": \"webuser1\""), std::string::npos) << report.substr(0, 3000);
}

// The same arrival routed after the warm-up: the engine before named it by its connection, the
// later one by its routing line; merged, the user would count it twice. Folded again instead;
// so is a message named both before its arrival (the line before the slice) and after it.
TEST(ForensicsMerge, AMessageNamedOnBothSidesOfTheWarmUpIsFoldedAgain) {
  for (bool by_connection : {true, false}) {
    SplitLog log;
    log.background(3600);
    const std::string id = "1tNNNN-000001-NN";
    if (by_connection)
      log.at(kBorder - 50,
             "SMTP connection identification H=localhost A=127.0.0.1 P=41003 U=webuser1 ID=1001 S=webuser1 "
             "B=identify_local_connection");
    else log.at(kBorder - 50, id + " Sender identification U=webuser1 D=site.example S=n@site.example");
    log.at(kBorder + 100, id + " <= n@site.example H=localhost [127.0.0.1]:41003 P=esmtp S=900 for a@far.test");
    log.at(kBorder + 370, id + " Sender identification U=webuser1 D=site.example S=n@site.example");
    log.at(kBorder + 371, id + " => a@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
    log.at(kBorder + 371, id + " Completed");
    std::string report = expect_split(log, false);
    EXPECT_NE(report.find("\"actor\": \"webuser1\""), std::string::npos) << report.substr(0, 3000);
  }
}

// Cutthrough deliveries are logged a second before their arrival: pairs on either side of
// the border and of the end of the later slice's warm-up, listed or not, count as one
// engine counts them.
TEST(ForensicsMerge, CutthroughLinesBeforeTheirArrivalMergeAcrossTheBorder) {
  SplitLog log;
  log.background(3600);
  auto pair = [&](int n, int64_t s) {
    std::string id = fmt::format("1tCCCC-{:06d}-CC", n);
    bool listed = n % 2 == 0;
    log.at(s, fmt::format("{} >> c{}@far.test F=<box@acme.example> R=dnslookup T=remote_smtp H=mx.far.test "
                          "[192.0.2.1] C=\"250 OK\"",
                          id, n));
    log.at(s + 1, fmt::format("{} <= box@acme.example H=(pc) [198.51.100.9]:4000 P=esmtpa "
                              "A=dovecot_login:box@acme.example S=900 T=\"Note\"{}",
                              id, listed ? fmt::format(" for c{}@far.test", n) : ""));
    log.at(s + 1, id + " Completed");
  };
  int n = 0;
  for (int64_t s = kBorder - 5; s < kBorder + 5; ++s) pair(n++, s);
  for (int64_t s = kBorder + 350; s < kBorder + 370; ++s) pair(n++, s);  // the warm-up ends in here
  int held_at_resume = n;
  for (int64_t s = kBorder + 1000; s < kBorder + 1010; ++s) pair(n++, s);
  std::string report = expect_split(log, true);
  EXPECT_NE(report.find(fmt::format("\"delivered\": {}", n)), std::string::npos) << report.substr(0, 3000);
  // The later slice ends between a pair: the merged engine goes on holding the line.
  auto lines = log.sorted();
  std::string arrival = fmt::format("1tCCCC-{:06d}-CC <=", held_at_resume + 3);
  size_t resume = 0;
  while (resume < lines.size() && lines[resume].find(arrival) == std::string::npos) ++resume;
  ASSERT_LT(resume, lines.size());
  SplitRun run = fold_split(lines, line_at(lines, log, kBorder), minute_window(), resume);
  EXPECT_TRUE(run.merged);
  EXPECT_EQ(run.split, run.whole);
}

// A message in flight across the border whose cutthrough line the log writes after its
// arrival (not Exim's order, but a log may have it): the later engine keeps the line for the
// engine before, which counts it as one engine does.
TEST(ForensicsMerge, ACutthroughLineAfterItsArrivalFromBeforeTheBorderMerges) {
  SplitLog log;
  log.background(3600);
  log.at(kBorder - 30,
         "1tLLLL-000001-LL <= box@acme.example H=(pc) [198.51.100.9]:4000 P=esmtpa "
         "A=dovecot_login:box@acme.example S=900 for late@far.test");
  log.at(kBorder + 900, "1tLLLL-000001-LL >> late@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  log.at(kBorder + 901, "1tLLLL-000001-LL Completed");
  std::string report = expect_split(log, true);
  EXPECT_NE(report.find("\"delivered\": 1"), std::string::npos);
}

// A pair cut by the border, its message without a "for" list and still in flight after the
// later slice's warm-up: that engine counted its recipients without the cutthrough line's
// address, so the merge is refused and the lines folded again.
TEST(ForensicsMerge, ACutthroughPairCutByTheBorderWithoutAForListIsRefused) {
  SplitLog log;
  log.background(3600);
  log.at(kBorder - 1, "1tPPPP-000001-PP >> a@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1] C=\"250 OK\"");
  log.at(kBorder,
         "1tPPPP-000001-PP <= solo@acme.example H=(pc) [198.51.100.9]:4000 P=esmtpa "
         "A=dovecot_login:solo@acme.example S=900");
  log.at(kBorder + 500,
         "1tPPPP-000002-PP <= solo@acme.example H=(pc) [198.51.100.9]:4000 P=esmtpa "
         "A=dovecot_login:solo@acme.example S=900 for q@far.test");
  log.at(kBorder + 600, "1tPPPP-000001-PP => a@far.test R=dnslookup T=remote_smtp H=mx [192.0.2.1]");
  log.at(kBorder + 600, "1tPPPP-000001-PP Completed");
  std::string report = expect_split(log, false);
  EXPECT_NE(report.find("\"actor\": \"solo@acme.example\""), std::string::npos);
}

// After a merge the engine goes on as one that read everything: a burst and cwd= lines that
// cross the point where the merged slice ends go on in its windows and pending lines.
TEST(ForensicsMerge, TheMergedEngineGoesOnWhereTheLaterSliceStopped) {
  SplitLog log;
  log.background(3600);
  constexpr int64_t kResume = 3000;
  for (int i = 0; i < 125; ++i) {
    // A few mails in the first slice, then a burst up to the point where the later one ends,
    // twice as fast for half a minute after it: the busiest minute straddles that point.
    int64_t s = i < 10 ? 600 + i * 60 : i < 110 ? kResume - 500 + (i - 10) * 5 : kResume + (i - 110) * 2;
    log.script_mail("u3", "y", i, s, 1);
  }
  auto lines = log.sorted();
  // The later slice ends between a cwd= line and its arrival.
  size_t resume = line_at(lines, log, kResume);
  while (resume < lines.size() && lines[resume].find("cwd=") == std::string::npos) ++resume;
  ++resume;
  SplitRun run = fold_split(lines, line_at(lines, log, kBorder), minute_window(), resume);
  EXPECT_TRUE(run.merged);
  EXPECT_EQ(run.split, run.whole);
  EXPECT_NE(run.whole.find("/home/u3/public_html/y"), std::string::npos);
}

TEST(ForensicsMerge, MailInFlightAcrossTheBorderIsSettledFromTheLaterSlice) {
  SplitLog log;
  log.background(3600);
  // Arrived before the border with a recipient list, deferred, frozen and delivered after the
  // later slice's warm-up: outcomes added where they are logged.
  for (int i = 0; i < 10; ++i) {
    std::string id = fmt::format("1tDDDD-{:06d}-DD", i);
    log.at(kBorder - 100 + i,
           fmt::format("{} <= news@list.example H=(m) [203.0.113.9]:25 P=esmtp S=500 for d{}@far.test", id, i));
    log.at(kBorder - 99 + i, id + " == d@far.test R=dnslookup T=remote_smtp defer (-44): retry later");
    if (i % 3 == 0) log.at(kBorder + 900 + i, id + " Frozen");
    log.at(kBorder + 1200 + i, id + " => d@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
    if (i % 2 == 0) log.at(kBorder + 1201 + i, id + " Completed");
  }
  expect_split(log, true);
}

// Without a "for" list, mail retried across the border and then past the end of the later
// slice: the later engine read each address (more of them than a message keeps inline), in
// the warm-up for mail from before the border, in its slice for mail that arrived there. The
// retries add no recipient, the slices merge, and the merged engine, which folds on from where
// the later slice stopped, knows every address.
TEST(ForensicsMerge, AddressesRetriedAcrossTheBorderWithoutAForListMerge) {
  SplitLog log;
  log.background(3600);
  for (int i = 0; i < 4; ++i) {
    std::string id = fmt::format("1tGGGG-{:06d}-GG", i);
    int64_t arrival = i < 2 ? kBorder - 100 + i : kBorder + 420 + i;  // the warm-up ends at kBorder + 360
    log.at(arrival, fmt::format("{} <= news@list.example H=(m) [203.0.113.9]:25 P=esmtp S=500", id));
    for (int r = 0; r < 6; ++r) {
      std::string rcpt = fmt::format("g{}_{}@far.test", i, r);
      log.at(arrival + 1, id + " == " + rcpt + " R=dnslookup T=remote_smtp defer (-44): retry later");
      log.at(kBorder + 500 + i, id + " == " + rcpt + " R=dnslookup T=remote_smtp defer (-44): retry later");
      log.at(kBorder + 1200 + i, id + " => " + rcpt + " R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
    }
    log.at(kBorder + 1201 + i, id + " Completed");
  }
  auto lines = log.sorted();
  SplitRun run = fold_split(lines, line_at(lines, log, kBorder), minute_window(), line_at(lines, log, kBorder + 600));
  EXPECT_TRUE(run.merged);
  EXPECT_EQ(run.split, run.whole);
  EXPECT_NE(run.whole.find("\"recipients\": 24,"), std::string::npos);
}

TEST(ForensicsMerge, RecipientsCountedLateForMailFromBeforeTheBorderAreRefused) {
  SplitLog log;
  log.background(3600);
  // No recipient list: recipients are counted from delivery lines, into the window of the
  // moment, which the later engine already looked at without them.
  std::string id = "1tEEEE-000001-EE";
  log.at(kBorder - 50, id + " <= a@b.example U=u2 P=local S=500");
  log.at(kBorder + 1000, id + " => late@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
  log.at(kBorder + 1001, id + " Completed");
  expect_split(log, false);
}

TEST(ForensicsMerge, FirstRejectionsFailedLoginsAndAnAccountsIpsMergeOnce) {
  SplitLog log;
  log.background(3600);
  // The IP sends once too, after the later slice's warm-up: its first line there, which the
  // first slice's engine saw long before.
  log.at(kBorder + 990, "1tFFFF-999999-FF <= x@spam.test H=(x) [192.0.2.77]:999 P=esmtp S=1 for z@shop.example");
  for (int i = 0; i < 80; ++i) {
    int64_t s = i < 40 ? 300 + i * 10 : kBorder + 600 + i * 10;
    log.at(s, fmt::format("H=(x) [192.0.2.77]:{} F=<a@spam.test> rejected RCPT <u{}@shop.example>: Unknown user",
                          1000 + i, i));
    log.at(s + 1, fmt::format("dovecot_login authenticator failed for (x) [192.0.2.{}]:{}: 535 Incorrect "
                              "authentication data (set_id={})",
                              i % 2 ? 77 : 78, 2000 + i, i < 60 ? "info@shop.example" : "sales@shop.example"));
    std::string id = fmt::format("1tFFFF-{:06d}-FF", i);
    log.at(s + 2,
           fmt::format("{} <= info@shop.example H=(pc) [10.0.{}.{}]:4000 P=esmtpa A=dovecot_login:info@shop.example "
                       "S=2000 T=\"Invoice\" for v{}@far.test",
                       id, i / 50, i, i));
    log.at(s + 3, id + " Completed");
  }
  expect_split(log, true);
}

TEST(ForensicsMerge, AClockThatSteppedBackAcrossTheBorderIsRefused) {
  SplitLog log;
  log.background(3600);
  log.at(kBorder - 10, "1tGGGG-000001-GG <= late@clock.example H=(c) [192.0.2.9]:25 P=esmtp S=1 for x@far.test");
  auto lines = log.sorted();
  size_t cut = line_at(lines, log, kBorder);
  // The line just before the border written an hour ahead.
  lines[cut - 1].replace(0, 19, format_civil(log.start() + kBorder + 3600));
  SplitRun run = fold_split(lines, cut, minute_window());
  EXPECT_FALSE(run.merged);
  EXPECT_EQ(run.split, run.whole);
}

// The log steps back, after the later slice's warm-up, to before the border: one engine's
// window (clamped to the account's newest time) holds the mail from both sides of it.
TEST(ForensicsMerge, AClockThatSteppedBackInsideTheLaterSliceIsRefused) {
  SplitLog log;
  log.background(3600);
  for (int i = 0; i < 20; ++i)
    log.at(kBorder - 20 + i, fmt::format("1tLLLL-{:06d}-LL <= sales@acme.example H=(pc) [192.0.2.{}]:4000 P=esmtpa "
                                         "A=dovecot_login:sales@acme.example S=900 for v{}@far.test",
                                         i, i, i));
  auto lines = log.sorted();
  size_t at = line_at(lines, log, kBorder + 1200);
  for (int i = 0; i < 20; ++i)
    lines.insert(lines.begin() + long(at),
                 format_civil(log.start() + kBorder - 10) +
                     fmt::format(" 1tMMMM-{:06d}-MM <= sales@acme.example H=(pc) "
                                 "[192.0.2.{}]:4000 P=esmtpa A=dovecot_login:sales@acme.example "
                                 "S=900 for w{}@far.test",
                                 i, 100 + i, i));
  SplitRun run = fold_split(lines, line_at(lines, log, kBorder), minute_window());
  EXPECT_FALSE(run.merged);
  EXPECT_EQ(run.split, run.whole);
}

// The clock going back inside the later slice, well after its warm-up, and across the border:
// that slice is folded again by the merged engine (its windows must start again where one
// engine's do), and the steps are counted once each, as one engine counts them.
TEST(ForensicsMerge, StepsOfTheClockAreCountedAsOneEngineCountsThem) {
  SplitLog log;
  log.background(3600);
  auto lines = log.sorted();
  size_t at = line_at(lines, log, kBorder + 1500);
  for (int i = 0; i < 3; ++i)
    lines.insert(
        lines.begin() + long(at) + i,
        format_civil(log.start() + kBorder + 600 + i) +
            fmt::format(" 1tKKKK-{:06d}-KK <= k@far.test H=(k) [192.0.2.77]:25 P=esmtp S=1 for x@far.test", i));
  SplitRun inside = fold_split(lines, line_at(lines, log, kBorder), minute_window());
  EXPECT_FALSE(inside.merged);
  EXPECT_EQ(inside.split, inside.whole);
  EXPECT_NE(inside.whole.find("\"clock_steps_back\": {\n  \"count\": 1,"), std::string::npos)
      << "back, and on again, is one step";
  EXPECT_NE(inside.whole.find("note: the log's clock goes back from"), std::string::npos);
  // Across the border: the line before it written twenty minutes ahead.
  lines = log.sorted();
  size_t cut = line_at(lines, log, kBorder);
  lines[cut - 1].replace(0, 19, format_civil(log.start() + kBorder + 1200));
  SplitRun across = fold_split(lines, cut, minute_window());
  EXPECT_EQ(across.split, across.whole);
  EXPECT_NE(across.whole.find("\"count\": 1,\n  \"first_from\": \"2026-11-01 00:50:00\""), std::string::npos)
      << across.whole.substr(0, 2000);
}

// A window is only moved on by an arrival. Recipients the first engine added, in the warm-up,
// to an account's newest mail (queued mail from before the border, delivered then) stay in
// that window until the account's next arrival; the later engine never saw them, so a window
// it looks at before then is not the one engine's.
TEST(ForensicsMerge, AWindowNotMovedOnSinceTheWarmUpIsRefused) {
  SplitLog log;
  log.background(3600);
  for (int i = 0; i < 30; ++i) {
    std::string id = fmt::format("1tNNNN-{:06d}-NN", i);
    log.at(kBorder - 40 + i, id + " <= info@acme.example H=(pc) [192.0.2.8]:4000 P=esmtpa "
                                  "A=dovecot_login:info@acme.example S=900");
    log.at(kBorder + 200, fmt::format("{} => q{}@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]", id, i));
  }
  log.at(kBorder + 190,
         "1tNNNN-999999-NN <= info@acme.example H=(pc) [192.0.2.8]:4000 P=esmtpa "
         "A=dovecot_login:info@acme.example S=900");
  log.at(kBorder + 1200, "1tNNNN-999999-NN => last@far.test R=dnslookup T=remote_smtp H=mx.far.test [192.0.2.1]");
  expect_split(log, false);
}

TEST(ForensicsMerge, AMessageIdArrivingAgainIsRefused) {
  SplitLog log;
  log.background(3600);
  log.at(kBorder - 30, "1tHHHH-000001-HH <= a@x.example H=(c) [192.0.2.9]:25 P=esmtp S=1 for x@far.test");
  log.at(kBorder + 900, "1tHHHH-000001-HH <= b@y.example H=(c) [192.0.2.10]:25 P=esmtp S=1 for y@far.test");
  log.at(kBorder + 901, "1tHHHH-000001-HH Completed");
  expect_split(log, false);
}

TEST(ForensicsMerge, AWarmUpThatReachesTheEndIsRefused) {
  SplitLog log;
  log.background(kBorder + 200);
  expect_split(log, false);
}

TEST(ForensicsMerge, LoginTargetsJoinInAnyOrder) {
  constexpr uint64_t a = 11, b = 22, none = ActorStats::kUnnamed, several = ActorStats::kSeveralAccounts;
  for (uint64_t x : {uint64_t(0), a, b, none, several})
    for (uint64_t y : {uint64_t(0), a, b, none, several})
      EXPECT_EQ(ActorStats::joined_login_target(x, y), ActorStats::joined_login_target(y, x)) << x << " " << y;
  EXPECT_EQ(ActorStats::joined_login_target(a, a), a);
  EXPECT_EQ(ActorStats::joined_login_target(0, a), a);
  EXPECT_EQ(ActorStats::joined_login_target(a, b), several);
  EXPECT_EQ(ActorStats::joined_login_target(several, none), none);
}

}  // namespace
}  // namespace sw::stats
