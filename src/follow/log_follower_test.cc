#include "base/temp_dir.h"
#include "follow/log_follower.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <fstream>

namespace sw::follow {
namespace {

void append(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::app) << text; }

std::vector<std::string> drain(LogFollower& f) {
  std::vector<std::string> out;
  for (int i = 0; i < 5; ++i) f.poll([&](std::string_view l) { out.emplace_back(l); });
  return out;
}

TEST(LogFollower, WaitWakesOnAnAppendAndOtherwiseTimesOut) {
  using namespace std::chrono;
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "old\n");
  LogFollower f(log, false);
  auto t0 = steady_clock::now();
  f.wait(milliseconds(150));  // nothing happens: the full timeout
  EXPECT_GE(steady_clock::now() - t0, milliseconds(140));
  ASSERT_TRUE(f.uses_inotify()) << "inotify on the log's directory";

  append(d.path + "/rejectlog", "another file in the directory does not wake it\n");
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(100));
    append(log, "new\n");
  });
  t0 = steady_clock::now();
  f.wait(seconds(20));
  auto waited = steady_clock::now() - t0;
  writer.join();
  EXPECT_GE(waited, milliseconds(90)) << "woke for the other file";
  EXPECT_LT(waited, seconds(5)) << "not woken by the append";
  EXPECT_EQ(drain(f), (std::vector<std::string>{"new"}));

  // A rotation (rename away, new file) wakes it too.
  std::thread rotator([&] {
    std::this_thread::sleep_for(milliseconds(50));
    std::filesystem::rename(log, log + ".1");
    append(log, "after\n");
  });
  t0 = steady_clock::now();
  f.wait(seconds(20));
  EXPECT_LT(steady_clock::now() - t0, seconds(5));
  rotator.join();
}

TEST(LogFollower, StartsAtTheEndUnlessFromStart) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "old1\nold2\n");
  LogFollower tail(log, false), full(log, true);
  append(log, "new1\n");
  EXPECT_EQ(drain(tail), (std::vector<std::string>{"new1"}));
  EXPECT_EQ(drain(full), (std::vector<std::string>{"old1", "old2", "new1"}));
}

TEST(LogFollower, HoldsAPartialLineUntilItsNewline) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "");
  LogFollower f(log, true);
  append(log, "half");
  EXPECT_TRUE(drain(f).empty());
  append(log, " done\n");
  EXPECT_EQ(drain(f), (std::vector<std::string>{"half done"}));
}

// A "line" of 20 MB written in pieces without a newline (a flood, a binary): the follower
// keeps at most 4 MB of it, hands out the cut line at its newline, and the next line is whole.
TEST(LogFollower, AnEndlessLineIsCutNotKeptWhole) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "");
  LogFollower f(log, true);
  std::vector<std::string> lines;
  const std::string piece(1u << 20, 'x');
  for (int i = 0; i < 20; ++i) {
    append(log, piece);
    f.poll([&](std::string_view l) { lines.emplace_back(l); });
  }
  append(log, "\nnext line\n");
  for (int i = 0; i < 3; ++i) f.poll([&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 4u << 20) << "the unfinished line was kept whole";
  EXPECT_EQ(lines[1], "next line");
}

TEST(LogFollower, RenameRotationLosesNothing) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "a\n");
  LogFollower f(log, true);
  EXPECT_EQ(drain(f).size(), 1u);
  append(log, "b\n");                        // not yet read...
  std::filesystem::rename(log, log + ".1");  // ...when the log is rotated
  append(log + ".1", "c\n");                 // Exim still writes to the old file
  append(log, "d\n");                        // then opens the new one
  EXPECT_EQ(drain(f), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_EQ(f.stats().rotations, 1u);
}

TEST(LogFollower, LateWritesToTheRotatedFileAreStillRead) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "a\n");
  LogFollower f(log, true);
  EXPECT_EQ(drain(f).size(), 1u);
  std::filesystem::rename(log, log + ".1");
  append(log, "new1\n");
  EXPECT_EQ(drain(f), (std::vector<std::string>{"new1"}));  // switched to the new file
  // An Exim process that opened the log before the rename writes there now.
  append(log + ".1", "late\n");
  append(log, "new2\n");
  std::vector<std::string> got = drain(f);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"late", "new2"}));
  EXPECT_EQ(f.stats().lines, 4u);
  EXPECT_EQ(f.stats().rotations, 1u);
}

TEST(LogFollower, CopyTruncateRestartsAtZero) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "line one is long\n");
  LogFollower f(log, true);
  EXPECT_EQ(drain(f).size(), 1u);
  std::filesystem::resize_file(log, 0);
  append(log, "x\n");
  EXPECT_EQ(drain(f), (std::vector<std::string>{"x"}));
  EXPECT_EQ(f.stats().truncations, 1u);
}

TEST(LogFollower, MissingFileIsReportedAndPickedUpLater) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  LogFollower f(log, false);
  EXPECT_TRUE(drain(f).empty());
  EXPECT_NE(f.last_error().find("cannot open"), std::string::npos);
  append(log, "first\n");  // the file appeared after we started: all of it is new
  append(log, "second\n");
  EXPECT_EQ(drain(f), (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(f.last_error().empty());
}

TEST(LogFollower, ReportsLagWhenBehind) {
  TempDir d;
  std::string log = d.path + "/mainlog";
  append(log, "");
  LogFollower f(log, true);
  drain(f);
  append(log, std::string(1000, 'x') + "\n");
  EXPECT_EQ(f.lag_bytes(), 1001u);
  size_t lines = f.poll([](std::string_view) {});
  EXPECT_EQ(lines, 1u);
  EXPECT_EQ(f.lag_bytes(), 0u);
}

}  // namespace
}  // namespace sw::follow
