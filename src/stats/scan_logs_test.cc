// scan_logs over files on disk: evidence lines come back the same from a plain log (read
// again by offset), its gzip copy (kept as copies) and the log split across rotated files.
#include "stats/scan_logs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "logio/gzip_test_files.h"
#include "stats/findings.h"

namespace sw::stats {
namespace {

std::string scan_path(const std::string& name) { return ::testing::TempDir() + name; }

// Several megabytes (so several blocks) of ordinary mail with a script burst at the end.
std::string burst_log() {
  std::string log;
  int serial = 0;
  auto id = [&] { return fmt::format("1tAAAA-{:06d}-AA", ++serial); };
  for (int i = 0; i < 12000; ++i) {
    std::string m = id();
    int minute = i / 20;
    log += fmt::format(
        "2026-11-01 {:02d}:{:02d}:00 {} <= shop{}@shop.example H=mx.example [192.0.2.{}] P=esmtps "
        "S=2100 T=\"Order {}\" for buyer{}@far.test\n",
        minute / 60, minute % 60, m, i % 7, i % 200, i, i);
    log += fmt::format(
        "2026-11-01 {:02d}:{:02d}:01 {} => buyer{}@far.test R=dnslookup T=remote_smtp "
        "H=mx.far.test [198.51.100.1]\n",
        minute / 60, minute % 60, m, i);
    log += fmt::format("2026-11-01 {:02d}:{:02d}:01 {} Completed\n", minute / 60, minute % 60, m);
  }
  for (int i = 0; i < 300; ++i) {
    std::string m = id();
    uint32_t pid = 5000 + uint32_t(i);
    log += fmt::format(
        "2026-11-01 11:{:02d}:{:02d} [{}] cwd=/home/userx1/public_html/wp 3 args: /usr/sbin/sendmail "
        "-t -i\n",
        i / 60, i % 60, pid);
    log += fmt::format(
        "2026-11-01 11:{:02d}:{:02d} [{}] {} <= userx1@host.example U=userx1 P=local S=900 "
        "T=\"Hello\" for a{}@far.test b{}@far.test\n",
        i / 60, i % 60, pid, m, i, i);
  }
  return log;
}

void write_file(const std::string& path, std::string_view bytes) { std::ofstream(path) << bytes; }

std::vector<std::string> script_evidence(const std::vector<std::string>& inputs) {
  ScanResult r = scan_logs(inputs, ScanOptions{});
  for (const Finding& f : r.report.findings)
    if (f.kind == "spamming_script") return f.evidence;
  ADD_FAILURE() << "no spamming_script finding";
  return {};
}

TEST(ScanLogs, EvidenceIsTheSameFromAPlainLogItsGzipAndItsRotations) {
  std::string log = burst_log();
  ASSERT_GT(log.size(), 3u << 20);
  std::string plain = scan_path("ev-mainlog"), gz = scan_path("ev-mainlog.gz");
  write_file(plain, log);
  gzFile g = gzopen(gz.c_str(), "wb");
  gzwrite(g, log.data(), unsigned(log.size()));
  gzclose(g);
  size_t cut = log.find('\n', log.size() / 2) + 1;
  std::string older = scan_path("ev-split.1"), newer = scan_path("ev-split");
  write_file(older, std::string_view(log).substr(0, cut));
  write_file(newer, std::string_view(log).substr(cut));

  std::vector<std::string> from_plain = script_evidence({plain});
  // The cwd= line that first named the directory, then the last three arrivals that raised
  // the burst's peak, in log order.
  ASSERT_EQ(from_plain.size(), 4u);
  for (const std::string& line : from_plain)
    EXPECT_NE(log.find("\n" + line + "\n"), std::string::npos) << "not a whole line of the log: " << line;
  EXPECT_NE(from_plain[0].find("cwd=/home/userx1/public_html/wp"), std::string::npos) << from_plain[0];
  for (size_t i = 1; i < from_plain.size(); ++i) {
    EXPECT_NE(from_plain[i].find(" <= userx1@host.example U=userx1"), std::string::npos) << from_plain[i];
    EXPECT_LT(log.find(from_plain[i - 1]), log.find(from_plain[i]));
  }
  EXPECT_EQ(script_evidence({gz}), from_plain);
  EXPECT_EQ(script_evidence({newer, older}), from_plain);  // in time order, whatever the argument order
}

// Rotated files meet at one moment and are not warned about; a log given twice (a file and
// its gzip copy) is, because every line in both counts twice.
TEST(ScanLogs, WarnsWhenInputsOverlapInTime) {
  std::string log = burst_log();
  size_t cut = log.find('\n', log.size() / 2) + 1;
  std::string older = scan_path("ov-split.1"), newer = scan_path("ov-split"), copy = scan_path("ov-copy.1");
  write_file(older, std::string_view(log).substr(0, cut));
  write_file(newer, std::string_view(log).substr(cut));
  write_file(copy, std::string_view(log).substr(0, cut));
  auto overlap_warnings = [](const ScanResult& r) {
    size_t n = 0;
    for (const std::string& w : r.report.warnings) n += w.find(" overlaps ") != std::string::npos;
    return n;
  };
  ScanResult rotated = scan_logs({newer, older}, ScanOptions{});
  EXPECT_EQ(overlap_warnings(rotated), 0u) << rotated.report.warnings.front();
  ScanResult twice = scan_logs({newer, older, copy}, ScanOptions{});
  ASSERT_EQ(overlap_warnings(twice), 1u);
  ScanResult copy_alone = scan_logs({copy}, ScanOptions{});
  EXPECT_EQ(twice.forensics->messages().messages,
            rotated.forensics->messages().messages + copy_alone.forensics->messages().messages)
      << "the copy's messages are counted again: which is why it is warned about";
  for (const std::string& w : twice.report.warnings)
    if (w.find(" overlaps ") != std::string::npos) {
      EXPECT_NE(w.find("ov-copy.1"), std::string::npos) << w;
      EXPECT_NE(w.find("ov-split.1"), std::string::npos) << w;
      EXPECT_NE(w.find("counted twice"), std::string::npos) << w;
    }
}

// The wrong file given by mistake (another MTA's log, a binary) is said to be one, and counted
// apart, so the command can exit 2 rather than report "nothing found".
TEST(ScanLogs, AFileWithNoMainLogLineIsCalledForeign) {
  std::string postfix = scan_path("foreign-maillog"), binary = scan_path("foreign-binary"),
              good = scan_path("foreign-good"), empty = scan_path("foreign-empty");
  write_file(postfix,
             "Nov 23 10:00:00 mx postfix/smtpd[123]: connect from unknown[192.0.2.1]\n"
             "Nov 23 10:00:01 mx postfix/smtpd[123]: 4BxYz: client=unknown[192.0.2.1]\n");
  write_file(binary, std::string("\x7f"
                                 "ELF\x02\x01\x01\0\0\0\n\xff\xfe garbage\n",
                                 22));
  write_file(good,
             "2026-11-01 10:00:00 1tAAAA-000001-AA <= a@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=9\n"
             "this one line is not understood\n");
  write_file(empty, "");
  ScanResult r = scan_logs({postfix, good, binary, empty}, ScanOptions{});
  EXPECT_EQ(r.foreign_inputs, 2u);
  EXPECT_EQ(r.forensics->messages().messages, 1u) << "the good log is still read";
  size_t named = 0;
  for (const std::string& w : r.report.warnings) {
    if (w.find("is an Exim main-log line") == std::string::npos) continue;
    ++named;
    EXPECT_TRUE(w.find("foreign-maillog: none of its 2 lines") != std::string::npos ||
                w.find("foreign-binary: none of its 2 lines") != std::string::npos)
        << w;
  }
  EXPECT_EQ(named, 2u);
  EXPECT_EQ(scan_logs({good, empty}, ScanOptions{}).foreign_inputs, 0u)
      << "a few bad lines, or none at all, are not foreign";
}

// --since 2h reads "now" on the log's clock: UTC when its times carry a zone (log_timezone).
TEST(ScanLogs, TellsALogThatWritesZonesByItsEarliestInput) {
  std::string zoned = scan_path("zone-zoned"), local = scan_path("zone-local");
  write_file(zoned, "2026-11-01 10:02:03 +0100 1tAAAA-000001-AA <= a@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=9\n");
  write_file(local, "2026-11-02 10:02:03 1tAAAA-000002-AA <= a@b.example H=(pc) [192.0.2.7]:4000 P=esmtp S=9\n");
  EXPECT_TRUE(logged_with_timezone({zoned}));
  EXPECT_FALSE(logged_with_timezone({local}));
  EXPECT_TRUE(logged_with_timezone({local, zoned})) << "the earliest input decides";
  EXPECT_FALSE(logged_with_timezone({scan_path("zone-missing"), local}));
  EXPECT_FALSE(logged_with_timezone({"-"})) << "stdin is not peeked at";
}

void write_gzip_file(const std::string& path, std::string_view text) {
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, text.data(), unsigned(text.size()));
  gzclose(g);
}

using sw::logio::testing::file_bytes;
using sw::logio::testing::zcat_whole_lines;

size_t warnings_with(const ScanResult& r, std::string_view text) {
  return size_t(std::count_if(r.report.warnings.begin(), r.report.warnings.end(),
                              [&](const std::string& w) { return w.find(text) != std::string::npos; }));
}

// A gzip cut short is read up to the cut: its lines reach the report, a warning names the file
// and where it stopped, and the input counts as damaged (exit 2), not as unreadable.
TEST(ScanLogs, ADamagedGzipIsCountedUpToTheDamage) {
  std::string log = burst_log(), gz = scan_path("damaged-mainlog.gz");
  write_gzip_file(gz, log);
  std::string bytes = file_bytes(gz);
  write_file(gz, std::string_view(bytes).substr(0, bytes.size() * 3 / 4));
  ScanResult r = scan_logs({gz}, ScanOptions{});
  EXPECT_EQ(r.damaged_inputs, 1u);
  EXPECT_EQ(r.unreadable_inputs, 0u);
  size_t zcat_lines = zcat_whole_lines(gz);
  ASSERT_GT(zcat_lines, 10000u);
  EXPECT_GE(r.forensics->lines().lines, zcat_lines) << "every line inflated before the cut is counted";
  EXPECT_LE(r.forensics->lines().lines, zcat_lines + 1) << "and the cut one at most besides";
  ASSERT_EQ(warnings_with(r, "damaged-mainlog.gz: the gzip data ends inside a member at compressed byte"), 1u)
      << r.report.warnings.front();
  EXPECT_EQ(warnings_with(r, std::to_string(r.forensics->lines().lines) + " lines"), 1u) << r.report.warnings.front();
}

// `logs F F`, F and a link to it, F by another path: one file, read once, with a warning that
// does not count as damage; a copy (another inode) is still the overlap warning's.
TEST(ScanLogs, TheSameFileGivenTwiceIsReadOnce) {
  std::string dir = scan_path("twice-dir");
  ::mkdir(dir.c_str(), 0700);
  std::string log = dir + "/mainlog", symlink = scan_path("twice-symlink"), hardlink = scan_path("twice-hardlink");
  write_file(log, burst_log());
  ::unlink(symlink.c_str());
  ::unlink(hardlink.c_str());
  ASSERT_EQ(::symlink(log.c_str(), symlink.c_str()), 0);
  ASSERT_EQ(::link(log.c_str(), hardlink.c_str()), 0);
  std::string dotdot = dir + "/../" + dir.substr(dir.rfind('/') + 1) + "/mainlog";
  ScanResult once = scan_logs({log}, ScanOptions{});
  ScanResult r = scan_logs({log, log, symlink, hardlink, dotdot}, ScanOptions{});
  EXPECT_EQ(r.forensics->lines().lines, once.forensics->lines().lines);
  EXPECT_EQ(r.forensics->messages().messages, once.forensics->messages().messages);
  EXPECT_EQ(r.report.inputs, std::vector<std::string>{log});
  EXPECT_EQ(r.repeated_inputs, 4u);
  EXPECT_EQ(r.damaged_inputs + r.unreadable_inputs + r.foreign_inputs, 0u);
  EXPECT_EQ(warnings_with(r, log + " given twice: read once"), 1u);
  EXPECT_EQ(warnings_with(r, symlink + " given twice (same file as " + log + "): read once"), 1u);
  EXPECT_EQ(warnings_with(r, hardlink + " given twice (same file as " + log + "): read once"), 1u);
  EXPECT_EQ(warnings_with(r, dotdot + " given twice (same file as " + log + "): read once"), 1u);
  EXPECT_EQ(warnings_with(r, " overlaps "), 0u);
  EXPECT_EQ(r.report.findings.size(), once.report.findings.size());
}

// Resident memory of this process in kB: "VmRSS" now, or "VmHWM", its peak since the last
// reset_peak_memory().
long memory_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}
bool reset_peak_memory() { return bool(std::ofstream("/proc/self/clear_refs") << "5"); }

// Input a sender can shape: a log that is mostly newlines, or millions of one-byte lines, or
// of blanks, costs per block what a normal log does, not tens of bytes per line: 1 MB of
// newlines is a million lines. Measured as the growth of the peak resident memory, which an
// ASan build inflates only by its shadow of what is really used.
TEST(ScanLogs, MemoryStaysBoundedByBlocksInFlightWhateverTheLines) {
  struct Shape {
    const char* name;
    std::string line;
    size_t megabytes;
  };
  const Shape shapes[] = {{"newlines", "\n", 32}, {"one-byte lines", "a\n", 16}, {"blank lines", "   \n", 16}};
  for (const Shape& shape : shapes) {
    std::string path = scan_path("shaped-mainlog");
    {
      std::string text;
      text.reserve(shape.megabytes << 20);
      while (text.size() < shape.megabytes << 20) text += shape.line;
      write_file(path, text);
    }
    ASSERT_TRUE(reset_peak_memory()) << "/proc/self/clear_refs";
    long before = memory_kb("VmRSS");
    ScanOptions options;
    options.workers = 4;  // the most batches in flight the bound must hold for
    ScanResult r = scan_logs({path}, options);
    long grown_mb = (memory_kb("VmHWM") - before) >> 10;
    EXPECT_EQ(r.forensics->lines().lines, (shape.megabytes << 20) / shape.line.size()) << shape.name;
    EXPECT_LT(grown_mb, 48) << shape.name << ": peak memory grew by " << grown_mb << " MB";
    ::unlink(path.c_str());
  }
}

}  // namespace
}  // namespace sw::stats
