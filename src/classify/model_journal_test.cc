// A fleet's content model: the journal entries' format, and scanners sharing a real
// redis-server (testing/redislab): what one learns every one scores with, a new server starts
// from the snapshot, one that fell behind the journal's trim loads it again, and Redis out of
// reach stops learning, never scanning.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "base/temp_dir.h"
#include "classify/journal_entry.h"
#include "classify/model_journal.h"
#include "classify/scanner.h"
#include "redislab.h"

namespace sw::classify {
namespace {

using sw::testing::RedisLab;

std::string testdata(const std::string& name) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/classify/testdata/" + name, std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

const char* const kSpam[] = {"attachment_spam.eml", "big5_images_spam.eml"};
const char* const kHam[] = {"plain_ham.eml", "html_only_ham.eml", "latin1_ham.eml"};
// Another message than `name` (a word added to its subject): a message is learned once, so a
// count or a journal that grows needs new ones.
std::string variant(const std::string& name, std::string_view word) {
  std::string m = testdata(name);
  return m.replace(m.find("\nSubject: ") + 10, 0, std::string(word) + " ");
}
std::string another_ham() { return variant("plain_ham.eml", "minutes"); }

TEST(JournalEntry, EncodesAndDecodesAndRefusesWhatIsNotOne) {
  JournalEntry e{true, true, {1, 7, 0xffffffffffffffffull}};
  std::string bytes = encode_entry(e);
  EXPECT_EQ(bytes.size(), 4u + 1 + 4 + 3 * 8);
  JournalEntry back;
  std::string error;
  ASSERT_TRUE(decode_entry(bytes, &back, &error)) << error;
  EXPECT_TRUE(back.spam);
  EXPECT_TRUE(back.forget);
  EXPECT_EQ(back.hashes, e.hashes);
  auto refused = [&](std::string b) { return !decode_entry(b, &back, &error) && !error.empty(); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("swj2" + bytes.substr(4)));
  EXPECT_TRUE(refused(bytes.substr(0, bytes.size() - 1)));
  EXPECT_TRUE(refused(bytes + "x"));
  std::string flags = bytes;
  flags[4] = 4;
  EXPECT_TRUE(refused(flags));
  EXPECT_TRUE(refused(encode_entry({false, false, {7, 1}})));      // out of order
  EXPECT_TRUE(refused(encode_entry({false, false, {7, 7}})));      // repeated
  EXPECT_TRUE(refused(std::string("swj1\0\xff\xff\xff\x7f", 9)));  // a count past the cap
}

TEST(StreamId, ParsesAndOrders) {
  EXPECT_EQ(StreamId::parse("1780000000000-3"), (StreamId{1780000000000, 3}));
  EXPECT_FALSE(StreamId::parse("17800-"));
  EXPECT_FALSE(StreamId::parse("-3"));
  EXPECT_FALSE(StreamId::parse("12"));
  EXPECT_FALSE(StreamId::parse("1-2-3"));
  EXPECT_LT((StreamId{5, 9}), (StreamId{6, 0}));
  EXPECT_LT((StreamId{5, 9}), (StreamId{5, 10}));
  EXPECT_EQ((StreamId{5, 9}).text(), "5-9");
}

#define SKIP_WITHOUT_REDIS()                             \
  do {                                                   \
    std::string why;                                     \
    if (!RedisLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

std::unique_ptr<Scanner> fleet_scanner(const RedisLab& redis, const std::string& dir, uint64_t snapshot_every = 1000) {
  FleetOptions fleet;
  fleet.redis = redis.address();
  fleet.key_prefix = "swtest:";
  fleet.snapshot_every = snapshot_every;
  std::string error;
  auto s = Scanner::open_fleet(dir, {}, fleet, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

void expect_same_scores(Scanner& a, Scanner& b) {
  for (const char* name : {"attachment_spam.eml", "plain_ham.eml", "latin1_ham.eml"})
    EXPECT_DOUBLE_EQ(a.scan(testdata(name)).score, b.scan(testdata(name)).score) << name;
  EXPECT_EQ(a.spam_learned(), b.spam_learned());
  EXPECT_EQ(a.ham_learned(), b.ham_learned());
}

TEST(FleetModelOnRealRedis, WhatOneServerLearnsEveryServerScoresWith) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->sync_error(), "");
  double untrained = b->scan(testdata("attachment_spam.eml")).score;
  std::string error;
  for (const char* m : kSpam) ASSERT_EQ(a->learn(testdata(m), true, &error), Taught::Learned) << error;
  for (const char* m : kHam) ASSERT_EQ(a->learn(testdata(m), false, &error), Taught::Learned) << error;
  EXPECT_EQ(a->spam_learned(), 2u);  // applied at once where it was learned
  EXPECT_EQ(b->spam_learned(), 0u);  // the other server, at its next sync
  ASSERT_TRUE(b->sync(&error)) << error;
  expect_same_scores(*a, *b);
  EXPECT_GT(b->scan(testdata("attachment_spam.eml")).score, untrained);
  EXPECT_EQ(a->fleet_position(), b->fleet_position());
  // Forgetting goes the same way, from the other server.
  ASSERT_EQ(b->forget(testdata("plain_ham.eml"), &error), Taught::Forgotten) << error;
  ASSERT_TRUE(a->sync(&error)) << error;
  EXPECT_EQ(a->ham_learned(), 2u);
  expect_same_scores(*a, *b);
  EXPECT_EQ(redis.command("XLEN swtest:content:journal"), ":6\r\n");
}

TEST(FleetModelOnRealRedis, ANewServerStartsFromTheSnapshotAndTheJournalIsTrimmed) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir, c_dir;
  auto a = fleet_scanner(redis, a_dir.path, 2), b = fleet_scanner(redis, b_dir.path, 2);
  std::string error;
  for (const char* m : kSpam) ASSERT_EQ(a->learn(testdata(m), true, &error), Taught::Learned) << error;
  for (const char* m : kHam) ASSERT_EQ(a->learn(testdata(m), false, &error), Taught::Learned) << error;
  ASSERT_TRUE(a->save(&error)) << error;  // 5 entries >= 2 x 2: a snapshot at the fifth
  EXPECT_NE(redis.command("HGET swtest:content:snapshot position"), "$-1\r\n");
  ASSERT_EQ(a->learn(variant("big5_images_spam.eml", "again"), true, &error), Taught::Learned)
      << error;  // after the snapshot
  auto c = fleet_scanner(redis, c_dir.path, 2);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->sync_error(), "");
  EXPECT_EQ(c->fleet_position(), a->fleet_position());
  expect_same_scores(*a, *c);  // the snapshot (refitted) and the entry after it

  // Two more snapshots trim the journal past b, which never synced: b loads the snapshot.
  for (int round = 0; round < 2; ++round) {
    for (const char* m : kHam)
      ASSERT_EQ(a->learn(variant(m, round ? "second" : "first"), false, &error), Taught::Learned) << error;
    ASSERT_TRUE(a->save(&error)) << error;
  }
  EXPECT_EQ(b->fleet_position(), "0-0");
  EXPECT_NE(redis.command("HGET swtest:content:snapshot trimmed"), "$3\r\n0-0\r\n");
  ASSERT_TRUE(b->sync(&error)) << error;
  EXPECT_EQ(b->fleet_position(), a->fleet_position());
  expect_same_scores(*a, *b);
  EXPECT_LT(std::stoi(redis.command("XLEN swtest:content:journal").substr(1)), 12);  // 12 learned in all
}

TEST(FleetModelOnRealRedis, RedisOutOfReachStopsLearningNeverScanning) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir dir;
  auto a = fleet_scanner(redis, dir.path);
  std::string error;
  for (const char* m : kSpam) ASSERT_EQ(a->learn(testdata(m), true, &error), Taught::Learned) << error;
  for (const char* m : kHam) ASSERT_EQ(a->learn(testdata(m), false, &error), Taught::Learned) << error;
  ASSERT_TRUE(a->save(&error)) << error;  // the local copy, with its position
  double score = a->scan(testdata("attachment_spam.eml")).score;
  std::string position = a->fleet_position();
  redis.kill();
  EXPECT_EQ(a->learn(another_ham(), false, &error), Taught::Failed);
  EXPECT_NE(error.find("Redis"), std::string::npos) << error;
  EXPECT_EQ(a->ham_learned(), 3u);
  EXPECT_DOUBLE_EQ(a->scan(testdata("attachment_spam.eml")).score, score);
  EXPECT_FALSE(a->sync(&error));
  // A server started now scans with its local copy and says why it could not sync.
  auto restarted = fleet_scanner(redis, dir.path);
  ASSERT_TRUE(restarted);
  EXPECT_NE(restarted->sync_error(), "");
  EXPECT_EQ(restarted->fleet_position(), position);
  EXPECT_DOUBLE_EQ(restarted->scan(testdata("attachment_spam.eml")).score, score);
  // Redis back, empty (no persistence here): nothing to catch up with, nothing lost locally;
  // the connection is tried again after a backoff of at most a second.
  redis.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!restarted->sync(&error) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(restarted->sync(&error)) << error;
  EXPECT_EQ(restarted->spam_learned(), 2u);
  EXPECT_EQ(restarted->learn(another_ham(), false, &error), Taught::Learned) << error;
}

// Redis restarted empty, or the snapshot evicted or removed: the next server to sync stores its
// copy as the snapshot, so a server that starts afterwards gets the fleet's model, not an empty one.
TEST(FleetModelOnRealRedis, ARedisThatLostItsDataGetsTheFleetsModelBack) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, c_dir, d_dir;
  auto a = fleet_scanner(redis, a_dir.path);
  std::string error;
  for (const char* m : kSpam) ASSERT_EQ(a->learn(testdata(m), true, &error), Taught::Learned) << error;
  for (const char* m : kHam) ASSERT_EQ(a->learn(testdata(m), false, &error), Taught::Learned) << error;
  ASSERT_TRUE(a->sync(&error)) << error;  // a fleet with no snapshot yet: a stores its copy
  EXPECT_EQ(a->snapshots_stored(), 1u);
  redis.kill();
  redis.start();  // no persistence here: empty
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!a->sync(&error) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a->snapshots_stored(), 2u) << error;
  ASSERT_EQ(a->learn(another_ham(), false, &error), Taught::Learned) << error;  // after the reset
  auto c = fleet_scanner(redis, c_dir.path);
  EXPECT_EQ(c->spam_learned(), 2u);
  EXPECT_EQ(c->ham_learned(), 4u);
  expect_same_scores(*a, *c);
  // The snapshot removed (an eviction, say): stored again at the next sync.
  redis.command("DEL swtest:content:snapshot");
  ASSERT_TRUE(a->sync(&error)) << error;
  EXPECT_EQ(a->snapshots_stored(), 3u);
  auto d = fleet_scanner(redis, d_dir.path);
  EXPECT_EQ(d->ham_learned(), 4u);
  // A damaged hash (a position or trim that is not an id) stops no one's sync.
  redis.command("HSET swtest:content:snapshot trimmed junk");
  EXPECT_TRUE(c->sync(&error)) << error;
}

// A TELL that timed out while Redis hung may be applied when it resumes, and the retry appends
// the same entry again; two servers may append one message at the same moment. Every server
// applies the journal by the same rules, in the same order: the message counts once everywhere.
TEST(FleetModelOnRealRedis, AMessageInTheJournalTwiceCountsOnce) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  std::string error, spam = testdata("attachment_spam.eml");
  ASSERT_EQ(a->learn(spam, true, &error), Taught::Learned) << error;
  ModelJournal journal(ModelJournalOptions{redis.address(), "swtest:"});
  auto batch = journal.read_after(StreamId{}, 10);
  ASSERT_TRUE(batch && batch->entries.size() == 1u);
  ASSERT_TRUE(journal.append(batch->entries[0].second));  // the retry Redis applied too
  ASSERT_TRUE(a->sync(&error)) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  EXPECT_EQ(a->spam_learned(), 1u);
  EXPECT_EQ(b->spam_learned(), 1u);
  expect_same_scores(*a, *b);
  // Known already: nothing appended.
  EXPECT_EQ(b->learn(spam, true, &error), Taught::AlreadyLearned) << error;
  EXPECT_EQ(redis.command("XLEN swtest:content:journal"), ":2\r\n");
  // Moved to ham on one server, forgotten on the other with no class named, as spamc -L forget.
  EXPECT_EQ(b->learn(spam, false, &error), Taught::Relearned) << error;
  ASSERT_TRUE(a->sync(&error)) << error;
  EXPECT_EQ(a->spam_learned(), 0u);
  EXPECT_EQ(a->ham_learned(), 1u);
  EXPECT_EQ(a->forget(spam, &error), Taught::Forgotten) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  EXPECT_EQ(b->ham_learned(), 0u);
  EXPECT_EQ(b->forget(spam, &error), Taught::NotLearned) << error;
  expect_same_scores(*a, *b);
}

// A snapshot that does not load (damaged in Redis) would leave a server with no copy of its own
// with an empty model once the journal is trimmed: it marks the snapshot, the next server with a
// copy stores that copy in its place, and the first catches up.
TEST(FleetModelOnRealRedis, ADamagedSnapshotIsReplacedByAServersCopy) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, c_dir;
  auto a = fleet_scanner(redis, a_dir.path, 2);
  std::string error;
  for (const char* m : kSpam) ASSERT_EQ(a->learn(testdata(m), true, &error), Taught::Learned) << error;
  for (int round = 0; round < 2; ++round) {  // two snapshots: the journal is trimmed
    for (const char* m : kHam)
      ASSERT_EQ(a->learn(variant(m, round ? "second" : "first"), false, &error), Taught::Learned) << error;
    ASSERT_TRUE(a->save(&error)) << error;
  }
  ASSERT_NE(redis.command("HGET swtest:content:snapshot trimmed"), "$3\r\n0-0\r\n");
  redis.command("HSET swtest:content:snapshot model damaged");
  auto c = fleet_scanner(redis, c_dir.path, 2);
  ASSERT_TRUE(c);
  EXPECT_NE(c->sync_error().find("marked"), std::string::npos) << c->sync_error();
  EXPECT_EQ(c->spam_learned(), 0u);
  EXPECT_NE(redis.command("HEXISTS swtest:content:snapshot damaged"), ":0\r\n");
  uint64_t stored = a->snapshots_stored();
  ASSERT_TRUE(a->sync(&error)) << error;  // sees no usable snapshot: stores its copy
  EXPECT_EQ(a->snapshots_stored(), stored + 1);
  EXPECT_EQ(redis.command("HEXISTS swtest:content:snapshot damaged"), ":0\r\n");
  ASSERT_TRUE(c->sync(&error)) << error;
  EXPECT_EQ(c->spam_learned(), 2u);
  EXPECT_EQ(c->ham_learned(), 6u);
  ASSERT_TRUE(c->sync(&error)) << error;  // settled: refits where a did
  expect_same_scores(*a, *c);
}

// A copy that cannot catch up does not know whether another server moved or forgot a message
// since: its "already learned" or "never learned" would drop the TELL (spamc exits 0, a junk
// folder script moves on). Out of reach, such a TELL fails as any other; reachable again, the
// journal decides.
TEST(FleetModelOnRealRedis, ACopyThatCannotCatchUpNeverAnswersAlreadyLearned) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  std::string error, spam = testdata("attachment_spam.eml"), ham = testdata("plain_ham.eml");
  ASSERT_EQ(a->learn(spam, true, &error), Taught::Learned) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  ASSERT_EQ(b->forget(spam, &error), Taught::Forgotten) << error;  // a has not seen it yet
  ASSERT_TRUE(a->save(&error)) << error;
  redis.kill();
  EXPECT_EQ(a->learn(spam, true, &error), Taught::Failed);
  EXPECT_EQ(a->forget(ham, &error), Taught::Failed);
  EXPECT_EQ(a->spam_learned(), 1u);  // this copy, as it was
}

// Two servers taught one message at the same moment (two clients, or a retry sent to another
// server) may both append it: the second entry changes nothing, and only the server whose
// entry counted says it learned the message (spamc: "already learned" from the other).
TEST(FleetModelOnRealRedis, TwoServersTaughtOneMessageAtOnceOneSaysLearned) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  constexpr int kMessages = 60;
  std::vector<std::string> messages;
  for (int i = 0; i < kMessages; ++i) messages.push_back(variant(kSpam[i % 2], "race" + std::to_string(i)));
  std::vector<Taught> by_a(kMessages), by_b(kMessages);
  std::atomic<int> ready{0};
  auto teach = [&](Scanner& s, std::vector<Taught>& out, bool spam) {
    for (int i = 0; i < kMessages; ++i) {
      ++ready;  // both start each message together
      while (ready.load() < 2 * (i + 1)) std::this_thread::yield();
      std::string error;
      out[i] = s.learn(messages[i], i % 3 == 0 ? spam : true, &error);
    }
  };
  std::thread ta([&] { teach(*a, by_a, true); }), tb([&] { teach(*b, by_b, false); });
  ta.join();
  tb.join();
  std::string error;
  ASSERT_TRUE(a->sync(&error)) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  for (int i = 0; i < kMessages; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NE(by_a[i], Taught::Failed);
    ASSERT_NE(by_b[i], Taught::Failed);
    if (i % 3 == 0) {  // spam on a, ham on b: one learned it, the other moved it (or both in turn)
      EXPECT_TRUE(changed(by_a[i]) || changed(by_b[i]));
      EXPECT_FALSE(by_a[i] == Taught::Learned && by_b[i] == Taught::Learned);
    } else {  // the same class on both: exactly one counted it
      EXPECT_EQ(int(by_a[i] == Taught::Learned) + int(by_b[i] == Taught::Learned), 1)
          << taught_name(by_a[i]) << " / " << taught_name(by_b[i]);
      EXPECT_EQ(int(by_a[i] == Taught::AlreadyLearned) + int(by_b[i] == Taught::AlreadyLearned), 1);
    }
  }
  EXPECT_EQ(a->spam_learned() + a->ham_learned(), size_t(kMessages));
  EXPECT_EQ(a->spam_learned(), b->spam_learned());
  EXPECT_EQ(a->ham_learned(), b->ham_learned());
  // The scores agree once both refit where the journal stands (each sync refits only where it
  // finds the journal settled, which depends on when it ran).
  a->refit();
  b->refit();
  expect_same_scores(*a, *b);
}

// A fleet upgraded from version 3, whose servers' copies stand at different positions (one
// saved a minute before its restart, one at exit): a copy that remembers no messages is not
// used, and every server starts from the same snapshot and replays the same journal, so all
// remember the same messages and a message taught again counts alike everywhere.
TEST(FleetModelOnRealRedis, CopiesFromBeforeTheRegistryAreNotUsed) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  std::string error, first = testdata("attachment_spam.eml"), second = testdata("big5_images_spam.eml");
  std::string copy_file = a_dir.path + "/" + Scanner::kFleetFileName;
  // The copy's position, and its model as version 3 wrote it: no registry (its count and `n`
  // entries cut), version 3, the checksum again.
  auto old_copy = [&](size_t n) {
    std::ifstream in(copy_file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t nl = data.find('\n');
    std::string body = data.substr(nl + 1, data.size() - (nl + 1) - 8 - 8 - 9 * n);
    uint32_t version = 3;
    std::memcpy(body.data() + 8, &version, 4);
    uint64_t checksum = 1469598103934665603ull;
    for (unsigned char c : body) checksum = (checksum ^ c) * 1099511628211ull;
    body.append(reinterpret_cast<const char*>(&checksum), 8);
    return std::pair(data.substr(9, nl - 9), body);
  };
  std::pair<std::string, std::string> at_first, at_second;
  {
    auto a = fleet_scanner(redis, a_dir.path);
    ASSERT_EQ(a->learn(first, true, &error), Taught::Learned) << error;
    ASSERT_TRUE(a->save(&error)) << error;
    at_first = old_copy(1);
    ASSERT_EQ(a->learn(second, true, &error), Taught::Learned) << error;
    ASSERT_TRUE(a->save(&error)) << error;
    at_second = old_copy(2);
  }
  auto write_copy = [](const std::string& dir, const std::pair<std::string, std::string>& copy) {
    std::ofstream(dir + "/" + Scanner::kFleetFileName, std::ios::binary | std::ios::trunc)
        << "swfleet1 " << copy.first << "\n"
        << copy.second;
  };
  write_copy(a_dir.path, at_first);  // behind the journal by one entry
  write_copy(b_dir.path, at_second);
  ModelJournal journal(ModelJournalOptions{redis.address(), "swtest:"});
  ASSERT_TRUE(journal.store_snapshot(*StreamId::parse(at_first.first), at_first.second)) << journal.error();
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  EXPECT_NE(b->sync_error().find("before the model remembered its messages"), std::string::npos) << b->sync_error();
  EXPECT_EQ(a->spam_learned(), 2u);
  EXPECT_EQ(b->spam_learned(), 2u);
  EXPECT_EQ(b->learn(second, true, &error), Taught::AlreadyLearned) << error;
  EXPECT_EQ(a->learn(second, true, &error), Taught::AlreadyLearned) << error;
  ASSERT_TRUE(a->sync(&error)) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  expect_same_scores(*a, *b);
}

TEST(FleetModelOnRealRedis, AnEntryThatIsNotOneIsSkippedAndCounted) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  TempDir a_dir, b_dir;
  auto a = fleet_scanner(redis, a_dir.path), b = fleet_scanner(redis, b_dir.path);
  std::string error;
  ASSERT_EQ(a->learn(testdata("attachment_spam.eml"), true, &error), Taught::Learned) << error;
  redis.command("XADD swtest:content:journal * e garbage");
  redis.command("XADD swtest:content:journal * other field");
  ASSERT_EQ(a->learn(testdata("plain_ham.eml"), false, &error), Taught::Learned) << error;
  ASSERT_TRUE(b->sync(&error)) << error;
  EXPECT_EQ(b->skipped_entries(), 2u);
  EXPECT_EQ(b->spam_learned(), 1u);
  EXPECT_EQ(b->ham_learned(), 1u);
  expect_same_scores(*a, *b);
}

}  // namespace
}  // namespace sw::classify
