#include "base/file_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace sw
