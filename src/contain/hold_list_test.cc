#include "contain/hold_list.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "contain/containment.h"
#include "base/temp_dir.h"
#include "base/text.h"
#include "base/test_files.h"

namespace sw::contain {
namespace {

using detect::ActorType;

TEST(HoldList, QuotesKeysThatLsearchWouldSplit) {
  std::string text = render_hold_list(ActorType::ClientIp, {{"2001:db8::1", "burst"}, {"a \"b\"\\c", "x"}});
  EXPECT_NE(text.find("\"2001:db8::1\": burst\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\"a \\\"b\\\"\\\\c\": x\n"), std::string::npos) << text;
  auto back = parse_hold_list(text, nullptr);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].key, "2001:db8::1");
  EXPECT_EQ(back[1].key, "a \"b\"\\c");
  EXPECT_EQ(back[1].note, "x");
}

TEST(HoldList, ReaderReportsBadLinesWithNumbers) {
  std::vector<std::string> errors;
  auto entries = parse_hold_list("# c\nuserx1: by hand\n\"open\n", &errors);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "userx1");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "line 3: unterminated quoted key");
}

TEST(HoldList, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  TempDir d;
  std::string path = d.path + "/sender";
  std::string error;
  ASSERT_TRUE(write_file_atomically(path, "one\n", &error)) << error;
  ASSERT_TRUE(write_file_atomically(path, "two\n", &error)) << error;
  EXPECT_EQ(sw::testing::file_bytes(path), "two\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path), {}), 1);
  struct stat st {};
  ::stat(path.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(HoldList, FailedWriteKeepsTheOldList) {
  TempDir d;
  std::string path = d.path + "/sub/sender";  // directory missing: the temp file cannot be made
  std::string error;
  EXPECT_FALSE(write_file_atomically(path, "x\n", &error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A link planted where the temporary file goes must not be written through (as root it would
// truncate and overwrite whatever it points to), nor make the write fail.
TEST(HoldList, AtomicWriteNeverWritesThroughALinkAtItsTemporaryName) {
  TempDir d, elsewhere;
  std::string victim = elsewhere.path + "/victim", path = d.path + "/sender";
  std::ofstream(victim) << "secret\n";
  std::string planted = path + ".tmp." + std::to_string(::getpid());
  std::filesystem::create_symlink(victim, planted);
  std::string error;
  ASSERT_TRUE(write_file_atomically(path, "list\n", &error)) << error;
  EXPECT_EQ(sw::testing::file_bytes(victim), "secret\n");
  EXPECT_EQ(sw::testing::file_bytes(path), "list\n");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(planted)));
}

TEST(HoldList, AtomicWriteRefusesADirectoryOthersControl) {
  TempDir state, elsewhere;
  std::string holds = state.path + "/holds", error;
  std::filesystem::create_directory_symlink(elsewhere.path, holds);
  EXPECT_FALSE(write_file_atomically(holds + "/sender", "x\n", &error));
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere.path));

  std::filesystem::remove(holds);
  ASSERT_EQ(::mkdir(holds.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(holds.c_str(), 0777), 0);
  EXPECT_FALSE(write_file_atomically(holds + "/sender", "x\n", &error));
  EXPECT_NE(error.find("writable by group or others"), std::string::npos) << error;
  ASSERT_EQ(::chmod(holds.c_str(), 0775), 0);
  EXPECT_FALSE(write_file_atomically(holds + "/sender", "x\n", &error));
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(holds.c_str(), 0755), 0);
    ASSERT_EQ(::chown(holds.c_str(), 65534, 65534), 0);  // nobody's
    EXPECT_FALSE(write_file_atomically(holds + "/sender", "x\n", &error));
    EXPECT_NE(error.find("owned by uid 65534"), std::string::npos) << error;
  }
  EXPECT_TRUE(std::filesystem::is_empty(holds));
}

TEST(HoldLists, ScriptHoldAlsoHoldsItsUserAndEveryFileExists) {
  TempDir d;
  store::HoldRecord h{.actor = {ActorType::Script, "/home/userx1/public_html"},
                      .reason = "burst",
                      .related_user = "userx1",
                      .incident = "",
                      .since = 1,
                      .frozen = 0,
                      .active = true,
                      .released_at = 0,
                      .release_note = ""};
  std::string error;
  ASSERT_TRUE(update_hold_lists(d.path, {}, {h}, &error)) << error;
  for (ActorType t : detect::kAllActorTypes) EXPECT_TRUE(std::filesystem::exists(hold_list_path(d.path, t)));
  auto users = parse_hold_list(sw::testing::file_bytes(hold_list_path(d.path, ActorType::LocalUser)), nullptr);
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].key, "userx1");
  EXPECT_EQ(selection_for(h).login, "userx1");
}

// A held key with glob characters selects that key alone, never other accounts' mail.
TEST(HoldLists, AHeldKeyWithGlobCharactersSelectsOnlyItself) {
  auto hold = [](ActorType type, std::string key) {
    store::HoldRecord h;
    h.actor = {type, std::move(key)};
    h.related_user = "user*";
    return h;
  };
  auto sender = selection_for(hold(ActorType::Sender, "*@acme-shop.example")).sender;
  EXPECT_TRUE(glob_match(sender, "*@acme-shop.example"));
  EXPECT_FALSE(glob_match(sender, "orders@acme-shop.example"));
  auto auth = selection_for(hold(ActorType::AuthAccount, "a?c@x.example")).auth_id;
  EXPECT_TRUE(glob_match(auth, "a?c@x.example"));
  EXPECT_FALSE(glob_match(auth, "abc@x.example"));
  auto login = selection_for(hold(ActorType::LocalUser, "[ab]x")).login;
  EXPECT_TRUE(glob_match(login, "[ab]x"));
  EXPECT_FALSE(glob_match(login, "ax"));
  auto script_user = selection_for(hold(ActorType::Script, "/home/u/public_html")).login;
  EXPECT_TRUE(glob_match(script_user, "user*"));
  EXPECT_FALSE(glob_match(script_user, "userx1"));
}

}  // namespace
}  // namespace sw::contain
