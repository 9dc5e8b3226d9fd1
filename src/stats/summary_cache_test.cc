// The summary cache of rotated logs: a re-run that takes the rotated logs' state from the
// cache reports exactly what a full parse does, and an entry that is damaged, cut short, from
// another format version or for changed files is never trusted.
#include "stats/summary_cache.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "logio/gzip_test_files.h"
#include "stats/scan_logs.h"

namespace sw::stats {
namespace {

namespace fs = std::filesystem;
using sw::logio::testing::file_bytes;

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void write_gzip(const std::string& path, std::string_view text) {
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, text.data(), unsigned(text.size()));
  gzclose(g);
}

// A log cut at line boundaries into `parts` files, oldest first: NAME.N.gz ... NAME.1 (plain,
// so its evidence is read back by offset) and the live NAME. Messages, cwd= lines and peak
// windows cross the cuts.
std::vector<std::string> rotate(const std::string& log, const std::string& dir, size_t parts) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> paths;
  size_t begin = 0;
  for (size_t i = 0; i < parts; ++i) {
    size_t end = i + 1 == parts ? log.size() : log.find('\n', log.size() * (i + 1) / parts) + 1;
    std::string_view text = std::string_view(log).substr(begin, end - begin);
    size_t age = parts - 1 - i;
    std::string path = dir + "/mainlog" + (age ? "." + std::to_string(age) : "");
    if (age >= 2) write_gzip(path += ".gz", text);
    else write_file(path, text);
    paths.push_back(path);
    begin = end;
  }
  return paths;
}

std::string report_of(const ScanResult& r) { return report_json(r.report, ReportOptions{.top = 0}).dump(1); }

ScanResult scan(const std::vector<std::string>& inputs, const std::string& cache_dir) {
  ScanOptions o;
  o.cache_dir = cache_dir;
  return scan_logs(inputs, o);
}

std::string fixture(const std::string& name) { return file_bytes(std::string(SW_SOURCE_DIR) + "/" + name); }

// The first run stores the rotated logs' state, the second takes it from the cache and parses
// only the live log; both report byte for byte what a run without the cache does.
void expect_identical_reruns(const std::string& log, size_t parts, const std::string& name) {
  SCOPED_TRACE(name);
  std::string dir = ::testing::TempDir() + "cache-" + name, cache = dir + "/state/logs-cache";
  auto inputs = rotate(log, dir, parts);
  std::string reference = report_of(scan(inputs, ""));
  ScanResult first = scan(inputs, cache);
  EXPECT_TRUE(first.cache_stored);
  EXPECT_EQ(first.cached_inputs, 0u);
  EXPECT_EQ(report_of(first), reference);
  ScanResult second = scan(inputs, cache);
  EXPECT_EQ(second.cached_inputs, parts - 1) << "every rotated log came from the cache";
  EXPECT_EQ(report_of(second), reference);
}

TEST(SummaryCache, ARerunFromTheCacheReportsExactlyWhatAFullParseDoes) {
  for (const char* name : {"real-4.96-pid.log", "real-4.96-nopid.log"}) {
    std::string log = fixture(std::string("src/eximlog/testdata/") + name);
    ASSERT_GT(log.size(), 1000u);
    for (size_t parts : {2, 3}) expect_identical_reruns(log, parts, fmt::format("{}-{}", name, parts));
  }
}

// The benchmark's generator (a cPanel server's week, with every incident kind), as today's log
// and seven rotated ones.
TEST(SummaryCache, ARerunOverTheBenchLogReportsExactlyWhatAFullParseDoes) {
  std::string gen = std::string(SW_BINARY_DIR) + "/bench/logs/gen_mainlog";
  if (::access(gen.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << gen << " (a build with SW_BENCH=ON makes it)";
  std::string path = ::testing::TempDir() + "cache-bench.log";
  ASSERT_EQ(std::system((gen + " --size-mb 24 --seed 3 > " + path).c_str()), 0);
  std::string log = file_bytes(path);
  ASSERT_GT(log.size(), 20u << 20);
  expect_identical_reruns(log, 8, "bench");
}

struct CachedRun {
  std::vector<std::string> inputs;
  std::string cache, entry, reference;
};

CachedRun cached_run(const std::string& name) {
  CachedRun c;
  std::string dir = ::testing::TempDir() + "cache-" + name;
  c.inputs = rotate(fixture("src/eximlog/testdata/real-4.96-pid.log"), dir, 3);
  c.cache = dir + "/cache";
  c.reference = report_of(scan(c.inputs, ""));
  EXPECT_TRUE(scan(c.inputs, c.cache).cache_stored);
  for (const auto& e : fs::directory_iterator(c.cache)) c.entry = e.path();
  EXPECT_FALSE(c.entry.empty());
  return c;
}

// A damaged entry is not used (the logs are parsed), and the run stores a good one again.
void expect_ignored_and_rebuilt(const CachedRun& c) {
  ScanResult r = scan(c.inputs, c.cache);
  EXPECT_EQ(r.cached_inputs, 0u) << "a damaged entry is never trusted";
  EXPECT_EQ(report_of(r), c.reference);
  EXPECT_TRUE(r.cache_stored) << "and is rebuilt";
  EXPECT_EQ(scan(c.inputs, c.cache).cached_inputs, 2u);
}

TEST(SummaryCache, AnEntryWithAFlippedByteIsIgnoredAndRebuilt) {
  CachedRun c = cached_run("flip");
  std::string bytes = file_bytes(c.entry);
  for (size_t at : {size_t(3), bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(at);
    std::string flipped = file_bytes(c.entry);
    flipped[at] = char(flipped[at] ^ 0x20);
    write_file(c.entry, flipped);
    expect_ignored_and_rebuilt(c);
  }
}

TEST(SummaryCache, ATruncatedEntryIsIgnoredAndRebuilt) {
  CachedRun c = cached_run("truncate");
  std::string bytes = file_bytes(c.entry);
  for (size_t keep : {size_t(0), size_t(10), bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(keep);
    write_file(c.entry, file_bytes(c.entry).substr(0, keep));
    expect_ignored_and_rebuilt(c);
  }
}

TEST(SummaryCache, AnEntryOfAnotherFormatVersionIsIgnoredAndRebuilt) {
  CachedRun c = cached_run("version");
  std::string bytes = file_bytes(c.entry);
  bytes[8] = char(SummaryCache::kFormatVersion + 1);  // the version follows the 8-byte magic
  write_file(c.entry, bytes);
  expect_ignored_and_rebuilt(c);
}

// Contents that pass the checksum but do not hold together (written by a faulty build, say)
// are refused by the state reader, not loaded.
TEST(SummaryCache, AnEntryWhoseStateDoesNotHoldTogetherIsIgnored) {
  CachedRun c = cached_run("garbage");
  std::string bytes = file_bytes(c.entry);
  // The key follows the 32-byte header; keep it, replace the state by the same number of bytes.
  uint32_t key_size;
  std::memcpy(&key_size, bytes.data() + 12, 4);
  std::string key = bytes.substr(32, key_size);
  std::string state = bytes.substr(32 + key_size);
  for (size_t i = 0; i < state.size(); ++i) state[i] = char(0xA5 ^ (i * 7));
  write_file(c.entry, SummaryCache::encode(key, state));
  expect_ignored_and_rebuilt(c);
}

TEST(SummaryCache, ARotatedLogThatChangedIsParsedAgain) {
  CachedRun c = cached_run("changed");
  std::ofstream(c.inputs[1], std::ios::app) << "2026-11-01 23:59:59 1tZZZZ-000001-ZZ Completed\n";
  ScanResult r = scan(c.inputs, c.cache);
  EXPECT_EQ(r.cached_inputs, 0u);
  EXPECT_EQ(scan(c.inputs, "").report.forensics->lines().lines, r.report.forensics->lines().lines);
}

TEST(SummaryCache, NoCacheDirectoryMeansNoCache) {
  std::string dir = ::testing::TempDir() + "cache-none";
  auto inputs = rotate(fixture("src/eximlog/testdata/real-4.96-pid.log"), dir, 3);
  ScanResult r = scan(inputs, "");
  EXPECT_FALSE(r.cache_stored);
  EXPECT_EQ(r.cached_inputs, 0u);
}

TEST(SummaryCache, TheLeastRecentlyUsedEntriesGoBeyondTheSizeCap) {
  std::string dir = ::testing::TempDir() + "cache-lru";
  fs::remove_all(dir);
  SummaryCache cache(dir, 2500);
  std::string state(1000, 'x');
  cache.store("a", state);
  cache.store("b", state);
  ::sleep(1);  // mtime granularity on some file systems
  ASSERT_TRUE(cache.load("a", [](StateReader& r) { r.take(r.left()); })) << "used: now the most recent";
  cache.store("c", state);
  EXPECT_TRUE(fs::exists(cache.path_for("a")));
  EXPECT_FALSE(fs::exists(cache.path_for("b")));
  EXPECT_TRUE(fs::exists(cache.path_for("c")));
}

TEST(SummaryCache, RotatedNamesAreTheOnesCached) {
  for (const char* name : {"/var/log/exim_mainlog.1", "/var/log/exim_mainlog-20261101", "/x/exim_mainlog-20261101.gz",
                           "mainlog.12.gz", "anything.gz"})
    EXPECT_TRUE(is_rotated_log_name(name)) << name;
  for (const char* name : {"/var/log/exim_mainlog", "/var/log/exim4/mainlog", "-", "mainlog.1x", "/var/log.1/mainlog"})
    EXPECT_FALSE(is_rotated_log_name(name)) << name;
}

}  // namespace
}  // namespace sw::stats
