// Two engines (senders and their domains folded on a second thread) report byte for byte what
// one engine reports: on the real Exim fixtures and on a generated busy log, read in small
// blocks so that messages, pending cwd= lines and peak windows cross hundreds of block borders,
// plain and gzip, and through the summary cache of rotated logs and the live log's resume point
// in both directions.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/temp_dir.h"
#include "stats/report.h"
#include "stats/scan_logs.h"
#include "stats/test_logs.h"

namespace sw::stats {
namespace {

using namespace testing;

// ctest runs each test in a process of its own, several at once: each process writes its
// files, the generated log among them, in a directory of its own, removed at exit.
std::string engines_path(const std::string& name) {
  static const TempDir dir("engines-test");
  return dir.path + "/" + name;
}

struct ReportRun {
  std::string json;  // the whole report: every actor of every kind, findings with evidence
  size_t cached_inputs = 0;
  bool cache_stored = false;
  uint64_t resumed_bytes = 0;
  uint64_t senders = 0;
};

ReportRun report_of(const std::vector<std::string>& inputs, int engines, const std::string& cache_dir = "",
                    size_t block_bytes = 16 << 10) {
  ScanOptions o;
  o.engines = engines;
  o.block_bytes = block_bytes;
  o.cache_dir = cache_dir;
  ScanResult r = scan_logs(inputs, o);
  r.report.seconds = 0;
  ReportOptions all;
  all.top = 0;
  return {report_json(r.report, all).dump(1), r.cached_inputs, r.cache_stored, r.resumed_bytes,
          r.forensics->table(ActorKind::Sender).size()};
}

void expect_same_report(const std::vector<std::string>& inputs, size_t block_bytes = 16 << 10) {
  ReportRun one = report_of(inputs, 1, "", block_bytes), two = report_of(inputs, 2, "", block_bytes);
  EXPECT_GT(one.senders, 0u);
  EXPECT_EQ(one.json, two.json) << inputs.front();
}

TEST(Engines, TwoReportWhatOneReportsOnTheRealEximLogs) {
  for (const char* name : {"real-4.96-pid.log", "real-4.96-nopid.log"})
    expect_same_report({std::string(SW_SOURCE_DIR) + "/src/eximlog/testdata/" + name}, 4 << 10);
}

// A log from the benchmark's generator (a busy cPanel server, planted culprits), when built.
std::string generated_log(double megabytes, int seed) {
  std::string gen = std::string(SW_BINARY_DIR) + "/bench/logs/gen_mainlog";
  if (access(gen.c_str(), X_OK) != 0) return {};
  std::string path = engines_path(fmt::format("gen-{}-{}.log", megabytes, seed));
  std::string command = fmt::format("'{}' --size-mb {} --seed {} > '{}'", gen, megabytes, seed, path);
  if (std::system(command.c_str()) != 0) return {};
  return file_bytes(path);
}

class EnginesOnGeneratedLog : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = generated_log(4, 3);
    if (log_.empty()) GTEST_SKIP() << "bench/logs/gen_mainlog is not built (SW_BENCH=OFF)";
  }
  std::string log_;
};

TEST_F(EnginesOnGeneratedLog, TwoReportWhatOneReportsPlainAndGzip) {
  std::string plain = engines_path("mainlog"), gz = engines_path("mainlog.gz");
  write_file(plain, log_);
  write_gzip(gz, log_);
  expect_same_report({plain});
  expect_same_report({gz});
  expect_same_report({plain}, 1 << 20);
}

TEST_F(EnginesOnGeneratedLog, TwoReportWhatOneReportsThroughTheSummaryCache) {
  // The rotated part ends in the middle of the log: messages, windows and cwd= lines carry over.
  size_t cut = log_.find('\n', log_.size() * 2 / 3) + 1;
  std::string rotated = engines_path("exim_mainlog.1"), live = engines_path("exim_mainlog");
  write_file(rotated, std::string_view(log_).substr(0, cut));
  write_file(live, std::string_view(log_).substr(cut));
  std::vector<std::string> inputs{rotated, live};
  std::string reference = report_of(inputs, 1).json;
  for (int stored_by : {1, 2}) {
    std::string dir = engines_path(fmt::format("cache-{}", stored_by));
    std::filesystem::remove_all(dir);
    ReportRun first = report_of(inputs, stored_by, dir);
    EXPECT_TRUE(first.cache_stored);
    EXPECT_EQ(first.json, reference) << "stored by " << stored_by;
    for (int loaded_by : {1, 2}) {
      // With the live log's state (resumed where the first run stopped), then with the
      // rotated log's alone (the live log's entry removed: the live log parsed again).
      ReportRun resumed = report_of(inputs, loaded_by, dir);
      EXPECT_EQ(resumed.resumed_bytes, log_.size() - cut);
      EXPECT_EQ(resumed.json, reference) << "stored by " << stored_by << ", resumed by " << loaded_by;
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (file_bytes(e.path()).find("|live ") != std::string::npos) std::filesystem::remove(e.path());
      ReportRun again = report_of(inputs, loaded_by, dir);
      EXPECT_EQ(again.cached_inputs, 1u);
      EXPECT_EQ(again.resumed_bytes, 0u);
      EXPECT_EQ(again.json, reference) << "stored by " << stored_by << ", loaded by " << loaded_by;
    }
  }
}

// Slices of the log folded by engines of their own, merged in order (stats/log_slices.h):
// the report is one engine's, byte for byte. A one-minute window makes the warm-up six
// minutes, so the generated 51 minutes of log (denser in its bursts) hold three slices that
// merge, and five of which some do; with twelve, or an hour's window, a slice's warm-up
// reaches its end and it is folded again instead.
struct SlicedRun {
  std::string json;
  size_t merged = 0, refolded = 0;
};

SlicedRun sliced_report(const std::vector<std::string>& inputs, int slices, int64_t window,
                        const std::string& cache_dir = "") {
  ScanOptions o;
  o.slices = slices;
  o.slice_min_bytes = 64 << 10;
  o.block_bytes = 16 << 10;
  o.thresholds.window_seconds = window;
  o.cache_dir = cache_dir;
  ScanResult r = scan_logs(inputs, o);
  r.report.seconds = 0;
  ReportOptions all;
  all.top = 0;
  return {report_json(r.report, all).dump(1) + report_text(r.report, all), r.slices_merged, r.slices_refolded};
}

void expect_slices_report_what_one_engine_reports(const std::string& path) {
  SlicedRun one = sliced_report({path}, 1, 60);
  EXPECT_EQ(one.merged + one.refolded, 0u);
  for (int slices : {2, 3, 5}) {
    SlicedRun run = sliced_report({path}, slices, 60);
    EXPECT_EQ(run.merged + run.refolded, size_t(slices - 1)) << slices << " slices";
    EXPECT_GE(run.merged, size_t(std::min(slices - 1, 2))) << slices << " slices";
    EXPECT_EQ(run.json, one.json) << slices << " slices";
  }
  SlicedRun many = sliced_report({path}, 12, 60);
  EXPECT_GT(many.refolded, 0u);
  EXPECT_EQ(many.json, one.json) << "12 slices";
  SlicedRun hourly = sliced_report({path}, 3, 3600);
  EXPECT_EQ(hourly.refolded, 2u);
  EXPECT_EQ(hourly.json, sliced_report({path}, 1, 3600).json) << "an hour's window";
}

// The real-Exim logs span half a minute: every slice's warm-up reaches its end, so each is
// folded again in order, and the report is still one engine's.
TEST(Engines, SlicesReportWhatOneEngineReportsOnTheRealEximLogs) {
  for (const char* name : {"real-4.96-pid.log", "real-4.96-nopid.log"}) {
    std::string path = std::string(SW_SOURCE_DIR) + "/src/eximlog/testdata/" + name;
    std::string one = sliced_report({path}, 1, 60).json;
    SlicedRun two = sliced_report({path}, 2, 60);
    EXPECT_EQ(two.merged, 0u) << name;
    EXPECT_EQ(two.refolded, 1u) << name;
    EXPECT_EQ(two.json, one) << name;
  }
}

TEST(Engines, SlicesReportWhatOneEngineReportsOnABuiltLog) {
  std::string path = engines_path("built-mainlog");
  write_file(path, testing::built_log());
  SlicedRun one = sliced_report({path}, 1, 60);
  for (int slices : {2, 4}) {
    SlicedRun run = sliced_report({path}, slices, 60);
    EXPECT_EQ(run.merged, size_t(slices - 1)) << slices;
    EXPECT_EQ(run.json, one.json) << slices;
  }
}

// Bulk messages whose "for" lists Exim cut (<trunc>), each delivered to 400 over the next
// three minutes, across slice borders: the recipients past a cut list are counted from all of
// a message's outcomes, which one engine sees, so the slices' report is one engine's.
TEST(Engines, SlicesCountTheRecipientsPastACutListAsOneEngine) {
  std::string log;
  CivilSeconds start = *parse_civil("2026-11-01 10:00:00");
  std::vector<std::pair<CivilSeconds, std::string>> lines;
  for (int n = 0; n < 60; ++n) {
    std::string id = fmt::format("1tAAAA-{:06d}-AA", n), list;
    CivilSeconds t = start + n * 20;
    for (int i = 0; i < 150; ++i) list += fmt::format(" r{}x{}@d{}.test", n, i, i % 7);
    lines.push_back({t, fmt::format("{} <= bulk@shop.example H=(pc) [203.0.113.4]:4000 P=esmtpa "
                                    "A=dovecot_login:bulk@shop.example S=900 for{} <trunc>",
                                    id, list)});
    for (int i = 0; i < 400; ++i)
      lines.push_back({t + 1 + i * 180 / 400,
                       fmt::format("{} -> r{}x{}@d{}.test R=r T=remote_smtp H=mx [192.0.2.1]", id, n, i, i % 7)});
    lines.push_back({t + 181, id + " Completed"});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, text] : lines) log += format_civil(t) + " " + text + "\n";
  std::string path = engines_path("cut-lists");
  write_file(path, log);
  SlicedRun one = sliced_report({path}, 1, 60);
  EXPECT_NE(one.json.find("\"recipients\": 24000"), std::string::npos) << "60 messages to 400";
  for (int slices : {2, 4}) EXPECT_EQ(sliced_report({path}, slices, 60).json, one.json) << slices << " slices";
}

// A week of nightly lists, a cron digest and a newsletter sent through an account: each
// sample (every address of the script's, a quarter of the account's) merges across slices
// into one engine's, and both lists are said the same way.
TEST(Engines, SlicesReportTheListsMailedRunAfterRunAsOneEngine) {
  std::string log;
  CivilSeconds t = *parse_civil("2026-11-01 22:00:00");
  int serial = 0;
  for (int night = 0; night < 7; ++night, t += 86400 - 700) {
    for (int i = 0; i < 300; ++i, ++t) {
      std::string when = format_civil(t);
      log += fmt::format("{} cwd=/home/news/public_html/digest 3 args: /usr/sbin/sendmail -t -i\n", when);
      log += fmt::format("{} 1tNNNN-{:06d}-NN <= news@news.example U=news P=local S=900 for reader{}@far{}.test\n",
                         when, ++serial, i, i % 7);
      log += fmt::format(
          "{} 1tNNNN-{:06d}-NN <= shop@shop.example H=(office) [192.0.2.7]:4000 P=esmtpsa "
          "A=dovecot_login:shop@shop.example S=20000 for customer{}@mail{}.test\n",
          when, ++serial, i, i % 11);
    }
  }
  std::string path = engines_path("lists-mainlog");
  write_file(path, log);
  SlicedRun one = sliced_report({path}, 1, 3600);
  size_t text = one.json.find("}spamwarden logs:");  // the JSON, then the text report
  ASSERT_NE(text, std::string::npos);
  auto lists = nlohmann::json::parse(one.json.substr(0, text + 1))["lists_mailed_again"];
  ASSERT_EQ(lists.size(), 2u) << one.json.substr(0, 2000);
  EXPECT_EQ(lists[0]["actor_type"], "script");  // as many recipients: scripts first
  EXPECT_EQ(lists[1]["actor_type"], "auth_account");
  size_t merged = 0;
  for (int slices : {2, 3, 5}) {
    SlicedRun run = sliced_report({path}, slices, 3600);
    merged += run.merged;
    EXPECT_EQ(run.json, one.json) << slices << " slices";
  }
  EXPECT_GT(merged, 0u) << "slices that merged, not only ones folded again";
}

// The logins that ran a script are a set however the log is cut: cron's before the burst,
// the web server's in it, four more after (past the few kept), through slices and the cache.
TEST(Engines, SlicesReportTheLoginsThatRanAScriptAsOneEngine) {
  std::string log;
  CivilSeconds t = *parse_civil("2026-11-01 09:00:00");
  int serial = 0;
  auto mail = [&](const std::string& login, int count, int gap) {
    for (int i = 0; i < count; ++i, t += gap) {
      std::string when = format_civil(t);
      log += fmt::format("{} cwd=/home/shop/public_html 3 args: /usr/sbin/sendmail -t -i\n", when);
      ++serial;
      log += fmt::format("{} 1tLLLL-{:06d}-LL <= {}@shop.example U={} P=local S=900 for to{}@far{}.test\n", when,
                         serial, login, login, serial, serial % 7);
    }
  };
  mail("shop", 600, 60);
  mail("nobody", 2000, 1);
  for (const char* login : {"zed", "amy", "bob", "cat"}) mail(login, 300, 30);
  std::string path = engines_path("logins-mainlog");
  write_file(path, log);
  SlicedRun one = sliced_report({path}, 1, 3600);
  EXPECT_NE(one.json.find("run by the logins amy, bob, cat, nobody and others"), std::string::npos);
  size_t merged = 0;
  for (int slices : {2, 3, 5}) {
    SlicedRun run = sliced_report({path}, slices, 3600);
    merged += run.merged;
    EXPECT_EQ(run.json, one.json) << slices << " slices";
  }
  EXPECT_GT(merged, 0u) << "slices that merged, not only ones folded again";
  // Cut in the last login's mail: the rotated file's logins, past the few kept, saved, loaded
  // and merged with the live log's.
  size_t cut = log.find('\n', log.size() - 1000) + 1;
  std::string rotated = engines_path("logins_mainlog.1"), live = engines_path("logins_mainlog");
  write_file(rotated, std::string_view(log).substr(0, cut));
  write_file(live, std::string_view(log).substr(cut));
  std::string reference = sliced_report({rotated, live}, 1, 3600).json;
  EXPECT_NE(reference.find("run by the logins amy, bob, cat, nobody and others"), std::string::npos);
  std::string dir = engines_path("logins-cache");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(sliced_report({rotated, live}, 3, 3600, dir).json, reference);
  EXPECT_EQ(sliced_report({rotated, live}, 3, 3600, dir).json, reference) << "from the cache";
}

TEST_F(EnginesOnGeneratedLog, SlicesReportWhatOneEngineReports) {
  std::string plain = engines_path("sliced-mainlog");
  write_file(plain, log_);
  expect_slices_report_what_one_engine_reports(plain);
}

// Without the "for" list on arrivals (Exim's default log_selector), recipients are counted
// from delivery lines, after the arrival: across slice borders too.
TEST_F(EnginesOnGeneratedLog, SlicesReportWhatOneEngineReportsWithoutRecipientLists) {
  std::string unlisted = testing::without_recipient_lists(log_);
  std::string plain = engines_path("sliced-unlisted");
  write_file(plain, unlisted);
  expect_slices_report_what_one_engine_reports(plain);
}

// The rotated log from the cache, the live log in slices; and the live log resumed, its new
// part in slices.
TEST_F(EnginesOnGeneratedLog, SlicesReportWhatOneEngineReportsThroughTheSummaryCache) {
  size_t cut = log_.find('\n', log_.size() / 4) + 1;
  std::string rotated = engines_path("sliced_mainlog.1"), live = engines_path("sliced_mainlog");
  write_file(rotated, std::string_view(log_).substr(0, cut));
  write_file(live, std::string_view(log_).substr(cut));
  std::string reference = sliced_report({rotated, live}, 1, 60).json;
  std::string dir = engines_path("sliced-cache");
  std::filesystem::remove_all(dir);
  SlicedRun first = sliced_report({rotated, live}, 3, 60, dir);
  EXPECT_EQ(first.merged, 2u);
  EXPECT_EQ(first.json, reference);
  EXPECT_EQ(sliced_report({rotated, live}, 3, 60, dir).json, reference) << "from the cache";
  size_t grown = log_.find('\n', log_.size() * 3 / 4) + 1;
  write_file(live, std::string_view(log_).substr(cut, grown - cut));
  std::filesystem::remove_all(dir);
  sliced_report({rotated, live}, 1, 60, dir);
  write_file(live, std::string_view(log_).substr(cut));
  SlicedRun resumed = sliced_report({rotated, live}, 2, 60, dir);
  EXPECT_EQ(resumed.json, reference) << "resumed";
}

// The engine's fold is tuned for speed; what it reports must not move. This is the fingerprint
// of the whole report (every actor of every kind, JSON and text) that the engine before those
// changes gave on this generated log. When the generator or the report's format changes on
// purpose, record the new value from a build of the engine before the change, after diffing the
// two builds' JSON to see that only what was meant to change moved (the commits that record a
// new value say what that was).
// Recorded again when cPanel's "Sender identification" after its arrival (its own order) began
// to name the user: the generator's script talking SMTP to 127.0.0.1 became user printpro's
// finding too, and nothing else moved. Again when cPanel's "SMTP connection identification"
// (B=identify_local_connection, before the arrival) began to name the user: printpro's mail is
// now counted at its arrival, so its evidence is the arrival lines and its peak starts a second
// earlier on the bench log; nothing else moved.
constexpr const char* kRecordedReport = "0d2ba3f80d1067f8b2a6cf7165f6ee3db7f906c78acb0fc0ca82b8c98c9fcfde";

std::string report_fingerprint(const std::vector<std::string>& inputs, int engines, size_t block_bytes) {
  ScanOptions o;
  o.engines = engines;
  o.block_bytes = block_bytes;
  ScanResult r = scan_logs(inputs, o);
  r.report.seconds = 0;
  r.report.inputs = {"mainlog"};  // the temporary file's name is not the report's
  ReportOptions all;
  all.top = 0;
  return sha256_hex(report_json(r.report, all).dump(1) + report_text(r.report, all));
}

TEST_F(EnginesOnGeneratedLog, ReportIsTheRecordedReport) {
  std::string plain = engines_path("recorded-mainlog"), gz = engines_path("recorded-mainlog.gz");
  write_file(plain, log_);
  write_gzip(gz, log_);
  // One engine is the reference; two are held to one by the tests above, so one run of
  // theirs suffices here (CI time).
  EXPECT_EQ(report_fingerprint({plain}, 1, 1 << 20), kRecordedReport) << "one engine";
  EXPECT_EQ(report_fingerprint({gz}, 1, 1 << 20), kRecordedReport) << "one engine, gzip";
  EXPECT_EQ(report_fingerprint({plain}, 2, 16 << 10), kRecordedReport) << "two engines, small blocks";
}

TEST(Engines, ReportOnTheRealEximLogsIsTheRecordedReport) {
  // Both recorded again when `frozen by root` (an admin's -Mf) stopped counting as frozen.
  const std::pair<const char*, const char*> recorded[] = {
      {"real-4.96-pid.log", "f9e19f89573ce78272069ea3a0994f46a4b6aac712c6d9761804f97e0b3a0a55"},
      {"real-4.96-nopid.log", "d39e1174d8593da910863664f4799b90b623b22ec7885eb0c8b630d93225152f"}};
  for (const auto& [name, fingerprint] : recorded)
    for (int engines : {1, 2})
      EXPECT_EQ(report_fingerprint({std::string(SW_SOURCE_DIR) + "/src/eximlog/testdata/" + name}, engines, 4 << 10),
                fingerprint)
          << name << ", " << engines << " engines";
}

}  // namespace
}  // namespace sw::stats
