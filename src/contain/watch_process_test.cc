// `spamwarden watch` as a process: killed with SIGKILL in the middle of a burst of 3,000
// actors, every hold that reached Exim's lists must still be held after a restart, in the
// lists and in the store; a log that is not a file ends a catch-up run with exit 2.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/temp_dir.h"
#include "contain/hold_list.h"
#include "eximlab.h"

namespace sw::contain {
namespace {

std::string binary() { return std::string(SW_BINARY_DIR) + "/spamwarden"; }

std::string message_id(unsigned n) {
  static const char* digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id = "1xV9ru-";
  for (unsigned i = 0, v = n; i < 6; ++i, v /= 62) id += digits[v % 62];
  return id + "-2v";
}

// 3,000 SMTP-AUTH accounts, each sending 12 messages within a second from one client IP.
void write_burst_log(const std::string& path) {
  std::ofstream out(path);
  unsigned n = 0;
  for (unsigned actor = 0; actor < 3000; ++actor) {
    unsigned second = 10 + actor / 60;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "2026-11-22 %02u:%02u:%02u", 15 + second / 3600, second / 60 % 60, second % 60);
    for (int m = 0; m < 12; ++m, ++n)
      out << stamp << " [" << 1000 + n << "] " << message_id(n) << " <= news@shop.example H=(pc) [192.0.2.9]:5000"
          << " P=esmtpa A=dovecot_login:acct" << actor << "@shop.example S=500 id=" << n << "@shop.example"
          << " T=\"Offer\" for to" << n << "@example.net\n";
  }
}

std::set<std::string> listed(const std::string& state, detect::ActorType type) {
  std::ifstream in(hold_list_path(state, type));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::set<std::string> keys;
  for (const HoldListEntry& e : parse_hold_list(text, nullptr)) keys.insert(e.key);
  return keys;
}

pid_t start_watch(const std::vector<std::string>& args, const std::string& err) {
  std::vector<std::string> all = {binary(), "watch"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen(err.c_str(), "a", stderr)) _exit(126);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST(WatchProcess, KillNineUnderABurstOf3000ActorsLosesNoHold) {
  TempDir d;
  std::string log = d.path + "/mainlog", state = d.path + "/state", spool = d.path + "/spool", err = d.path + "/err";
  write_burst_log(log);
  ::mkdir(spool.c_str(), 0755);
  std::vector<std::string> common = {"--config", "/dev/null", "--log", log,      "--state-dir",
                                     state,      "--spool",   spool,   "--exim", "/bin/false"};
  std::vector<std::string> first = common;
  first.push_back("--from-start");
  pid_t pid = start_watch(first, err);
  ASSERT_GT(pid, 0);
  size_t seen = 0;
  for (int i = 0; i < 600 && seen < 400; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = listed(state, detect::ActorType::AuthAccount).size();
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GE(seen, 400u) << "watch placed too few holds to test\n" << testing::read_file(err);
  std::set<std::string> before = listed(state, detect::ActorType::AuthAccount);

  // A restart at the end of the log: no new line, only what the last run left.
  std::vector<std::string> again = common;
  again.push_back("--exit-at-end");
  pid = start_watch(again, err);
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::read_file(err);
  std::set<std::string> after = listed(state, detect::ActorType::AuthAccount);
  for (const std::string& key : before) EXPECT_TRUE(after.count(key)) << key << " was released by the restart";
  EXPECT_GE(after.size(), before.size());
  for (const auto& entry : std::filesystem::directory_iterator(state + "/holds"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << entry.path();

  auto holds = testing::run_command(
      {binary(), "holds", "--json", "--config", "/dev/null", "--state-dir", state, "--spool", spool});
  ASSERT_EQ(holds.exit_code, 1) << holds.err;  // holds present
  std::set<std::string> stored;
  nlohmann::json incidents = nlohmann::json::parse(holds.out).at("incidents");
  for (const auto& incident : incidents)
    for (const auto& h : incident.at("holds"))
      stored.insert(h.at("actor_type").get<std::string>() + ":" + h.at("actor").get<std::string>());
  size_t missing = 0;
  for (const std::string& key : after) missing += !stored.count("auth_account:" + key);
  EXPECT_EQ(missing, 0u) << "of " << after.size() << " listed, " << stored.size() << " stored";
}

// A directory given as the log: exit 2 with a message, as for a missing file, instead of
// waiting forever for a "file" whose size never drains.
TEST(WatchProcess, ADirectoryAsTheLogExitsTwoWithExitAtEnd) {
  TempDir d;
  std::string err = d.path + "/err";
  ::mkdir((d.path + "/spool").c_str(), 0755);
  pid_t pid = start_watch({"--config", "/dev/null", "--log", d.path, "--state-dir", d.path + "/state", "--spool",
                           d.path + "/spool", "--exim", "/bin/false", "--from-start", "--exit-at-end"},
                          err);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 100 && (done = ::waitpid(pid, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (done != pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "watch --exit-at-end on a directory did not exit within 10 s";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << testing::read_file(err);
  EXPECT_NE(testing::read_file(err).find("is not a regular file (a directory)"), std::string::npos)
      << testing::read_file(err);
}

}  // namespace
}  // namespace sw::contain
