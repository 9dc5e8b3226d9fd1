#include "config/config.h"

#include <gtest/gtest.h>

namespace sw::config {
namespace {

std::vector<ConfigError> errors_of(const std::string& text) {
  std::vector<ConfigError> errors;
  parse_config(text, "t.toml", &errors);
  return errors;
}

TEST(Config, FullExampleParses) {
  std::vector<ConfigError> errors;
  Config c = parse_config(R"(
[paths]
log = "/var/log/exim4/mainlog"
state_dir = "/tmp/sw"
[watch]
metrics = "127.0.0.1:9813"
disable_scripts = true
[limits.script]
windows = [{ seconds = 10, messages = 5, recipients = 50 }]
[allow]
sender = ["News@Shop.example"]
[actor."local_user:newsletter"]
windows = [{ seconds = 60, messages = 5000 }]
[alerts]
webhook_url = "http://127.0.0.1:9000/hook"
email_to = "admin@example.com"
)",
                          "t.toml", &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message;
  EXPECT_EQ(c.log_path, "/var/log/exim4/mainlog");
  EXPECT_TRUE(c.disable_scripts);
  EXPECT_FALSE(parse_config("", "t.toml", &errors).disable_scripts) << "off by default";
  EXPECT_EQ(c.limits.by_type[size_t(detect::ActorType::Script)].scales.size(), 1u);
  EXPECT_EQ(c.limits.by_type[size_t(detect::ActorType::Script)].scales[0].messages, 5u);
  EXPECT_TRUE(c.limits.allow[size_t(detect::ActorType::Sender)].count("news@shop.example"));
  auto& news = detect::limits_for(c.limits, detect::ActorType::LocalUser, "newsletter");
  EXPECT_EQ(news.scales[0].messages, 5000u);
  EXPECT_EQ(c.alerts.email_to, "admin@example.com");
}

TEST(Config, SyntaxErrorHasItsLine) {
  auto errors = errors_of("[paths]\nlog = \"/x\"\nstate_dir = \n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 3);
}

TEST(Config, UnknownKeysAndBadValuesHaveTheirLines) {
  auto errors = errors_of(
      "[paths]\n"
      "logfile = \"/x\"\n"  // 2: unknown key
      "[watch]\n"
      "poll_ms = -4\n"                // 4: out of range
      "metrics = \"0.0.0.0:9813\"\n"  // 5: not loopback
      "[limits.scripts]\n"            // 6: unknown actor type
      "[signals]\n"
      "fail_share = 2.5\n"  // 8: not a fraction
      "[alerts]\n"
      "syslog = \"yes\"\n");  // 10: wrong type
  std::vector<int> lines;
  for (const auto& e : errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 4, 5, 6, 8, 10}));
  EXPECT_NE(errors[0].message.find("unknown key 'logfile'"), std::string::npos);
  EXPECT_EQ(format_error("t.toml", errors[0]).rfind("t.toml:2: ", 0), 0u);
}

TEST(Config, MetricsMustBeANumericLoopbackAddressAndAWholePort) {
  for (const char* bad : {"127.example.com:9813", "127.0.0.1:98x", "127.0.0.1"}) {
    auto errors = errors_of(std::string("[watch]\nmetrics = \"") + bad + "\"\n");
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].line, 2) << bad;
    EXPECT_NE(errors[0].message.find("'metrics'"), std::string::npos) << errors[0].message;
  }
  EXPECT_TRUE(errors_of("[watch]\nmetrics = \"127.0.0.2:9813\"\n").empty());
}

TEST(Config, MissingDefaultFileMeansDefaultsMissingExplicitFileIsAnError) {
  std::vector<ConfigError> errors;
  EXPECT_TRUE(load_config("/nonexistent/spamwarden.toml", false, &errors));
  EXPECT_FALSE(load_config("/nonexistent/spamwarden.toml", true, &errors));
  ASSERT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace sw::config

namespace sw::config {
namespace {

TEST(ServeConfig, SectionParses) {
  std::vector<ConfigError> errors;
  Config c = parse_config(R"(
[serve]
socket = "/run/sw/serve.sock"
listen = "127.0.0.1:10041"
user = "Debian-exim"
counters = "redis"
over_limit = "freeze"
[serve.limits.auth_account]
windows = [{ seconds = 3600, messages = 10 }]
[serve.actor."auth_account:News@Shop.example"]
windows = [{ seconds = 3600, messages = 5000 }]
[serve.dictionary]
tarpit_after = 2
drop_after = 4
[serve.tarpit]
seconds = 1
max_concurrent = 3
[serve.helo]
hostnames = ["Mail.Host.example"]
[serve.allow]
ips = ["10.0.0.0/8"]
sender_domains = ["Partner.example"]
[serve.deny]
senders = ["spam@bad.example"]
)",
                          "t.toml", &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].line << ": " << errors[0].message;
  const ServePolicy& p = c.serve.policy;
  EXPECT_EQ(c.serve.socket, "/run/sw/serve.sock");
  EXPECT_EQ(c.serve.counters, "redis");
  EXPECT_EQ(p.over_limit, OverLimit::Freeze);
  ASSERT_EQ(p.limits[size_t(Actor::AuthAccount)].size(), 1u);
  EXPECT_EQ(p.limits[size_t(Actor::AuthAccount)][0].messages, 10u);
  EXPECT_EQ(windows_for(p, Actor::AuthAccount, "news@shop.example")[0].messages, 5000u);
  EXPECT_EQ(p.dictionary_drop_after, 4u);
  EXPECT_EQ(p.max_tarpitted, 3u);
  EXPECT_EQ(p.hostnames, std::vector<std::string>{"mail.host.example"});
  EXPECT_EQ(p.allow.ips.size(), 1u);
  EXPECT_EQ(p.allow.sender_domains, std::vector<std::string>{"partner.example"});
  EXPECT_EQ(p.deny.senders, std::vector<std::string>{"spam@bad.example"});
}

TEST(ServeConfig, CounterMemoryIsABudgetAndTheOlderKeyCountStillReads) {
  std::vector<ConfigError> errors;
  EXPECT_EQ(parse_config("", "t.toml", &errors).serve.policy.counter_memory_mb, 192u);
  EXPECT_EQ(parse_config("[serve]\ncounter_memory_mb = 64\n", "t.toml", &errors).serve.policy.counter_memory_mb, 64u);
  EXPECT_EQ(parse_config("[serve]\nmax_keys = 1500000\n", "t.toml", &errors).serve.policy.counter_memory_mb, 91u);
  ASSERT_TRUE(errors.empty());
  parse_config("[serve]\ncounter_memory_mb = 8\n", "t.toml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("counter_memory_mb"), std::string::npos);
}

TEST(ServeConfig, ErrorsHaveTheirLines) {
  std::vector<ConfigError> errors;
  parse_config(
      "[serve]\nlisten = \"0.0.0.0:10040\"\ncounters = \"memcached\"\n[serve.limits.robot]\n"
      "[serve.allow]\nips = [\"10.0.0.300\"]\n[serve.actor.\"nobody\"]\nwindows = []\n",
      "t.toml", &errors);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_NE(errors[0].message.find("listen"), std::string::npos);
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[2].line, 6);
  EXPECT_NE(errors[2].message.find("10.0.0.300"), std::string::npos);
  EXPECT_NE(errors[3].message.find("unknown actor type 'robot'"), std::string::npos);
  EXPECT_EQ(errors[4].line, 7);
  EXPECT_NE(errors[4].message.find("actor 'nobody'"), std::string::npos);
}

TEST(Config, ContentLearningFromActionsIsOptIn) {
  std::vector<ConfigError> errors;
  Config off = parse_config("", "t.toml", &errors);
  EXPECT_FALSE(off.learn_from_actions);
  EXPECT_EQ(off.content_spamd, "");  // the running serve's, found by its model lock
  Config on = parse_config("[content]\nlearn_from_actions = true\nspamd = \"127.0.0.1:783\"\n", "t.toml", &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(on.learn_from_actions);
  EXPECT_EQ(on.content_spamd, "127.0.0.1:783");
  parse_config("[content]\nlearn = true\n", "t.toml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 2);
}

}  // namespace
// Teaching the running model is root's unless more users are named.
TEST(Config, SpamdTellUsersDefaultToRoot) {
  std::vector<ConfigError> errors;
  EXPECT_EQ(parse_config("", "t.toml", &errors).serve.spamd_tell_users, std::vector<std::string>{"root"});
  EXPECT_EQ(parse_config("", "t.toml", &errors).serve.spamd_hold_users, (std::vector<std::string>{"root", "@exim"}));
  EXPECT_EQ(parse_config("[serve]\nspamd_hold_users = [\"*\"]\n", "t.toml", &errors).serve.spamd_hold_users,
            std::vector<std::string>{"*"});
  Config named = parse_config("[serve]\nspamd_tell_users = [\"root\", \"vmail\", \"5000\"]\n", "t.toml", &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(named.serve.spamd_tell_users, (std::vector<std::string>{"root", "vmail", "5000"}));
  EXPECT_TRUE(parse_config("[serve]\nspamd_tell_users = []\n", "t.toml", &errors).serve.spamd_tell_users.empty());
  parse_config("[serve]\nspamd_tell_users = \"root\"\n", "t.toml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("must be an array of strings"), std::string::npos);
}

}  // namespace sw::config
