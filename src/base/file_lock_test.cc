#include "base/file_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/temp_dir.h"

namespace sw {
namespace {

TEST(FileLock, OneHolderAtATimeWhoseNoteTheOthersRead) {
  TempDir dir;
  std::string path = dir.path + "/model.lock", error;
  std::optional<FileLock::Holder> holder;
  auto first = FileLock::try_take(path, "spamd /run/x.sock", &holder, &error);
  ASSERT_TRUE(first) << error;
  std::string pid = std::to_string(::getpid());
  EXPECT_EQ(FileLock::read_holder(path).pid, pid);
  EXPECT_EQ(FileLock::read_holder(path).note, "spamd /run/x.sock");
  EXPECT_FALSE(FileLock::try_take(path, "", &holder, &error));  // another open file: refused, even here
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->pid, pid);
  EXPECT_EQ(holder->note, "spamd /run/x.sock");
  EXPECT_EQ(holder->who(), "pid " + pid);
  EXPECT_NE(error.find("held by pid " + pid), std::string::npos) << error;
  auto seen = FileLock::holder_if_held(path);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->note, "spamd /run/x.sock");
  first.reset();
  EXPECT_FALSE(FileLock::holder_if_held(path));  // the note is still in the file; nobody holds it
  auto second = FileLock::try_take(path, "", &holder, &error);
  ASSERT_TRUE(second) << error;
  EXPECT_EQ(FileLock::read_holder(path).note, "");  // the last holder's note is gone
  EXPECT_FALSE(FileLock::try_take(dir.path + "/missing/x.lock", "", &holder, &error));
  EXPECT_FALSE(holder);
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

// The holder truncates the lock file to write its pid: a link planted in its place is refused,
// never followed to the file it names.
TEST(FileLock, ALinkInPlaceOfTheLockFileIsNotFollowed) {
  TempDir dir;
  std::string victim = dir.path + "/victim", path = dir.path + "/model.lock", error;
  std::ofstream(victim) << "keep";
  std::filesystem::create_symlink(victim, path);
  std::optional<FileLock::Holder> holder;
  EXPECT_FALSE(FileLock::try_take(path, "spamd /run/x.sock", &holder, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "keep");
}

}  // namespace
}  // namespace sw
