// The Redis counter store against a real redis-server (testing/redislab).
#include "policy/redis_counter_store.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "redislab.h"

namespace sw::policy {
namespace {

using sw::testing::RedisLab;
using Clock = std::chrono::steady_clock;

constexpr int64_t kT0 = 1'780'000'000'000;  // a fixed wall-clock origin (ms), so windows are exact
constexpr int64_t kHour = 3'600'000;

#define SKIP_WITHOUT_REDIS()                             \
  do {                                                   \
    std::string why;                                     \
    if (!RedisLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

RedisCounterOptions options_for(const RedisLab& redis) {
  RedisCounterOptions o;
  o.address = redis.address();
  o.key_prefix = "swtest:";
  // The counting tests wait as long as a loaded runner (a sanitizer build beside others) needs;
  // the 50 ms default is the frozen-server test's own subject.
  o.command_timeout_ms = 2000;
  return o;
}

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

TEST(RedisCounterStore, TwoInstancesSharingOneRedisEnforceOneLimitJointly) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterStore a(options_for(redis)), b(options_for(redis));
  const uint64_t limit = 10;
  int accepted = 0;
  for (int i = 0; i < 30; ++i) {
    RedisCounterStore& store = i % 2 ? b : a;  // the burst alternates between two servers
    int64_t now = kT0 + i * 1000;
    auto sum = store.sum("auth:sales@acme.example", now, kHour);
    ASSERT_TRUE(sum.has_value()) << store.last_error();
    if (*sum >= limit) continue;
    ASSERT_EQ(store.add("auth:sales@acme.example", 1, now, kHour), *sum + 1);
    ++accepted;
  }
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(a.sum("auth:sales@acme.example", kT0 + 30'000, kHour), 10u);
  EXPECT_EQ(b.sum("auth:sales@acme.example", kT0 + 30'000, kHour), 10u);
  EXPECT_EQ(a.sum("auth:other@acme.example", kT0 + 30'000, kHour), 0u);
}

// A store's first call connects, loads the script and counts: it is not lost to the setup.
TEST(RedisCounterStore, TheFirstCallOfAFreshStoreCounts) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  for (uint64_t i = 1; i <= 40; ++i) {
    RedisCounterStore fresh(options_for(redis));
    auto total = fresh.add("auth:first@acme.example", 1, kT0, kHour);
    ASSERT_TRUE(total.has_value()) << "call " << i << ": " << fresh.last_error();
    EXPECT_EQ(*total, i);
  }
}

TEST(RedisCounterStore, WindowSlidesToTheMillisecond) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterStore store(options_for(redis));
  const int64_t window = 60'000;
  EXPECT_EQ(store.add("ip:198.18.0.1", 3, kT0, window), 3u);
  EXPECT_EQ(store.add("ip:198.18.0.1", 2, kT0 + 30'000, window), 5u);
  EXPECT_EQ(store.sum("ip:198.18.0.1", kT0 + window - 1, window), 5u);  // (now - window, now] holds kT0
  EXPECT_EQ(store.sum("ip:198.18.0.1", kT0 + window, window), 2u);      // kT0 has left the window
  EXPECT_EQ(store.add("ip:198.18.0.1", 1, kT0 + 90'000, window), 1u);   // only the new one
  // The same key asked with a longer window still sees everything.
  EXPECT_EQ(store.sum("ip:198.18.0.1", kT0 + 90'000, kHour), 6u);
}

TEST(RedisCounterStore, AnAddFromAServerWithAClockBehindStillCounts) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterStore store(options_for(redis));
  EXPECT_EQ(store.add("k", 1, kT0 + 5000, kHour), 1u);
  EXPECT_EQ(store.add("k", 1, kT0, kHour), 2u);  // 5 s behind
  EXPECT_EQ(store.sum("k", kT0 + 6000, kHour), 2u);
}

TEST(RedisCounterStore, EntriesOlderThanTheRetentionArePruned) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterOptions o = options_for(redis);
  o.retention_ms = 10'000;
  RedisCounterStore store(o);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store.add("busy", 1, kT0 + i * 100, 10'000));
  // 100 s of adds, 10 adds per second, 10 s kept: about 100 entries (+ the edge), not 1000.
  std::string card = redis.command("ZCARD swtest:busy");
  ASSERT_TRUE(card.starts_with(":")) << card;
  EXPECT_LE(std::stoi(card.substr(1)), 102);
  EXPECT_EQ(store.sum("busy", kT0 + 999 * 100, 10'000), 100u);
  std::string ttl = redis.command("PTTL swtest:busy");
  EXPECT_GT(std::stoi(ttl.substr(1)), 0) << ttl;  // the key goes away when the actor goes quiet
}

TEST(RedisCounterStore, KilledRedisFailsFastAndRecoversWhenRestarted) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterOptions o = options_for(redis);
  RedisCounterStore store(o);
  ASSERT_EQ(store.add("k", 1, kT0, kHour), 1u);
  redis.kill();  // SIGKILL by PID
  auto start = Clock::now();
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(store.add("k", 1, kT0 + 1, kHour).has_value());
  EXPECT_LT(elapsed_ms(start), o.command_timeout_ms + 100) << "200 calls while Redis is down";
  EXPECT_FALSE(store.reachable());
  EXPECT_FALSE(store.last_error().empty());

  redis.start();  // same port, empty (no persistence)
  std::optional<uint64_t> got;
  auto restarted = Clock::now();
  while (!got && elapsed_ms(restarted) < 10'000) {
    got = store.add("k", 1, kT0 + 2, kHour);
    if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(got.has_value()) << store.last_error();
  EXPECT_EQ(*got, 1u);
  EXPECT_LT(elapsed_ms(restarted), o.backoff_max_ms + 500);
  EXPECT_TRUE(store.reachable());
}

TEST(RedisCounterStore, AFrozenRedisCostsACallNoMoreThanTheCommandTimeout) {
  SKIP_WITHOUT_REDIS();
  RedisLab redis;
  RedisCounterOptions o = options_for(redis);
  o.command_timeout_ms = RedisCounterOptions{}.command_timeout_ms;
  RedisCounterStore store(o);
  ASSERT_TRUE(store.add("k", 1, kT0, kHour));
  ASSERT_EQ(::kill(redis.pid(), SIGSTOP), 0);  // accepts nothing, answers nothing
  auto start = Clock::now();
  EXPECT_FALSE(store.add("k", 1, kT0 + 1, kHour).has_value());
  int64_t first = elapsed_ms(start);
  EXPECT_GE(first, o.command_timeout_ms - 5);
  EXPECT_LT(first, o.command_timeout_ms + 100);
  start = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(store.add("k", 1, kT0 + 1, kHour).has_value());
  EXPECT_LT(elapsed_ms(start), 50) << "calls during the backoff must not wait";
  ASSERT_EQ(::kill(redis.pid(), SIGCONT), 0);
  std::optional<uint64_t> got;
  for (int i = 0; i < 500 && !got; ++i) {
    got = store.sum("k", kT0 + 2, kHour);
    if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The add that timed out sat in the frozen server's socket: it may have run after SIGCONT. The
  // caller counted that message locally meanwhile, so 1 or 2 are both right; the data is there.
  ASSERT_TRUE(got.has_value()) << store.last_error();
  EXPECT_GE(*got, 1u);
  EXPECT_LE(*got, 2u);
}

TEST(RedisCounterStore, NothingListeningFailsWithoutWaiting) {
  RedisCounterOptions o;
  o.address = "127.0.0.1:1";
  RedisCounterStore store(o);
  auto start = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(store.add("k", 1, kT0, kHour).has_value());
  EXPECT_LT(elapsed_ms(start), 50);
  EXPECT_NE(store.last_error().find("connect"), std::string::npos) << store.last_error();
}

TEST(RedisCounterStore, AddressesAreNumericOrAUnixSocket) {
  EXPECT_EQ(redis_address_error("127.0.0.1:6379"), "");
  EXPECT_EQ(redis_address_error("[::1]:6379"), "");
  EXPECT_EQ(redis_address_error("/run/redis/redis.sock"), "");
  EXPECT_NE(redis_address_error("redis.example:6379"), "");  // a DNS lookup would block the mail path
  EXPECT_NE(redis_address_error("127.0.0.1"), "");
  EXPECT_NE(redis_address_error("127.0.0.1:70000"), "");
  EXPECT_NE(redis_address_error(""), "");
}

}  // namespace
}  // namespace sw::policy
