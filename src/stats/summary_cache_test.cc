// The summary cache of rotated logs: a re-run that takes the rotated logs' state from the
// cache reports exactly what a full parse does, and an entry that is damaged, cut short, from
// another format version or for changed files is never trusted.
#include "stats/summary_cache.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "logio/gzip_test_files.h"
#include "stats/actor_table.h"
#include "stats/evidence.h"
#include "stats/scan_logs.h"
#include "stats/state_io.h"

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
  EXPECT_EQ(second.resumed_bytes, fs::file_size(inputs.back())) << "the live log's state too: nothing parsed";
  EXPECT_EQ(report_of(second), reference);
}

// A table loaded from a cache entry builds its index only when something looks actors up: a
// few lookups scan its hashes, more build the index, and folding goes on where it stopped.
// Every way must find the same actor the table that was saved finds.
TEST(ActorTableLoaded, FindsEveryActorBeforeAndAfterItsIndexIsBuilt) {
  ActorTable saved(ActorKind::Sender, 0, false);
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(fmt::format("user{}@example{}.org", i, i % 7));
  for (const auto& k : keys) saved.at(saved.intern(k)).messages = k.size();
  StateWriter w;
  saved.save(w);
  EvidenceLines copies;
  ActorTable loaded(ActorKind::Sender, 0, false);
  StateReader r(w.bytes());
  loaded.load(r, copies);
  ASSERT_EQ(loaded.size(), keys.size());
  for (size_t i = 0; i < 40; ++i) {  // past the scans, into the built index
    size_t k = (i * 977) % keys.size();
    const ActorStats* a = loaded.find(keys[k]);
    ASSERT_NE(a, nullptr) << keys[k];
    EXPECT_EQ(a->key, keys[k]);
    EXPECT_EQ(a->messages, keys[k].size());
    EXPECT_EQ(loaded.find_index(ActorTable::key_hash(keys[k])), saved.find_index(ActorTable::key_hash(keys[k])));
    EXPECT_EQ(loaded.find("absent" + std::to_string(i) + "@example.org"), nullptr);
  }
  bool created = true;
  EXPECT_EQ(loaded.intern(keys[5], &created), 5u);
  EXPECT_FALSE(created);
  EXPECT_EQ(loaded.intern("new@example.org", &created), uint32_t(keys.size()));
  EXPECT_TRUE(created);
  // Saved again, before any lookup, from the hashes as loaded: the same bytes.
  ActorTable reloaded(ActorKind::Sender, 0, false);
  StateReader r2(w.bytes());
  reloaded.load(r2, copies);
  StateWriter again;
  reloaded.save(again);
  ASSERT_EQ(again.bytes().size(), w.bytes().size());
  auto differs = std::mismatch(again.bytes().begin(), again.bytes().end(), w.bytes().begin());
  EXPECT_TRUE(differs.first == again.bytes().end())
      << "the saved bytes differ at byte " << (differs.first - again.bytes().begin()) << " of " << w.bytes().size();
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

// The key stored in an entry file (after the 32-byte header).
std::string key_of_entry(const std::string& path) {
  std::string bytes = file_bytes(path);
  if (bytes.size() < 32) return {};
  uint32_t key_size;
  std::memcpy(&key_size, bytes.data() + 12, 4);
  return bytes.substr(32, key_size);
}

bool is_live_entry(const std::string& path) { return key_of_entry(path).starts_with("live "); }

// The entries of the live log's resume point: without them, a run reads the live log again.
void drop_live_entries(const std::string& cache) {
  for (const auto& e : fs::directory_iterator(cache))
    if (is_live_entry(e.path())) fs::remove(e.path());
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
  for (const auto& e : fs::directory_iterator(c.cache))
    if (!is_live_entry(e.path())) c.entry = e.path();
  EXPECT_FALSE(c.entry.empty());
  return c;
}

// A damaged entry is not used (the logs are parsed), and the run stores a good one again.
void expect_ignored_and_rebuilt(const CachedRun& c) {
  drop_live_entries(c.cache);
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
  // The key follows the 32-byte header; keep it, replace the state by the same number of bytes.
  std::string key = key_of_entry(c.entry);
  std::string state = file_bytes(c.entry).substr(32 + key.size());
  for (size_t i = 0; i < state.size(); ++i) state[i] = char(0xA5 ^ (i * 7));
  write_file(c.entry, SummaryCache::encode(key, state));
  expect_ignored_and_rebuilt(c);
}

// A FIFO where the entry was (a hostile or mistaken mkfifo) is no entry: the run neither
// waits for a writer nor trusts it.
TEST(SummaryCache, AFifoInPlaceOfAnEntryIsIgnoredNotWaitedFor) {
  CachedRun c = cached_run("fifo");
  drop_live_entries(c.cache);
  fs::remove(c.entry);
  ASSERT_EQ(::mkfifo(c.entry.c_str(), 0600), 0);
  ScanResult r = scan(c.inputs, c.cache);
  EXPECT_EQ(r.cached_inputs, 0u);
  EXPECT_EQ(report_of(r), c.reference);
  EXPECT_TRUE(r.cache_stored) << "and is rebuilt";
  EXPECT_TRUE(fs::is_regular_file(c.entry));
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
  EXPECT_FALSE(r.live_stored);
  EXPECT_EQ(r.cached_inputs, 0u);
  EXPECT_EQ(r.resumed_bytes, 0u);
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

// A run stopped while it wrote an entry (Ctrl-C on `logs`) leaves ENTRY.tmp.PID behind, as
// large as the entry and not counted by the cap: the next run removes it, never a running one's.
TEST(SummaryCache, AnEntryLeftHalfWrittenByAStoppedRunIsRemoved) {
  std::string dir = ::testing::TempDir() + "cache-stopped";
  fs::remove_all(dir);
  fs::create_directories(dir);
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  std::string stopped = dir + "/00000000000000aa.sum.tmp." + std::to_string(gone);
  std::string running = dir + "/00000000000000bb.sum.tmp.1", other = dir + "/notes.txt.tmp." + std::to_string(gone);
  for (const auto& f : {stopped, running, other}) std::ofstream(f) << "part of an entry";
  auto old = fs::file_time_type::clock::now() - std::chrono::minutes(11);  // left long enough ago
  for (const auto& f : {stopped, running, other}) fs::last_write_time(f, old);
  SummaryCache cache(dir, 1 << 20);
  EXPECT_FALSE(fs::exists(stopped));
  EXPECT_TRUE(fs::exists(running));
  EXPECT_TRUE(fs::exists(other));
}

// Stores as the entry "evidence" the state of one evidence line kept with no origin (copied);
// returns the line.
std::string store_copied_evidence_line(const SummaryCache& cache) {
  std::string line = "2026-11-01 10:00:00 1vXyZa-000123-AB <= spam@example.com U=userx1 P=local S=1200";
  Evidence saved;
  EvidenceLines copies_before;
  saved.add(copies_before.keep(line));
  StateWriter w;
  saved.save(w);
  cache.store("evidence", w.bytes());
  return line;
}

// The copied evidence lines of a loaded entry (from gzip logs, tens of MB on a week) are left
// where they lie in the entry's mapping, not copied to the heap, and still read right after
// the entry was replaced by the next run's and removed.
TEST(SummaryCache, CopiedEvidenceLinesStayInTheEntryWhenLoaded) {
  std::string dir = ::testing::TempDir() + "cache-evidence-in-place";
  fs::remove_all(dir);
  SummaryCache cache(dir, SummaryCache::kDefaultMaxBytes);
  std::string line = store_copied_evidence_line(cache);
  std::string entry = cache.path_for("evidence");
  uint64_t entry_size = fs::file_size(entry);

  Evidence loaded;
  EvidenceLines copies;
  const char* mapped = nullptr;
  ASSERT_TRUE(cache.load("evidence", [&](StateReader& r) {
    ASSERT_TRUE(r.backing());
    mapped = static_cast<const char*>(r.backing().get());
    loaded.load(r, copies);
  }));
  ASSERT_EQ(loaded.lines().size(), 1u);
  auto at = reinterpret_cast<const char*>(uintptr_t(loaded.lines()[0].where & ~LineRef::kCopied));
  EXPECT_TRUE(at >= mapped && at + line.size() <= mapped + entry_size) << "the line lies in the mapped entry";
  cache.store("evidence", "another state");  // the next run's entry, by rename
  fs::remove(entry);
  EXPECT_EQ(copies.texts(loaded), std::vector<std::string>{line});
}

// Loaded with Strings::Read, the same entry maps nothing: its copied evidence lines are read
// with the rest into the loader's own copies (a merge copies them all anyway).
TEST(SummaryCache, EvidenceLinesLoadedAsReadAreTheLoadersOwnCopies) {
  std::string dir = ::testing::TempDir() + "cache-evidence-read";
  fs::remove_all(dir);
  SummaryCache cache(dir, SummaryCache::kDefaultMaxBytes);
  std::string line = store_copied_evidence_line(cache);

  Evidence loaded;
  EvidenceLines copies;
  bool mapped = true;
  ASSERT_TRUE(cache.load(
      "evidence",
      [&](StateReader& r) {
        mapped = r.backing() != nullptr;
        loaded.load(r, copies);
      },
      SummaryCache::Strings::Read));
  EXPECT_FALSE(mapped);
  fs::remove_all(dir);  // nothing of the entry is needed any more
  EXPECT_EQ(copies.texts(loaded), std::vector<std::string>{line});
}

// An entry holds no heap address: two copies of the same evidence line, alive at once (so at
// two addresses), save to the same bytes, and the same state always gives the same entry.
TEST(SummaryCache, CopiedEvidenceLinesSaveNoAddress) {
  std::string line = "2026-11-01 10:00:00 1vXyZa-000123-AB <= spam@example.com U=userx1 P=local S=1200";
  EvidenceLines copies_a, copies_b;
  Evidence a, b;
  a.add(copies_a.keep(line));
  b.add(copies_b.keep(line));
  uint64_t where_a = a.lines()[0].where;
  ASSERT_NE(where_a, b.lines()[0].where);
  StateWriter wa, wb;
  a.save(wa);
  b.save(wb);
  EXPECT_EQ(wa.bytes(), wb.bytes());
  EXPECT_EQ(wa.bytes().find(std::string_view(reinterpret_cast<const char*>(&where_a), 6)), std::string::npos);
}

// The live log's resume point: the engine's state at the end of its last complete line.

ScanResult scan_with(const std::vector<std::string>& inputs, const std::string& cache, int engines = 0) {
  ScanOptions o;
  o.cache_dir = cache;
  o.engines = engines;
  return scan_logs(inputs, o);
}

struct LiveSet {
  std::vector<std::string> inputs;  // the rotated logs, then the live one
  std::string cache, live, text;    // text: what the live log holds when whole
};

// The fixture as `parts` files: parts - 1 rotated logs and the live log (only it for 1).
LiveSet live_set(const std::string& name, size_t parts) {
  LiveSet s;
  std::string dir = ::testing::TempDir() + "live-" + name;
  s.inputs = rotate(fixture("src/eximlog/testdata/real-4.96-pid.log"), dir, parts);
  s.cache = dir + "/cache";
  s.live = s.inputs.back();
  s.text = file_bytes(s.live);
  return s;
}

TEST(SummaryCache, AnUnchangedLiveLogIsNotParsedAgain) {
  for (size_t parts : {1, 3}) {
    SCOPED_TRACE(parts);
    LiveSet s = live_set(fmt::format("unchanged-{}", parts), parts);
    std::string reference = report_of(scan(s.inputs, ""));
    ScanResult first = scan(s.inputs, s.cache);
    EXPECT_TRUE(first.live_stored);
    EXPECT_EQ(first.resumed_bytes, 0u);
    EXPECT_EQ(report_of(first), reference);
    ScanResult second = scan(s.inputs, s.cache);
    EXPECT_EQ(second.cached_inputs, parts - 1);
    EXPECT_EQ(second.resumed_bytes, s.text.size());
    EXPECT_FALSE(second.live_stored) << "nothing new: the entry stands";
    EXPECT_EQ(report_of(second), reference);
  }
}

// The first run sees the live log cut in the middle of a line (Exim writing it): it stores
// the state before that line; the next run, after more was logged, reads from there: the
// rest of that line, and lines completing messages that arrived before the cut.
TEST(SummaryCache, AnAppendedLiveLogIsReadFromTheLastCompleteLine) {
  for (size_t parts : {1, 3})
    for (int engines : {1, 2}) {
      SCOPED_TRACE(fmt::format("{} parts, {} engines", parts, engines));
      LiveSet s = live_set(fmt::format("appended-{}-{}", parts, engines), parts);
      size_t line_start = s.text.find('\n', s.text.size() / 2) + 1, cut = line_start + 30;
      ASSERT_LT(cut, s.text.find('\n', line_start)) << "the cut falls inside a line";
      // A message that arrived before the cut and completed after it.
      bool spans_cut = false;
      for (size_t at = s.text.find(" Completed", cut); at != std::string::npos && !spans_cut;
           at = s.text.find(" Completed", at + 1)) {
        size_t id_start = s.text.rfind(' ', at - 1) + 1;
        spans_cut = s.text.find(s.text.substr(id_start, at - id_start) + " <= ") < cut;
      }
      ASSERT_TRUE(spans_cut);

      write_file(s.live, s.text.substr(0, cut));
      ScanResult first = scan_with(s.inputs, s.cache, engines);
      EXPECT_TRUE(first.live_stored);
      EXPECT_EQ(report_of(first), report_of(scan_with(s.inputs, "", engines)));
      std::ofstream(s.live, std::ios::app) << s.text.substr(cut);
      ScanResult second = scan_with(s.inputs, s.cache, engines);
      EXPECT_EQ(second.resumed_bytes, line_start) << "only complete lines were consumed";
      EXPECT_TRUE(second.live_stored);
      EXPECT_EQ(report_of(second), report_of(scan_with(s.inputs, "", 1)));
      EXPECT_EQ(scan_with(s.inputs, s.cache, engines).resumed_bytes, s.text.size());
    }
}

// Anything but the same file, at least as long, with the same bytes at its start and before
// the resume point, is parsed whole.
TEST(SummaryCache, ALiveLogTruncatedReplacedOrRewrittenIsParsedWhole) {
  for (size_t parts : {1, 3}) {
    LiveSet s = live_set(fmt::format("replaced-{}", parts), parts);
    auto flipped = [&](size_t at) {
      std::string t = s.text;
      t[at] = char(t[at] ^ 1);
      return t;
    };
    size_t third = s.text.find('\n', s.text.size() / 3) + 1;
    std::vector<std::pair<const char*, std::function<void()>>> changes = {
        {"truncated", [&] { write_file(s.live, s.text.substr(0, third)); }},
        {"a line inserted before the resume point",
         [&] {
           write_file(s.live, s.text.substr(0, third) + "2026-11-22 16:00:00 odd line\n" + s.text.substr(third));
         }},
        {"head rewritten", [&] { write_file(s.live, flipped(40)); }},
        {"end rewritten", [&] { write_file(s.live, flipped(s.text.size() - 40)); }},
        {"replaced by a copy",
         [&] {
           write_file(s.live + ".new", s.text);
           fs::rename(s.live + ".new", s.live);
         }},
    };
    for (auto& [what, change] : changes) {
      SCOPED_TRACE(fmt::format("{} parts, {}", parts, what));
      write_file(s.live, s.text);
      ScanResult before = scan(s.inputs, s.cache);
      ASSERT_TRUE(before.live_stored || before.resumed_bytes == s.text.size());
      change();
      ScanResult r = scan(s.inputs, s.cache);
      EXPECT_EQ(r.resumed_bytes, 0u);
      EXPECT_EQ(r.cached_inputs, parts - 1) << "the rotated logs still come from the cache";
      EXPECT_EQ(report_of(r), report_of(scan(s.inputs, "")));
    }
  }
}

TEST(SummaryCache, ALiveEntryForAnotherWindowOrTimeRangeIsNotUsed) {
  LiveSet s = live_set("options", 1);
  ASSERT_TRUE(scan(s.inputs, s.cache).live_stored);
  ScanOptions window, since, until;
  window.thresholds.window_seconds = 600;
  since.since = parse_civil("2026-11-22 15:53:00").value();  // the log runs from 15:52:41 to 15:53:16
  until.until = parse_civil("2026-11-22 15:53:10").value();
  for (ScanOptions* o : {&window, &since, &until}) {
    o->cache_dir = s.cache;
    EXPECT_EQ(scan_logs(s.inputs, *o).resumed_bytes, 0u);
  }
  EXPECT_EQ(scan(s.inputs, s.cache).resumed_bytes, s.text.size());
}

ScanResult scan_since(const std::vector<std::string>& inputs, const std::string& cache, const char* since) {
  ScanOptions o;
  o.cache_dir = cache;
  o.since = parse_civil(since).value();
  return scan_logs(inputs, o);
}

// `--since 2h` from cron: a window that starts later at every run. The rotated logs lie before
// it (it drops all their lines): their entry serves every such run. The live log's state, which
// the window cuts, is stored for that exact window in one entry, replaced by the next run: the
// cache does not grow run by run, and no run is answered from a state made for another window.
TEST(SummaryCache, ARelativeWindowNeitherGrowsTheCacheNorIsServedAnotherWindowsState) {
  LiveSet s = live_set("relative", 3);
  std::string live_start = file_bytes(s.live).substr(0, 19);  // the live log's first time
  ASSERT_EQ(live_start.substr(0, 11), "2026-11-22 ");
  std::vector<std::string> sinces;  // seconds into the live log, one later at each run
  for (int second : {2, 4, 6, 8, 10}) {
    CivilSeconds t = parse_civil(live_start).value() + second;
    sinces.push_back(format_civil(t));
  }
  size_t entries_after_second_run = 0;
  for (size_t run = 0; run < sinces.size(); ++run) {
    SCOPED_TRACE(sinces[run]);
    ScanResult r = scan_since(s.inputs, s.cache, sinces[run].c_str());
    EXPECT_EQ(report_of(r), report_of(scan_since(s.inputs, "", sinces[run].c_str())));
    if (run > 0) {
      EXPECT_EQ(r.cached_inputs, 2u) << "the rotated logs, all before the window, from the cache";
    }
    EXPECT_EQ(r.resumed_bytes, 0u) << "the window cuts the live log: its state for another window is not used";
    size_t entries = std::distance(fs::directory_iterator(s.cache), fs::directory_iterator());
    if (run == 1) entries_after_second_run = entries;
    if (run > 1) {
      EXPECT_EQ(entries, entries_after_second_run) << "no entry added per run";
    }
  }
  EXPECT_LE(entries_after_second_run, 2u);
  // The same window again is served from the cache, live log included.
  ScanResult again = scan_since(s.inputs, s.cache, sinces.back().c_str());
  EXPECT_EQ(again.resumed_bytes, s.text.size());
  EXPECT_EQ(report_of(again), report_of(scan_since(s.inputs, "", sinces.back().c_str())));
}

// A window that keeps every line read (it starts before the logs) serves the state made without
// one, and one made under another such window; a window that keeps none of them is one class.
TEST(SummaryCache, WindowsThatCutNothingShareTheirEntries) {
  LiveSet s = live_set("uncut", 3);
  std::string reference = report_of(scan(s.inputs, ""));
  ASSERT_TRUE(scan(s.inputs, s.cache).live_stored);
  for (const char* since : {"2026-11-22 15:00:00", "2026-11-22 15:30:00"}) {
    SCOPED_TRACE(since);
    ScanResult r = scan_since(s.inputs, s.cache, since);
    EXPECT_EQ(r.cached_inputs, 2u);
    EXPECT_EQ(r.resumed_bytes, s.text.size());
    EXPECT_EQ(report_of(r), report_of(scan_since(s.inputs, "", since)));
  }
  for (const char* since : {"2026-11-22 17:00:00", "2026-11-22 18:00:00"}) {  // after the logs: nothing kept
    SCOPED_TRACE(since);
    ScanResult r = scan_since(s.inputs, s.cache, since);
    EXPECT_EQ(report_of(r), report_of(scan_since(s.inputs, "", since)));
    if (since[12] == '8') {
      EXPECT_EQ(r.resumed_bytes, s.text.size()) << "the state of the window before";
    }
  }
}

TEST(SummaryCache, ACorruptLiveEntryIsIgnoredAndRebuilt) {
  LiveSet s = live_set("corrupt", 1);
  std::string reference = report_of(scan(s.inputs, ""));
  ASSERT_TRUE(scan(s.inputs, s.cache).live_stored);
  std::string entry;
  for (const auto& e : fs::directory_iterator(s.cache)) entry = e.path();
  ASSERT_TRUE(is_live_entry(entry));
  std::string good = file_bytes(entry);
  for (std::string bad :
       {good.substr(0, good.size() / 2), good.substr(0, 40), std::string(good).replace(good.size() / 2, 1, "\x7f"),
        std::string(good).replace(good.size() - 3, 1, "\x7f")}) {
    write_file(entry, bad);
    ScanResult r = scan(s.inputs, s.cache);
    EXPECT_EQ(r.resumed_bytes, 0u);
    EXPECT_EQ(report_of(r), reference);
    EXPECT_TRUE(r.live_stored) << "rebuilt";
    EXPECT_EQ(scan(s.inputs, s.cache).resumed_bytes, s.text.size());
  }
}

TEST(SummaryCache, TheLiveEntryIsReplacedNotAddedToOnEveryRun) {
  LiveSet s = live_set("one-entry", 3);
  write_file(s.live, s.text.substr(0, s.text.size() / 2));
  scan(s.inputs, s.cache);
  size_t entries = std::distance(fs::directory_iterator(s.cache), fs::directory_iterator());
  std::ofstream(s.live, std::ios::app) << s.text.substr(s.text.size() / 2);
  EXPECT_TRUE(scan(s.inputs, s.cache).live_stored);
  EXPECT_EQ(size_t(std::distance(fs::directory_iterator(s.cache), fs::directory_iterator())), entries);
  EXPECT_EQ(entries, 2u) << "the rotated logs' entry and the live log's";
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
