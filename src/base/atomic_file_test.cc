#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/temp_dir.h"

namespace sw {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

pid_t a_finished_process() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(AtomicFile, ReplacesTheFileWhole) {
  TempDir dir;
  std::string path = dir.path + "/model.bin", error;
  ASSERT_TRUE(write_file_atomically(path, "first", &error)) << error;
  ASSERT_TRUE(write_file_atomically(path, "second", &error)) << error;
  EXPECT_EQ(read(path), "second");
  EXPECT_FALSE(write_file_atomically(dir.path + "/missing/model.bin", "x", &error));
  EXPECT_NE(error.find("missing/model.bin"), std::string::npos) << error;
}

// A writer killed between its write and its rename leaves PATH.tmp.PID behind (megabytes for a
// content model): the next write removes it, and never a running process's, nor other files.
TEST(AtomicFile, TemporariesOfProcessesThatAreGoneAreRemoved) {
  TempDir dir;
  std::string path = dir.path + "/model.bin", error;
  std::string dead = path + ".tmp." + std::to_string(a_finished_process());
  std::string running = path + ".tmp.1";  // init
  std::string others[] = {path + ".tmp.x1", dir.path + "/other.bin.tmp.999999999", path + ".tmp."};
  for (const auto& f : {dead, running}) std::ofstream(f) << "partial";
  for (const auto& f : others) std::ofstream(f) << "not ours";
  // Touched a moment ago, its pid may be a live writer's in another PID namespace: kept.
  ASSERT_TRUE(write_file_atomically(path, "whole", &error)) << error;
  EXPECT_TRUE(std::filesystem::exists(dead));
  auto old = std::filesystem::file_time_type::clock::now() - std::chrono::minutes(11);
  for (const auto& f : {dead, running}) std::filesystem::last_write_time(f, old);
  for (const auto& f : others) std::filesystem::last_write_time(f, old);
  ASSERT_TRUE(write_file_atomically(path, "whole", &error)) << error;
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(running));
  for (const auto& f : others) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  EXPECT_EQ(read(path), "whole");
  EXPECT_EQ(remove_stale_temporaries(path), 0u);
}

// A link planted under the temporary name is replaced, never written through.
TEST(AtomicFile, ALinkAtTheTemporaryNameIsNotFollowed) {
  TempDir dir;
  std::string path = dir.path + "/model.bin", victim = dir.path + "/victim", error;
  std::ofstream(victim) << "keep";
  std::filesystem::create_symlink(victim, path + ".tmp." + std::to_string(::getpid()));
  ASSERT_TRUE(write_file_atomically(path, "whole", &error)) << error;
  EXPECT_EQ(read(victim), "keep");
  EXPECT_EQ(read(path), "whole");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
}

}  // namespace
}  // namespace sw
