// Each rotated log's own summary (stats/rotated_summaries.h): after the nightly rotation only
// the new day is read whole, the others only for their first minutes, and the report is the
// one a full parse gives, byte for byte; a summary that is damaged or cannot be merged
// exactly is never trusted.
#include "stats/rotated_summaries.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "stats/report.h"
#include "stats/scan_logs.h"
#include "stats/test_logs.h"

namespace sw::stats {
namespace {

using namespace testing;

namespace fs = std::filesystem;

std::string rotated_path(const std::string& name) {
  static const TempDir dir("rotated-summaries-test");
  return dir.path + "/" + name;
}

// The log cut at line starts into `days` parts, each written once as a rotated log (cPanel's
// exim_mainlog-YYYYMMDD.gz; the newest plain, as Debian's mainlog.1 is) and once as the live log
// of a run on that day (in a directory of its own, so a run's live log is another file).
struct Days {
  std::vector<std::string> rotated, live;
};

Days cut_into_days(const std::string& log, const std::string& name, size_t days) {
  std::string dir = rotated_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  Days d;
  size_t begin = 0;
  for (size_t i = 0; i < days; ++i) {
    size_t end = i + 1 == days ? log.size() : log.find('\n', log.size() * (i + 1) / days) + 1;
    std::string_view text = std::string_view(log).substr(begin, end - begin);
    std::string rotated = fmt::format("{}/exim_mainlog-202611{:02d}", dir, i + 1);
    if (i % 3 == 2) {
      write_file(rotated, text);  // a plain one among them: its evidence is read back by offset
    } else {
      write_gzip(rotated += ".gz", text);
    }
    fs::create_directories(fmt::format("{}/day{}", dir, i));
    std::string live = fmt::format("{}/day{}/exim_mainlog", dir, i);
    write_file(live, text);
    d.rotated.push_back(rotated);
    d.live.push_back(live);
    begin = end;
  }
  return d;
}

// The inputs of a run on day `today`: the `kept` days before it rotated, and its live log.
std::vector<std::string> inputs_on(const Days& d, size_t today, size_t kept) {
  std::vector<std::string> inputs(d.rotated.begin() + long(today - kept), d.rotated.begin() + long(today));
  inputs.push_back(d.live[today]);
  return inputs;
}

// Reports are compared with ==: gtest's diff of two reports of megabytes takes gigabytes.
struct RunReport {
  std::string json;
  ScanResult result;
  size_t stored = 0;  // files' own summaries stored after the report
};

RunReport run(const std::vector<std::string>& inputs, const std::string& cache, ScanOptions o = {}) {
  o.block_bytes = 16 << 10;
  o.thresholds.window_seconds = 60;
  o.cache_dir = cache;
  o.file_summaries = true;
  RunReport r{"", scan_logs(inputs, o)};
  r.result.report.seconds = 0;
  ReportOptions all;
  all.top = 0;
  r.json = report_json(r.result.report, all).dump(1) + report_text(r.result.report, all);
  r.result.forensics.reset();  // as the command does: the summaries are made without it
  r.stored = store_file_summaries(r.result, o);
  return r;
}

// The entries of the summary cache whose key starts so ("file ": a rotated log's own).
std::vector<std::string> entries(const std::string& cache, std::string_view kind) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(cache)) {
    std::string bytes = file_bytes(e.path());
    uint32_t key_size = 0;
    if (bytes.size() > 32) std::memcpy(&key_size, bytes.data() + 12, 4);
    if (bytes.size() > 32 + key_size && std::string_view(bytes).substr(32).starts_with(kind)) out.push_back(e.path());
  }
  return out;
}

void drop_entries(const std::string& cache, std::string_view kind) {
  for (const auto& path : entries(cache, kind)) fs::remove(path);
}

// Day after day, a week kept: every run reads the new day whole, and the days before it only
// for their first minutes; the report is the full parse's.
void expect_each_day_reads_only_the_new_day(const std::string& log, const std::string& name, size_t days, size_t kept,
                                            bool all_merge) {
  SCOPED_TRACE(name);
  Days d = cut_into_days(log, name, days);
  std::string cache = rotated_path(name + "-cache");
  fs::remove_all(cache);
  for (size_t today = kept; today < days; ++today) {
    SCOPED_TRACE(fmt::format("day {}", today));
    auto inputs = inputs_on(d, today, kept);
    RunReport reference = run(inputs, "");
    RunReport r = run(inputs, cache);
    EXPECT_TRUE(r.json == reference.json);
    const ScanResult& s = r.result;
    EXPECT_EQ(s.cached_inputs, 0u) << "another set of rotated logs every day";
    size_t known = today == kept ? 0 : kept - 1;  // the days rotated in before today
    EXPECT_EQ(s.files_from_cache + s.files_read_again, known) << "every day seen before has its own summary";
    if (all_merge) {
      EXPECT_EQ(s.files_from_cache, known) << "and each merges";
    }
    EXPECT_EQ(r.stored, kept - known) << "the new days' summaries are stored";
    EXPECT_TRUE(s.cache_stored) << "and the set's";
    RunReport again = run(inputs, cache);
    EXPECT_EQ(again.result.cached_inputs, kept) << "a re-run takes the set's summary";
    EXPECT_TRUE(again.json == reference.json);
  }
  // Without the sets' entries (evicted by the size cap, say), every day from its own summary.
  auto inputs = inputs_on(d, days - 1, kept);
  drop_entries(cache, "v");
  drop_entries(cache, "live ");
  RunReport r = run(inputs, cache);
  EXPECT_EQ(r.result.files_from_cache + r.result.files_read_again, kept);
  EXPECT_EQ(r.stored, 0u);
  EXPECT_TRUE(r.json == run(inputs, "").json);
}

TEST(RotatedSummaries, EachDayReadsOnlyTheNewDayOnABuiltLog) {
  // Three hours as eight "days" of 22 minutes, a week kept.
  expect_each_day_reads_only_the_new_day(testing::built_log(), "built", 8, 5, true);
}

// The benchmark's generator: a cPanel server's busy log with every incident kind.
class RotatedSummariesOnGeneratedLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string gen = std::string(SW_BINARY_DIR) + "/bench/logs/gen_mainlog";
    if (::access(gen.c_str(), X_OK) != 0) return;
    std::string path = rotated_path("generated.log");
    if (std::system((gen + " --size-mb 24 --seed 5 > " + path).c_str()) == 0) log_ = file_bytes(path);
  }
  void SetUp() override {
    if (log_.empty()) GTEST_SKIP() << "bench/logs/gen_mainlog is not built (SW_BENCH=OFF)";
  }
  static inline std::string log_;
};

TEST_F(RotatedSummariesOnGeneratedLog, EachDayReadsOnlyTheNewDay) {
  expect_each_day_reads_only_the_new_day(log_, "generated", 10, 7, false);
}

// Without the "for" list on arrivals, recipients are counted from delivery lines: a message
// from before the rotation delivered after the new day's first minutes makes its summary
// unmergeable, and that day is read whole instead.
TEST_F(RotatedSummariesOnGeneratedLog, EachDayReadsOnlyTheNewDayWithoutRecipientLists) {
  std::string unlisted = testing::without_recipient_lists(log_);
  expect_each_day_reads_only_the_new_day(unlisted, "unlisted", 10, 7, false);
}

// A summary that is damaged is not used: its day is read whole, and its summary stored again.
TEST(RotatedSummaries, ADamagedSummaryIsIgnoredAndRebuilt) {
  Days d = cut_into_days(testing::built_log(), "damaged", 6);
  std::string cache = rotated_path("damaged-cache");
  fs::remove_all(cache);
  run(inputs_on(d, 4, 4), cache);
  auto files = entries(cache, "file ");
  ASSERT_EQ(files.size(), 4u);
  for (const auto& path : files) {  // a flipped byte in the middle of each
    std::string bytes = file_bytes(path);
    bytes[bytes.size() / 2] ^= 0x20;
    write_file(path, bytes);
  }
  auto inputs = inputs_on(d, 5, 4);
  RunReport r = run(inputs, cache);
  EXPECT_EQ(r.result.files_from_cache, 0u);
  EXPECT_EQ(r.stored, 4u) << "read whole, and stored again";
  EXPECT_TRUE(r.json == run(inputs, "").json);
  drop_entries(cache, "v");
  drop_entries(cache, "live ");
  EXPECT_EQ(run(inputs, cache).result.files_from_cache, 4u);
}

// A rotated log changed in its middle after its summary was made, at the same size and mtime
// (its identity looks at its ends only): the summary is not trusted, the file is read whole
// and the report says what it holds now. Both a plain file and a gzip one (whose damage the
// full read reports).
TEST(RotatedSummaries, AFileChangedInItsMiddleIsReadWhole) {
  for (size_t day : {2, 1}) {  // exim_mainlog-20261103 (plain), -20261102.gz
    Days d = cut_into_days(testing::built_log(), fmt::format("changed{}", day), 6);
    std::string cache = rotated_path(fmt::format("changed{}-cache", day));
    fs::remove_all(cache);
    run(inputs_on(d, 4, 4), cache);
    std::string path = d.rotated[day], bytes = file_bytes(path);
    auto mtime = fs::last_write_time(path);
    bytes[bytes.size() / 2] ^= 0x01;
    write_file(path, bytes);
    fs::last_write_time(path, mtime);
    auto inputs = inputs_on(d, 5, 4);
    RunReport r = run(inputs, cache);
    EXPECT_EQ(r.result.files_from_cache, day - 1) << "the days before it merge, not it";
    EXPECT_TRUE(r.json == run(inputs, "").json) << path;
  }
}

// A summary is merged after the logs before it whatever they are: here one day is missing
// (deleted by hand), and the day after it still merges.
TEST(RotatedSummaries, ADayMissingBeforeASummaryStillMerges) {
  Days d = cut_into_days(testing::built_log(), "gap", 6);
  std::string cache = rotated_path("gap-cache");
  fs::remove_all(cache);
  run(inputs_on(d, 5, 5), cache);
  std::vector<std::string> inputs = {d.rotated[0], d.rotated[1], d.rotated[3], d.rotated[4], d.live[5]};
  RunReport r = run(inputs, cache);
  EXPECT_EQ(r.result.files_from_cache, 4u);
  EXPECT_TRUE(r.json == run(inputs, "").json);
}

// A time window would need a summary per window: the rotated logs are read as before.
TEST(RotatedSummaries, NotUnderATimeWindow) {
  Days d = cut_into_days(testing::built_log(), "window", 6);
  std::string cache = rotated_path("window-cache");
  fs::remove_all(cache);
  ScanOptions o;
  o.since = *parse_civil("2026-11-01 00:30:00");
  auto inputs = inputs_on(d, 5, 4);
  RunReport r = run(inputs, cache, o);
  EXPECT_EQ(r.stored, 0u);
  EXPECT_TRUE(entries(cache, "file ").empty());
  EXPECT_TRUE(r.json == run(inputs, "", o).json);
}

// Asked for only: without --cache-each-file a run stores the set's summary alone, as before.
TEST(RotatedSummaries, OnlyWhenAskedFor) {
  Days d = cut_into_days(testing::built_log(), "asked", 6);
  std::string cache = rotated_path("asked-cache");
  fs::remove_all(cache);
  ScanOptions o;
  o.cache_dir = cache;
  ScanResult r = scan_logs(inputs_on(d, 5, 4), o);
  EXPECT_TRUE(r.cache_stored);
  EXPECT_TRUE(r.unsummarized.empty());
  EXPECT_TRUE(entries(cache, "file ").empty());
}

}  // namespace
}  // namespace sw::stats
