#include "policy/engine.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/temp_dir.h"
#include "proto/exim_request.h"

namespace sw::policy {
namespace {

using proto::Action;
using proto::Decision;
using proto::Request;

Request parse(const std::string& line) {
  Request r;
  std::string error;
  EXPECT_TRUE(proto::parse_exim_request(line, &r, &error)) << error;
  return r;
}

struct Fixture {
  explicit Fixture(ServePolicy c = default_serve_policy())
      : engine(
            std::move(c), &store, &store,
            [this](const detect::ActorRef& a, const std::string&) { holds.push_back(detect::format_actor_ref(a)); },
            [this](const std::string& line) { log.push_back(line); }) {}
  Decision ask(const std::string& line, int64_t now_ms = 1'000'000'000) {
    Decision d;
    engine.decide(parse(line), now_ms, &d);
    return d;
  }
  EmbeddedCounterStore store;
  std::vector<std::string> holds, log;
  Engine engine;
};

ServePolicy limit_auth_to(uint64_t messages) {
  ServePolicy c = default_serve_policy();
  c.limits[size_t(Actor::AuthAccount)] = {{3600, messages, 0}};
  return c;
}

TEST(Engine, AccountGetsExactlyItsLimitThenIsHeld) {
  Fixture f(limit_auth_to(10));
  int passed = 0;
  for (int i = 0; i < 30; ++i) {
    Decision mail = f.ask("v1 stage=mail ip=192.0.2.5 auth=Sales@Shop.example sender=sales@shop.example", 1e9 + i);
    if (mail.action != Action::Dunno) continue;
    Decision d = f.ask("v1 stage=data ip=192.0.2.5 auth=Sales@Shop.example sender=sales@shop.example rcpts=1", 1e9 + i);
    if (d.action == Action::Dunno) ++passed;
    else {
      EXPECT_EQ(d.action, Action::Defer);
      EXPECT_EQ(d.check, "rate_limit");
      EXPECT_EQ(d.actor, "auth_account:sales@shop.example");
      EXPECT_EQ(d.detail, "11 messages in 3600s (limit 10)");
    }
  }
  EXPECT_EQ(passed, 10);
  EXPECT_EQ(f.holds, std::vector<std::string>{"auth_account:sales@shop.example"});
  Decision later = f.ask("v1 stage=mail ip=192.0.2.9 auth=sales@shop.example sender=x@y.example");
  EXPECT_EQ(later.action, Action::Defer);
  EXPECT_EQ(later.check, "held");
}

TEST(Engine, AccountGetsExactlyItsLimitWhenItsMessagesAreSecondsApart) {
  ServePolicy c = default_serve_policy();
  c.limits[size_t(Actor::AuthAccount)] = {{60, 1000, 0}, {3600, 10, 0}};
  Fixture f(c);
  int passed = 0;
  for (int i = 0; i < 30; ++i)  // past its second message the account's counts move to rings
    passed += f.ask("v1 stage=data ip=192.0.2.5 auth=a@b.example rcpts=1", 1e9 + i * 1500).action == Action::Dunno;
  EXPECT_EQ(passed, 10);
  EXPECT_EQ(f.store.busy_keys(), 2u);  // the account and the client IP
}

TEST(Engine, OneCounterSlotPerActorForAllItsWindows) {
  Fixture f;
  f.ask("v1 stage=data ip=192.0.2.5 auth=a@b.example sender=a@b.example rcpts=2");
  EXPECT_EQ(f.store.keys(), 4u);  // the account, the sender, its domain, the client IP
}

TEST(Engine, AReleasedActorStartsAfresh) {
  Fixture f(limit_auth_to(2));
  auto data = [&] { return f.ask("v1 stage=data ip=192.0.2.5 auth=a@b.example rcpts=1").action; };
  EXPECT_EQ(data(), Action::Dunno);
  EXPECT_EQ(data(), Action::Dunno);
  EXPECT_EQ(data(), Action::Defer);
  f.engine.set_held({});  // released by `spamwarden release`
  EXPECT_EQ(data(), Action::Dunno);
  EXPECT_EQ(data(), Action::Dunno);
  EXPECT_EQ(data(), Action::Defer);
}

TEST(Engine, RecipientsAreCountedOncePerMessageNotPerRcptStage) {
  ServePolicy c = default_serve_policy();
  c.limits[size_t(Actor::AuthAccount)] = {{3600, 0, 10}};
  Fixture f(c);
  for (int i = 0; i < 20; ++i)  // RCPT retries do not count
    EXPECT_EQ(f.ask("v1 stage=rcpt ip=192.0.2.5 auth=a@b.example rcpt=x@y.example").action, Action::Dunno);
  EXPECT_EQ(f.ask("v1 stage=data ip=192.0.2.5 auth=a@b.example rcpts=6").action, Action::Dunno);
  Decision d = f.ask("v1 stage=data ip=192.0.2.5 auth=a@b.example rcpts=6");
  EXPECT_EQ(d.action, Action::Defer);
  EXPECT_EQ(d.detail, "12 recipients in 3600s (limit 10)");
}

TEST(Engine, ScriptBurstIsFrozenAtSubmission) {
  ServePolicy c = default_serve_policy();
  c.limits[size_t(Actor::Script)] = {{60, 5, 0}};
  Fixture f(c);
  std::vector<Action> actions;
  for (int i = 0; i < 8; ++i)
    actions.push_back(
        f.ask("v1 stage=not_smtp user=userx1 uid=1001 script=1001:mailer.php sender=userx1@h.example rcpts=1").action);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), Action::Dunno), 5);
  EXPECT_EQ(actions[5], Action::Freeze);
  EXPECT_EQ(actions[7], Action::Freeze);
  EXPECT_EQ(f.holds, std::vector<std::string>{"script:1001:mailer.php"});
}

TEST(Engine, NewsletterOverrideIsNotTouched) {
  ServePolicy c = limit_auth_to(10);
  c.overrides["auth_account:news@shop.example"] = {{3600, 1000, 0}};
  Fixture f(c);
  for (int i = 0; i < 200; ++i)  // 100 a minute, the rate it is configured for
    ASSERT_EQ(f.ask("v1 stage=data ip=192.0.2.5 auth=news@shop.example sender=news@shop.example rcpts=1", 1e9 + i * 600)
                  .action,
              Action::Dunno)
        << i;
  Fixture plain(limit_auth_to(10));  // without the override the same run is stopped
  int deferred = 0;
  for (int i = 0; i < 200; ++i)
    deferred +=
        plain.ask("v1 stage=data ip=192.0.2.5 auth=news@shop.example rcpts=1", 1e9 + i * 600).action == Action::Defer;
  EXPECT_EQ(deferred, 190);
}

TEST(Engine, DefaultsLeaveAShopAndInboundMailingListsAlone) {
  Fixture f;
  for (int i = 0; i < 3000; ++i)  // an inbound list: 3000 messages from one sender and IP in an hour
    ASSERT_EQ(f.ask("v1 stage=data ip=198.51.100.1 sender=list@lists.example rcpts=1", 1e9 + i * 1000).action,
              Action::Dunno);
  for (int i = 0; i < 200; ++i)  // a shop's order mails, one a minute-ish burst of 40 in a minute at most
    ASSERT_EQ(f.ask("v1 stage=not_smtp user=shop uid=1002 sender=orders@shop.example rcpts=1", 2e9 + i * 1500).action,
              Action::Dunno);
}

TEST(Engine, DictionaryAttackIsTarpittedThenDroppedButATypoIsNot) {
  ServePolicy c = default_serve_policy();
  c.dictionary_tarpit_after = 3;
  c.dictionary_drop_after = 6;
  Fixture f(c);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(f.ask("v1 stage=unknown_rcpt ip=192.0.2.44 rcpt=tpyo@x").action, Action::Dunno);
  EXPECT_EQ(f.ask("v1 stage=rcpt ip=192.0.2.44 rcpt=ok@x").action, Action::Dunno);
  std::vector<Action> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(f.ask("v1 stage=unknown_rcpt ip=127.0.0.99 rcpt=g@x").action);
  EXPECT_EQ(seen, (std::vector<Action>{Action::Dunno, Action::Dunno, Action::Delay, Action::Delay, Action::Delay,
                                       Action::Drop}));
  Decision connect = f.ask("v1 stage=connect ip=127.0.0.99");
  EXPECT_EQ(connect.action, Action::Drop);
  EXPECT_EQ(connect.check, "dictionary");
  EXPECT_EQ(f.ask("v1 stage=connect ip=127.0.0.99", 1e9 + 3601 * 1000).action, Action::Dunno);  // period over
  // Authenticated clients are never counted as attackers.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(f.ask("v1 stage=unknown_rcpt ip=192.0.2.45 auth=a@b rcpt=g@x").action, Action::Dunno);
}

TEST(Engine, TarpitHasACap) {
  ServePolicy c = default_serve_policy();
  c.dictionary_tarpit_after = 1;
  c.dictionary_drop_after = 1000;
  c.max_tarpitted = 3;
  Fixture f(c);
  int delays = 0;
  for (int i = 0; i < 10; ++i) delays += f.ask("v1 stage=unknown_rcpt ip=192.0.2.9 rcpt=g@x").action == Action::Delay;
  EXPECT_EQ(delays, 3);
  EXPECT_EQ(f.engine.counts().tarpit_cap_reached, 7u);
  EXPECT_EQ(f.ask("v1 stage=rcpt ip=192.0.2.9 rcpt=g@x", 1e9 + 6000).action, Action::Delay);  // earlier ones ended
}

TEST(Engine, HeloChecks) {
  ServePolicy c = default_serve_policy();
  c.hostnames = {"mail.host.example"};
  c.addresses = {"203.0.113.1"};
  c.local_domains = {"shop.example"};
  struct Case {
    std::string helo;
    std::string problem;
  };
  Request r;
  r.stage = proto::Stage::Mail;
  r.client_ip = "192.0.2.7";
  for (const Case& k : std::vector<Case>{{"mx.client.example", ""},
                                         {"[192.0.2.7]", ""},
                                         {"MAIL.host.example", "HELO MAIL.host.example is our host name"},
                                         {"[203.0.113.1]", "HELO [203.0.113.1] is our address"},
                                         {"[192.0.2.8]", "HELO [192.0.2.8] is not the client's address"},
                                         {"192.0.2.7", "HELO 192.0.2.7 is a bare IP address"},
                                         {"ylmf-pc", "HELO ylmf-pc has no dot"},
                                         {"shop.example", "HELO shop.example is one of our domains"}}) {
    r.helo = k.helo;
    EXPECT_EQ(helo_problem(c, r), k.problem) << k.helo;
  }
  Fixture f(c);
  Decision d = f.ask("v1 stage=mail ip=192.0.2.7 helo=ylmf-pc sender=a@b.example");
  EXPECT_EQ(d.action, Action::Reject);
  EXPECT_EQ(d.check, "helo");
  // Authenticated clients and relay hosts are not outside: a mail client's bare HELO is fine.
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.7 helo=laptop auth=a@b sender=a@b.example").action, Action::Dunno);
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.7 helo=laptop relay=1 sender=a@b.example").action, Action::Dunno);
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.7 helo=friend.example hl=1").action, Action::Reject);
}

TEST(Engine, ListsSkipOrAddChecksButNeverAccept) {
  ServePolicy c = limit_auth_to(1);
  c.allow.sender_domains = {"partner.example"};
  c.allow.ips = {*parse_cidr("10.1.0.0/16")};
  c.deny.senders = {"spam@bad.example"};
  c.deny.ips = {*parse_cidr("198.51.100.0/24")};
  Fixture f(c);
  Decision d = f.ask("v1 stage=rcpt ip=198.51.100.3 sender=a@b.example");
  EXPECT_EQ(d.action, Action::Reject);
  EXPECT_EQ(d.check, "deny_list");
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.1 sender=SPAM@bad.example").action, Action::Reject);
  // Allowed: no limit applies; the answer is still only "no objection", never an accept.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(f.ask("v1 stage=data ip=10.1.2.3 auth=x@y sender=x@y rcpts=1").action, Action::Dunno);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(f.ask("v1 stage=rcpt ip=192.0.2.1 sender=a@partner.example rcpt=victim@elsewhere.example").action,
              Action::Dunno);
  for (size_t a = 0; a < proto::kActions; ++a) EXPECT_NE(std::string(proto::action_name(Action(a))), "ok");
}

TEST(Engine, ActorsHeldByWatchAreHeld) {
  Fixture f;
  f.engine.set_held({"local_user:userx1", "client_ip:192.0.2.66", "sender:s@x.example"});
  EXPECT_EQ(f.ask("v1 stage=not_smtp user=userx1 sender=a@b rcpts=1").action, Action::Freeze);
  EXPECT_EQ(f.ask("v1 stage=connect ip=192.0.2.66").action, Action::Defer);
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.1 auth=z@x sender=S@x.example").action, Action::Defer);
  // A forged outside sender is not held by the address alone.
  EXPECT_EQ(f.ask("v1 stage=mail ip=192.0.2.1 sender=s@x.example").action, Action::Dunno);
}

class FailingStore : public CounterStore {
 public:
  std::optional<uint64_t> add(std::string_view, uint64_t, int64_t, int64_t) override { return std::nullopt; }
  std::optional<uint64_t> sum(std::string_view, int64_t, int64_t) override { return std::nullopt; }
};

TEST(Engine, UnknownRecipientsSeenByAnotherServerOfTheFleetTarpitThisOne) {
  EmbeddedCounterStore shared, local_a, local_b;  // shared stands for Redis
  ServePolicy c = default_serve_policy();
  c.dictionary_tarpit_after = 3;
  c.dictionary_drop_after = 100;
  Engine a(c, &shared, &local_a, nullptr, [](const std::string&) {});
  Engine b(c, &shared, &local_b, nullptr, [](const std::string&) {});
  Decision d;
  for (int i = 0; i < 3; ++i) a.decide(parse("v1 stage=unknown_rcpt ip=127.0.0.99 rcpt=g@x"), 1e9, &d);
  b.decide(parse("v1 stage=rcpt ip=127.0.0.99 rcpt=next@x"), 1e9, &d);  // the attacker moves to server b
  EXPECT_EQ(d.action, Action::Delay);
  EXPECT_EQ(d.check, "dictionary");
}

TEST(Engine, SharedStoreDownFallsBackToLocalCountersAndSaysSoOnce) {
  FailingStore down;
  EmbeddedCounterStore local;
  std::vector<std::string> log;
  Engine engine(limit_auth_to(2), &down, &local, nullptr, [&](const std::string& l) { log.push_back(l); });
  std::vector<Action> seen;
  for (int i = 0; i < 4; ++i) {
    Decision d;
    engine.decide(parse("v1 stage=data ip=192.0.2.5 auth=a@b.example rcpts=1"), 1e9, &d);
    seen.push_back(d.action);
  }
  EXPECT_EQ(seen, (std::vector<Action>{Action::Dunno, Action::Dunno, Action::Defer, Action::Defer}));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("counting locally"), std::string::npos);
  EXPECT_TRUE(engine.counts().using_fallback);
  EXPECT_GT(engine.counts().shared_store_failures, 0u);
}

TEST(EmbeddedCounterStore, SlidingWindowAndExpiry) {
  EmbeddedCounterStore s;
  EXPECT_EQ(*s.add("k", 1, 0, 8000), 1u);
  EXPECT_EQ(*s.add("k", 2, 3000, 8000), 3u);
  EXPECT_EQ(*s.sum("k", 7999, 8000), 3u);
  EXPECT_EQ(*s.sum("k", 8500, 8000), 2u);  // the first bucket left the window
  EXPECT_EQ(*s.sum("k", 20000, 8000), 0u);
  EXPECT_EQ(*s.sum("other", 0, 8000), 0u);
}

TEST(EmbeddedCounterStore, BoundedByEvictingTheOldest) {
  EmbeddedCounterStore s(64 << 10);
  for (int i = 0; i < 5000; ++i) s.add("k" + std::to_string(i), 1, int64_t(i) * 10, 3'600'000);
  EXPECT_LE(s.keys(), s.max_keys());
  EXPECT_GT(s.evictions(), 0u);
  EXPECT_EQ(*s.sum("k4999", 50000, 3'600'000), 1u);  // the newest stay
}

const std::vector<int64_t> kDay = {60'000, 3'600'000, 86'400'000};

// Counts one message with `rcpts` for `actor` in the three windows; returns the sums.
std::vector<WindowSums> send(EmbeddedCounterStore& s, const std::string& actor, int64_t now_ms, uint32_t rcpts = 1) {
  std::vector<WindowSums> out(kDay.size());
  EXPECT_TRUE(s.count(actor, 1, rcpts, now_ms, kDay, out));
  return out;
}

TEST(EmbeddedCounterStore, AMillionActorsFitTheDefaultBudgetWithoutEvictions) {
  EmbeddedCounterStore s;  // the default budget
  const int64_t start = 1'700'000'000'000;
  for (int i = 0; i < 1'000'000; ++i) send(s, "auth_account:user" + std::to_string(i), start + i);
  EXPECT_EQ(s.keys(), 1'000'000u);  // one slot an actor, all its windows
  EXPECT_EQ(s.evictions(), 0u);
  EXPECT_EQ(s.untracked(), 0u);
  EXPECT_LE(s.memory_bytes(), EmbeddedCounterStore::kDefaultMemoryMb << 20);
  EXPECT_GE(s.max_keys(), 3'000'000u);  // an account and its sender for a million actors, and their IPs
  for (int i : {0, 1, 499'999, 999'999}) {
    auto sums = send(s, "auth_account:user" + std::to_string(i), start + 1'000'000, 2);
    EXPECT_EQ(sums[2].messages, 2u) << i;
    EXPECT_EQ(sums[2].recipients, 3u) << i;
  }
}

TEST(EmbeddedCounterStore, ActorsOverTheBudgetEvictExpiredThenQuietOnesNeverARecentlyBusyOne) {
  EmbeddedCounterStore s(256 << 10);
  const int64_t t0 = 1'700'000'000'000;
  // Old quiet actors (expired by the day window when the flood comes) and busy ones sending now.
  for (int i = 0; i < 1000; ++i) send(s, "old" + std::to_string(i), t0);
  const int64_t t1 = t0 + 90'000'000;
  for (int m = 0; m < 5; ++m)
    for (int i = 0; i < 100; ++i) send(s, "busy" + std::to_string(i), t1 + m * 2000);
  EXPECT_EQ(s.busy_keys(), 100u);
  uint64_t before = s.evictions();
  for (int i = 0; i < 20'000; ++i) send(s, "new" + std::to_string(i), t1 + 10'000 + i);
  EXPECT_GT(s.evictions() - before, 10'000u);
  EXPECT_LE(s.keys(), s.max_keys());
  for (int i = 0; i < 100; ++i) {  // every busy actor still has its five messages
    auto sums = send(s, "busy" + std::to_string(i), t1 + 40'000);
    ASSERT_EQ(sums[0].messages, 6u) << i;
    ASSERT_EQ(sums[2].messages, 6u) << i;
  }
  EXPECT_EQ(s.untracked(), 0u);  // quiet ones made room
  std::vector<WindowSums> one(1);
  ASSERT_TRUE(s.count("new19999", 0, 0, t1 + 40'000, {&kDay[2], 1}, one));
  EXPECT_EQ(one[0].messages, 1u);  // the newest stay
}

TEST(EmbeddedCounterStore, EvictionKeepsTheCountsOfLiveKeys) {
  EmbeddedCounterStore s(8 << 20);  // 131,071 keys at most
  const int64_t t0 = 1'700'000'000'000;
  std::vector<uint64_t> sent(3000);
  // Busy actors (3 to 9 messages, a second apart: in rings) interleaved with enough quiet ones
  // to fill the table and evict many (each eviction shifts the probe runs behind it).
  for (int round = 0; round < 9; ++round)
    for (int i = 0; i < 3000; ++i) {
      if (round >= 3 + i % 7) continue;
      send(s, "live" + std::to_string(i), t0 + round * 1000);
      ++sent[size_t(i)];
      for (int k = 0; k < 10; ++k) send(s, "filler" + std::to_string(round * 200'000 + i * 10 + k), t0 + round * 1000);
    }
  EXPECT_GT(s.evictions(), 0u);
  EXPECT_GT(s.keys(), 100'000u);
  std::vector<WindowSums> out(kDay.size());
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(s.count("live" + std::to_string(i), 0, 0, t0 + 9000, kDay, out));
    ASSERT_EQ(out[0].messages, sent[size_t(i)]) << i;
    ASSERT_EQ(out[2].recipients, sent[size_t(i)]) << i;
  }
}

TEST(EmbeddedCounterStore, GrowingMovesKeysAFewAtATimeAndLosesNoCounts) {
  EmbeddedCounterStore s(64 << 20);  // 65,536 slots, then its full 1,398,101
  const int64_t t0 = 1'700'000'000'000;
  auto expected = [](int i) { return i % 10 == 0 ? 3u : 1u; };  // every tenth busy (rings)
  auto send_all = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      for (uint32_t m = 0; m < expected(i); ++m) send(s, "a" + std::to_string(i), t0 + m * 1000);
  };
  auto check_all = [&](int to) {
    std::vector<WindowSums> out(kDay.size());
    for (int i = 0; i < to; ++i) {
      ASSERT_TRUE(s.count("a" + std::to_string(i), 0, 0, t0 + 5000, kDay, out));
      ASSERT_EQ(out[0].messages, expected(i)) << i;
      ASSERT_EQ(out[2].recipients, expected(i)) << i;
    }
  };
  send_all(0, 49'150);
  size_t small = s.memory_bytes();
  EXPECT_LT(small, size_t(4) << 20);
  send_all(49'150, 49'160);  // the growth starts: most keys are still in the small table
  EXPECT_GT(s.memory_bytes(), small + (size_t(40) << 20));
  check_all(49'160);  // (each lookup moves a few more)
  send_all(49'160, 120'000);
  check_all(120'000);
  EXPECT_EQ(s.keys(), 120'000u);
  EXPECT_EQ(s.evictions(), 0u);
}

TEST(EmbeddedCounterStore, InlineEventsAndRingsSlideAlike) {
  EmbeddedCounterStore s;
  const std::vector<int64_t> w = {8000, 80'000};
  std::vector<WindowSums> out(2);
  auto at = [&](const char* key, int64_t now, uint32_t m) {
    EXPECT_TRUE(s.count(key, m, m, now, w, out));
    return out[0].messages * 1000 + out[1].messages;
  };
  // "a" stays inline (two events), "b" moves to rings on its third event: the same sums.
  EXPECT_EQ(at("a", 0, 1), 1001u);
  EXPECT_EQ(at("a", 3000, 2), 3003u);
  at("b", 0, 1);
  at("b", 3000, 1);
  EXPECT_EQ(at("b", 3000, 1), 3003u);  // the same second: one event, still inline
  EXPECT_EQ(at("b", 5000, 1), 4004u);
  EXPECT_EQ(s.busy_keys(), 1u);
  EXPECT_EQ(at("a", 8500, 0), 2003u);  // the first event left the short window
  EXPECT_EQ(at("b", 8500, 0), 3004u);
  EXPECT_EQ(at("b", 100'000, 0), 0u);
}

TEST(EmbeddedCounterStore, SurvivesARestart) {
  TempDir dir;
  std::string path = dir.path + "/counters.db", error;
  {
    EmbeddedCounterStore s;
    ASSERT_TRUE(s.attach_file(path, 1000, &error)) << error;
    s.add("auth_account:a@b/3600m", 7, 1000, 3'600'000);
    s.checkpoint();
    ASSERT_TRUE(s.flush());
  }
  EmbeddedCounterStore again;
  ASSERT_TRUE(again.attach_file(path, 2000, &error)) << error;
  EXPECT_EQ(*again.sum("auth_account:a@b/3600m", 2000, 3'600'000), 7u);
  EmbeddedCounterStore later;  // past the window: not loaded
  ASSERT_TRUE(later.attach_file(path, 10'000'000, &error)) << error;
  EXPECT_EQ(later.keys(), 0u);
}

TEST(EmbeddedCounterStore, BusyActorsSurviveARestartAndEvictedRowsLeaveTheFile) {
  TempDir dir;
  std::string path = dir.path + "/counters.db", error;
  const int64_t t0 = 1'700'000'000'000;
  uint64_t evicted = 0;
  {
    EmbeddedCounterStore s(64 << 10);
    ASSERT_TRUE(s.attach_file(path, t0, &error)) << error;
    for (int m = 0; m < 4; ++m) send(s, "busy", t0 + m * 1000, 3);
    for (int i = 0; i < 5000; ++i) send(s, "q" + std::to_string(i), t0 + 5000 + i);
    evicted = s.evictions();
    ASSERT_TRUE(s.flush());
  }
  ASSERT_GT(evicted, 1000u);
  EmbeddedCounterStore again(64 << 10);
  ASSERT_TRUE(again.attach_file(path, t0 + 20'000, &error)) << error;
  EXPECT_EQ(again.busy_keys(), 1u);
  auto sums = send(again, "busy", t0 + 20'000, 3);
  EXPECT_EQ(sums[1].messages, 5u);
  EXPECT_EQ(sums[1].recipients, 15u);
  EXPECT_LE(again.keys(), again.max_keys());
  EXPECT_EQ(again.keys() + evicted, 5001u);  // the file held what memory held: evicted rows left it
}

}  // namespace
}  // namespace sw::policy
