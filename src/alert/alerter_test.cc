#include "alert/alerter.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace sw::alert {
namespace {

TEST(Alerter, HangingWebhookDoesNotBlockPostAndTimesOut) {
  // A server that accepts and never answers (loopback only).
  httplib::Server server;
  std::atomic<bool> release{false};
  server.Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
    for (int i = 0; i < 300 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.status = 200;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  std::vector<std::string> logged;
  std::mutex m;
  {
    AlertConfig config;
    config.syslog = false;
    config.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    config.webhook_timeout_ms = 200;
    Alerter alerter(config, [&](const std::string& s) {
      std::lock_guard l(m);
      logged.push_back(s);
    });
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) alerter.post(AlertEvent{"hold", "local_user:x", "held", {}});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  }  // the destructor drains: three timeouts of 200 ms
  release = true;
  server.stop();
  t.join();
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_NE(logged[0].find("webhook failed"), std::string::npos) << logged[0];
}

// The webhook goes out through spamwarden-http.so, the module the alerter opens on first use.
TEST(Alerter, WebhookPostsTheEventAsJson) {
  httplib::Server server;
  std::string received, type;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    received = req.body;
    type = req.get_header_value("Content-Type");
    res.status = 204;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  std::vector<std::string> logged;
  {
    AlertConfig config;
    config.syslog = false;
    config.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    Alerter alerter(config, [&](const std::string& s) { logged.push_back(s); });
    alerter.post(AlertEvent{"hold", "script:/home/u/public_html/x", "held the script", {}});
  }  // drained: sent
  server.stop();
  t.join();
  EXPECT_TRUE(logged.empty()) << logged.front();
  ASSERT_FALSE(received.empty());
  auto j = nlohmann::json::parse(received);
  EXPECT_EQ(j["actor_type"], "script");
  EXPECT_EQ(j["actor"], "/home/u/public_html/x");
  EXPECT_EQ(j["summary"], "held the script");
  EXPECT_EQ(type, "application/json");
}

TEST(Alerter, ExecHookGetsTheEventOnStdin) {
  char tmpl[] = "/tmp/sw-alert-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  AlertConfig config;
  config.syslog = false;
  config.exec = "cat > " + dir + "/event.json";
  {
    Alerter alerter(config, nullptr);
    alerter.post(AlertEvent{"hold", "auth_account:a@b", "held a@b", {{"frozen", 3}}});
  }
  std::ifstream in(dir + "/event.json");
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["actor_type"], "auth_account");  // the keys holds --json, logs and queue use
  EXPECT_EQ(j["actor"], "a@b");
  EXPECT_EQ(j["detail"]["frozen"], 3);
  std::filesystem::remove_all(dir);
}

TEST(RunWithInput, KillsAChildThatOverstays) {
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_with_input({"/bin/sleep", "5"}, "", 100, &error), -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(error.find("timed out"), std::string::npos);
}

}  // namespace
}  // namespace sw::alert
