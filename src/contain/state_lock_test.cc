#include "contain/state_lock.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/temp_dir.h"
#include "base/test_files.h"

namespace sw::contain {
namespace {

TEST(StateLock, CreatesTheDirectoriesAndRefusesASecondHolder) {
  TempDir tmp("sw-state-lock");
  std::string state = tmp.path + "/var/lib/spamwarden", error;
  auto first = StateLock::acquire(state, &error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(::access((state + "/holds").c_str(), W_OK), 0);
  EXPECT_EQ(sw::testing::file_bytes(state_lock_path(state)), std::to_string(::getpid()) + "\n");
  // A second open file is a second holder, even in this process.
  EXPECT_EQ(StateLock::acquire(state, &error), nullptr);
  EXPECT_EQ(error, "another spamwarden watch (pid " + std::to_string(::getpid()) + ") holds " + state + "/watch.lock");
  first.reset();
  EXPECT_NE(StateLock::acquire(state, &error), nullptr) << error;
}

TEST(StateLock, AStateDirThatCannotBeMadeIsAnError) {
  TempDir tmp("sw-state-lock");
  std::ofstream(tmp.path + "/file") << "x";
  std::string error;
  EXPECT_EQ(StateLock::acquire(tmp.path + "/file/state", &error), nullptr);
  EXPECT_EQ(error, "cannot create " + tmp.path + "/file/state: Not a directory");
  ASSERT_TRUE(ensure_writable_directory(tmp.path + "/state", &error)) << error;
  std::ofstream(tmp.path + "/state/holds") << "x";  // holds/ is a file
  EXPECT_EQ(StateLock::acquire(tmp.path + "/state", &error), nullptr);
  EXPECT_EQ(error, "cannot use " + tmp.path + "/state/holds: Not a directory");
}

// watch would write its lists there: it does not start on a holds/ others can write in or
// that leads elsewhere.
TEST(StateLock, RefusesAHoldsDirectoryOthersControl) {
  TempDir tmp("sw-state-lock"), elsewhere("sw-elsewhere");
  std::string state = tmp.path + "/state", holds = state + "/holds", error;
  ASSERT_TRUE(ensure_writable_directory(holds, &error)) << error;
  ASSERT_EQ(::chmod(holds.c_str(), 0777), 0);
  EXPECT_EQ(StateLock::acquire(state, &error), nullptr);
  EXPECT_EQ(error, "refusing to write in " + holds + ": writable by group or others (chmod go-w)");
  std::filesystem::remove(holds);
  std::filesystem::create_directory_symlink(elsewhere.path, holds);
  EXPECT_EQ(StateLock::acquire(state, &error), nullptr);
  EXPECT_EQ(error, "refusing to write in " + holds + ": it is a symbolic link");
}

TEST(StateLock, LeavesNoProbeFileBehind) {
  TempDir tmp("sw-state-lock");
  std::string error;
  ASSERT_TRUE(ensure_writable_directory(tmp.path + "/d", &error)) << error;
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path + "/d")) entries += !e.path().empty();
  EXPECT_EQ(entries, 0u);
}

}  // namespace
}  // namespace sw::contain
