// Containment without Exim or alerts: hold lists appear on hold, only the lists whose content
// changed are rewritten, the store record comes first, and a restart loses no hold.
#include "base/temp_dir.h"
#include "contain/containment.h"
#include "base/test_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sqlite3.h>

namespace sw::contain {
namespace {

int64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? int64_t(st.st_ino) : -1;
}

detect::Trip trip(detect::ActorType type, const std::string& key, const std::string& user = "") {
  return detect::Trip{detect::ActorRef{type, key}, "21 messages in 10s (limit 20)", user, 0, "", {}};
}

// The store under `dir`; a test fails at once when it cannot be opened.
std::unique_ptr<store::HoldStore> open_store(const std::string& dir) {
  std::string error;
  auto store = store::HoldStore::open(store::store_path(dir), &error);
  EXPECT_TRUE(store) << error;
  return store;
}

// Hold lists under `state_dir`, no spool to freeze, no alerts.
Containment lists_only(const std::string& state_dir, store::HoldStore* store) {
  return Containment({.state_dir = state_dir, .spool_dir = "", .freeze_queued = false, .disable_scripts = false}, store,
                     nullptr, nullptr, [](const std::string&) {});
}

TEST(ContainmentTest, RewritesOnlyChangedListsAndRestoresMissingOnes) {
  TempDir d;
  Containment c = lists_only(d.path, nullptr);
  c.start();
  std::string script = hold_list_path(d.path, detect::ActorType::Script);
  std::string user = hold_list_path(d.path, detect::ActorType::LocalUser);
  std::string ip = hold_list_path(d.path, detect::ActorType::ClientIp);
  ASSERT_GE(inode_of(ip), 0) << "every list exists from the start (Exim's lsearch needs them)";
  int64_t ip_inode = inode_of(ip), script_inode = inode_of(script);

  EXPECT_TRUE(c.hold(trip(detect::ActorType::Script, "/home/u1/public_html", "u1"), 100));
  EXPECT_NE(inode_of(script), script_inode) << "the script list was rewritten (temp + rename)";
  EXPECT_EQ(inode_of(ip), ip_inode) << "the unchanged client_ip list was left alone";
  std::string users = sw::testing::file_bytes(user);
  EXPECT_NE(users.find("u1"), std::string::npos) << users;

  std::filesystem::remove(ip);  // somebody removed a list: the next hold puts it back
  EXPECT_TRUE(c.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 101));
  EXPECT_GE(inode_of(ip), 0);
  EXPECT_FALSE(c.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 102)) << "already held";
  EXPECT_EQ(c.active(), 2u);
}

// Exim's own user owns every message Exim took over SMTP and hands in its bounces: a hold of
// it, from whatever detector, would freeze all of them. It is refused and said.
TEST(ContainmentTest, EximsOwnUserIsNeverHeld) {
  TempDir d;
  std::vector<std::string> lines;
  Containment c({.state_dir = d.path, .spool_dir = "", .freeze_queued = false, .disable_scripts = false}, nullptr,
                nullptr, nullptr, [&](const std::string& line) { lines.push_back(line); });
  c.start();
  EXPECT_FALSE(c.hold(trip(detect::ActorType::LocalUser, "Debian-exim"), 100));
  EXPECT_EQ(c.active(), 0u);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("not holding local_user:Debian-exim: it is Exim's own user"), std::string::npos)
      << lines.back();
  EXPECT_TRUE(c.hold(trip(detect::ActorType::LocalUser, "userx2"), 101));
  EXPECT_EQ(c.active(), 1u);
}

TEST(ContainmentTest, HoldIsRecordedWithItsListAndSurvivesARestart) {
  TempDir d;
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  {
    Containment c = lists_only(d.path, store.get());
    c.start();
    EXPECT_TRUE(c.hold(trip(detect::ActorType::Script, "/home/u1/public_html", "u1"), 100));
    // The list is in place as soon as hold() returns, and the store record before it.
    std::string text = sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::Script));
    EXPECT_NE(text.find("/home/u1/public_html"), std::string::npos) << text;
    c.flush();
    auto holds = store->active_holds(&error);
    ASSERT_TRUE(holds) << error;
    ASSERT_EQ(holds->size(), 1u);
    EXPECT_EQ((*holds)[0].related_user, "u1");
    EXPECT_TRUE(c.sync(101).empty()) << "a stored hold is not mistaken for a released one";
    EXPECT_TRUE(c.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 102));
  }  // the destructor writes what is still queued
  auto holds = store->active_holds(&error);
  ASSERT_TRUE(holds) << error;
  EXPECT_EQ(holds->size(), 2u);
  // A restart rebuilds every list from the store, even if one went missing.
  std::filesystem::remove(hold_list_path(d.path, detect::ActorType::AuthAccount));
  Containment again = lists_only(d.path, store.get());
  EXPECT_EQ(again.start().size(), 2u);
  std::string text = sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::AuthAccount));
  EXPECT_NE(text.find("a@b.example"), std::string::npos) << text;
}

TEST(ContainmentTest, ReleaseInTheStoreIsPickedUpBySync) {
  TempDir d;
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  Containment c = lists_only(d.path, store.get());
  c.start();
  ASSERT_TRUE(c.hold(trip(detect::ActorType::LocalUser, "u2"), 100));
  c.flush();
  ASSERT_TRUE(store->release(detect::ActorRef{detect::ActorType::LocalUser, "u2"}, 110, "test", &error)) << error;
  auto released = c.sync(111);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].key, "u2");
  EXPECT_EQ(c.active(), 0u);
  std::string text = sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::LocalUser));
  EXPECT_EQ(text.find("\"u2\""), std::string::npos) << text;
}

// kill -9 between the list update and the store write (or a store that failed meanwhile): the
// hold reached Exim's lists, so a restart must keep it, record it, and say so.
TEST(ContainmentTest, HoldsOnTheListsButNotInTheStoreAreRecoveredOnStart) {
  TempDir d;
  {
    Containment without_store = lists_only(d.path, nullptr);
    without_store.start();
    ASSERT_TRUE(without_store.hold(trip(detect::ActorType::Script, "/home/u1/public_html", "u1"), 100));
    ASSERT_TRUE(without_store.hold(trip(detect::ActorType::AuthAccount, "a@b.example"), 101));
  }
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  std::vector<std::string> log;
  Containment c({.state_dir = d.path, .spool_dir = "", .freeze_queued = false, .disable_scripts = false}, store.get(),
                nullptr, nullptr, [&](const std::string& line) { log.push_back(line); });
  EXPECT_EQ(c.start().size(), 2u);
  auto holds = store->active_holds(&error);
  ASSERT_TRUE(holds) << error;
  ASSERT_EQ(holds->size(), 2u) << "recovered holds are recorded";
  for (const auto& h : *holds)
    if (h.actor.type == detect::ActorType::Script) {
      EXPECT_EQ(h.related_user, "u1");
    }
  EXPECT_NE(sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::AuthAccount)).find("a@b.example"),
            std::string::npos);
  EXPECT_NE(sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::LocalUser)).find("\"u1\""),
            std::string::npos);
  size_t recovered = 0;
  for (const std::string& line : log) recovered += line.find("recovered from its hold list") != std::string::npos;
  EXPECT_EQ(recovered, 2u);
  auto events = store->recent_events(10, &error);
  ASSERT_TRUE(events);
  EXPECT_EQ(std::count_if(events->begin(), events->end(), [](const auto& e) { return e.kind == "recover"; }), 2);
}

// A list entry whose release the store recorded after the list was written (the release could
// not rewrite the lists) is not brought back.
TEST(ContainmentTest, AnEntryReleasedAfterTheListWasWrittenIsNotRecovered) {
  TempDir d;
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  {
    Containment c = lists_only(d.path, store.get());
    c.start();
    ASSERT_TRUE(c.hold(trip(detect::ActorType::LocalUser, "u5"), 100));
    c.flush();
  }
  ASSERT_TRUE(store->release({detect::ActorType::LocalUser, "u5"}, std::time(nullptr) + 5, "keep by root", &error));
  Containment again = lists_only(d.path, store.get());
  EXPECT_TRUE(again.start().empty());
  EXPECT_EQ(sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::LocalUser)).find("u5"),
            std::string::npos);
}

// Only a release the store recorded lifts a hold in a running watch; a hold that vanished from
// the store (another file put in its place, a row lost) is recorded again.
TEST(ContainmentTest, AHoldMissingFromTheStoreIsRecordedAgainNotReleased) {
  TempDir d;
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  Containment c = lists_only(d.path, store.get());
  c.start();
  ASSERT_TRUE(c.hold(trip(detect::ActorType::ClientIp, "192.0.2.7"), 100));
  c.flush();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store::store_path(d.path).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM holds", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(c.sync(101).empty());
  EXPECT_EQ(c.active(), 1u);
  EXPECT_NE(sw::testing::file_bytes(hold_list_path(d.path, detect::ActorType::ClientIp)).find("192.0.2.7"),
            std::string::npos);
  auto holds = store->active_holds(&error);
  ASSERT_TRUE(holds) << error;
  EXPECT_EQ(holds->size(), 1u);
}

// Actors seen on the same mail (a script, its user, its sender) are one incident.
TEST(ContainmentTest, HoldsOfOneBurstShareAnIncident) {
  TempDir d;
  Containment c = lists_only(d.path, nullptr);
  c.start();
  ASSERT_TRUE(c.hold(trip(detect::ActorType::Script, "/home/u1/public_html", "u1"), 100));
  detect::Trip user = trip(detect::ActorType::LocalUser, "u1");
  ASSERT_TRUE(c.hold(user, 100));
  detect::Trip sender = trip(detect::ActorType::Sender, "x@u1.example");
  sender.companions = {{detect::ActorType::LocalUser, "u1"}};
  ASSERT_TRUE(c.hold(sender, 101));
  ASSERT_TRUE(c.hold(trip(detect::ActorType::AuthAccount, "other@b.example"), 102));
  std::vector<store::HoldRecord> holds = c.start();  // a restart reports what it holds
  ASSERT_EQ(holds.size(), 4u);
  std::map<std::string, std::string> incident;
  for (const auto& h : holds) incident[detect::format_actor_ref(h.actor)] = h.incident;
  EXPECT_EQ(incident["local_user:u1"], "script:/home/u1/public_html");
  EXPECT_EQ(incident["sender:x@u1.example"], "script:/home/u1/public_html");
  EXPECT_EQ(incident["auth_account:other@b.example"], "auth_account:other@b.example");
}

// A message Exim is delivering is locked, one delivered meanwhile is gone: neither is a failure
// to warn about (Exim's own words, from its source: queue.c and spool_in.c).
TEST(ContainmentTest, AFreezePassTellsLockedAndDeliveredMailFromFailures) {
  std::vector<queue::ActionOutcome> outcomes = {
      {"1xV9ru-0003YK-2v", true, "Message 1xV9ru-0003YK-2v is now frozen"},
      {"1xV9ru-0003YL-2w", false, "Message 1xV9ru-0003YL-2w is locked"},
      {"1xV9ru-0003YM-2x", false,
       "Spool file for 1xV9ru-0003YM-2x is locked (another process is handling this message)"},
      {"1xV9ru-0003YN-2y", false, "Spool data file for 1xV9ru-0003YN-2y does not exist"}};
  FreezeTally t = tally_freeze(outcomes);
  EXPECT_EQ(t.frozen, 1u);
  EXPECT_EQ(t.locked, 2u);
  EXPECT_EQ(t.gone, 1u);
  EXPECT_EQ(t.failed, 0u) << "nothing was really left unfrozen";
  std::string line = describe_freeze(t, "local_user:u1");
  EXPECT_EQ(line.find("froze 1 queued messages of local_user:u1"), 0u) << line;
  EXPECT_NE(line.find("2 were being delivered (locked by their delivery)"), std::string::npos) << line;
  EXPECT_NE(line.find("1 had left the queue"), std::string::npos) << line;
  EXPECT_EQ(line.find("could not"), std::string::npos) << line;

  outcomes.push_back({"1xV9ru-0003YO-2z", false, "exim: permission denied"});
  t = tally_freeze(outcomes);
  EXPECT_EQ(t.failed, 1u);
  EXPECT_EQ(describe_freeze_failure(t, "local_user:u1"),
            "could not freeze 1 queued messages of local_user:u1: exim: permission denied");
}

// An Exim that freezes nothing (the spool is empty anyway) and counts its calls.
struct CountingExim : queue::EximRunner {
  std::atomic<int> calls{0};
  queue::EximCommandResult run(const std::vector<std::string>&) override {
    ++calls;
    return {0, ""};
  }
};

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(ContainmentTest, FreezeWorkerSleepsUntilTheSecondPassIsDue) {
  TempDir d;
  std::filesystem::create_directories(d.path + "/spool/input");
  CountingExim exim;
  Containment c(
      {.state_dir = d.path + "/state", .spool_dir = d.path + "/spool", .freeze_queued = true, .disable_scripts = false},
      nullptr, &exim, nullptr, [](const std::string&) {});
  c.start();
  ASSERT_TRUE(c.hold(trip(detect::ActorType::LocalUser, "u1"), std::time(nullptr)));
  // The first pass runs at once; the second is due 3 s later. Waiting for it must not spin.
  double cpu = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_LT(process_cpu_seconds() - cpu, 0.5) << "the freeze worker spins while the second pass is pending";
}

// `spamwarden release` soon after a hold: the pending second pass must not freeze the released
// actor's mail again (nor disable its scripts again).
TEST(ContainmentTest, ReleaseBeforeTheSecondPassCancelsIt) {
  TempDir d;
  std::filesystem::create_directories(d.path + "/spool/input");
  std::string error;
  auto store = open_store(d.path);
  ASSERT_TRUE(store);
  CountingExim exim;
  std::vector<std::string> log;
  std::mutex log_mutex;
  Containment c({.state_dir = d.path, .spool_dir = d.path + "/spool", .freeze_queued = true, .disable_scripts = false},
                store.get(), &exim, nullptr, [&](const std::string& line) {
                  std::lock_guard lock(log_mutex);
                  log.push_back(line);
                });
  c.start();
  ASSERT_TRUE(c.hold(trip(detect::ActorType::LocalUser, "u3"), std::time(nullptr)));
  c.flush();
  ASSERT_TRUE(store->release(detect::ActorRef{detect::ActorType::LocalUser, "u3"}, std::time(nullptr), "test", &error))
      << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));  // past the second pass
  std::lock_guard lock(log_mutex);
  size_t skipped = 0;
  for (const std::string& line : log) skipped += line.find("freeze pass for local_user:u3 skipped: released") == 0;
  // The second pass, due 3 s after the hold, found it released (and so would the first, had
  // the worker not reached it before the release).
  EXPECT_GE(skipped, 1u);
}

}  // namespace
}  // namespace sw::contain
