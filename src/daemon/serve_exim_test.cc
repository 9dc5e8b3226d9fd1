// Real-Exim tests of the policy daemon (names start with ServeOnRealExim): the lab runs with
// contrib/exim/serve's snippets in every ACL, `spamwarden serve` answers on a socket in the lab.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <fstream>
#include <thread>

#include "eximlab.h"

namespace {

using sw::testing::EximLab;

std::string source(const std::string& rel) { return std::string(SW_SOURCE_DIR) + "/" + rel; }
std::string binary() { return std::string(SW_BINARY_DIR) + "/spamwarden"; }

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void poke(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(fd);
}

// A lab with every serve snippet included and SPAMWARDEN_SERVE pointing at DIR/serve.sock.
std::unique_ptr<EximLab> lab_with_snippets() {
  std::vector<std::string> includes;
  for (const char* hook : {"connect", "helo", "mail", "rcpt", "predata", "data", "not_smtp"})
    includes.push_back(std::string(hook) + ":" +
                       source(std::string("contrib/exim/serve/acl_") +
                              (std::string(hook) == "not_smtp" ? "" : "smtp_") + hook + ".inc"));
  auto lab = std::make_unique<EximLab>(
      sw::testing::EximLabOptions{.pid = true, .split_spool = false, .acl_includes = includes});
  std::ofstream(lab->dir() + "/main.inc") << "SPAMWARDEN_SERVE = " << lab->dir() << "/serve.sock\n";
  sw::testing::run_command({EximLab::script(), "reload", lab->dir()});
  // Exim's daemon acts on SIGHUP (re-executes itself) only when a connection wakes it: make
  // one, and wait for its second start, or the first sessions would meet the old configuration.
  for (int i = 0; i < 100 && count(sw::testing::read_file(lab->mainlog()), "daemon started") < 2; ++i) {
    if (i % 10 == 0) poke(lab->port());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return lab;
}

// A `spamwarden serve` child process with a config written into the lab, stopped by its pid.
class Serve {
 public:
  Serve(const EximLab& lab, const std::string& serve_section) : lab_(lab) {
    config_ = lab.dir() + "/serve.toml";
    std::ofstream(config_) << "[paths]\nstate_dir = \"" << state() << "\"\nspool = \"" << lab.spool_dir()
                           << "\"\nexim = \"/usr/sbin/exim4\"\nexim_config = \"" << lab.dir()
                           << "/server.conf\"\n[serve]\nsocket = \"" << socket() << "\"\nlisten = \"\"\n"
                           << serve_section;
    start();
  }
  ~Serve() { stop(); }
  void start() {
    std::vector<std::string> args = {"spamwarden", "serve", "--config", config_};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string bin = binary(), err = lab_.dir() + "/serve.err";
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!freopen(err.c_str(), "a", stderr)) _exit(126);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    for (int i = 0; i < 50 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool ready() const {
    struct stat st {};
    return ::stat(socket().c_str(), &st) == 0 &&
           sw::testing::read_file(lab_.dir() + "/serve.err").find("serving") != std::string::npos;
  }
  std::string state() const { return lab_.dir() + "/state"; }
  std::string socket() const { return lab_.dir() + "/serve.sock"; }
  std::string log() const { return sw::testing::read_file(lab_.dir() + "/serve.err"); }
  sw::testing::CommandResult cli(std::vector<std::string> args) const {
    args.insert(args.begin(), binary());
    for (const std::string& a : {std::string("--config"), config_}) args.push_back(a);
    return sw::testing::run_command(args);
  }

 private:
  const EximLab& lab_;
  std::string config_;
  pid_t pid_ = -1;
};

// One SMTP session from `source_ip` (python's smtplib, as the lab's scenarios use); prints the
// replies: "helo 250", "mail 250", "rcpt:ADDR 550 ..." and "data 250".
std::string smtp(const EximLab& lab, const std::string& source_ip, const std::string& helo, const std::string& sender,
                 const std::vector<std::string>& recipients) {
  std::string rcpts;
  for (const std::string& r : recipients) rcpts += "'" + r + "',";
  std::string script = R"(
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', )" +
                       std::to_string(lab.port()) + R"(, local_hostname=')" + helo + R"(', source_address=(')" +
                       source_ip + R"(', 0), timeout=20)
try:
    c, m = s.ehlo(); print('helo', c)
    c, m = s.mail(')" + sender +
                       R"('); print('mail', c, m.decode(errors='replace'))
    ok = 0
    if c < 300:
        for r in [)" + rcpts +
                       R"(]:
            c, m = s.rcpt(r); print('rcpt:' + r, c, m.decode(errors='replace')); ok += c < 300
        if ok:
            c, m = s.data(b'Subject: t\r\n\r\nhello\r\n'); print('data', c)
    s.quit()
except (smtplib.SMTPException, OSError) as e:
    print('error', e)
)";
  return sw::testing::run_command({"python3", "-c", script}).out;
}

// Messages Exim accepted from an SMTP-AUTH account: its "<=" lines.
size_t received(const std::string& log, const std::string& account) {
  size_t n = 0, start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string_view line(log.data() + start, end - start);
    if (line.find(" <= ") != std::string_view::npos && line.find(":" + account + " ") != std::string_view::npos &&
        line.find(" A=dovecot_") != std::string_view::npos)
      ++n;
    start = end + 1;
  }
  return n;
}

bool wait_until(const std::function<bool()>& done, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ServeOnRealExim, HijackedAccountGetsExactlyItsLimitANewsletterIsNotTouchedAndReleaseLiftsTheHold) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = lab_with_snippets();
  Serve serve(*lab, R"(
[serve.limits.auth_account]
windows = [{ seconds = 3600, messages = 10 }]
[serve.actor."auth_account:orders@acme-shop.example"]
windows = [{ seconds = 3600, messages = 1000 }]
)");
  ASSERT_TRUE(serve.ready()) << serve.log();
  lab->play("auth-burst", {"--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66", "--count", "200",
                           "--rcpts", "1", "--reject-pct", "0", "--defer-pct", "0", "--per-session", "20"});
  lab->play("auth-burst", {"--account", "orders@acme-shop.example", "--from-ip", "127.0.0.67", "--count", "40",
                           "--rcpts", "1", "--reject-pct", "0", "--defer-pct", "0", "--rate", "20"});
  lab->settle();
  std::string log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(received(log, "sales@acme-shop.example"), 10u) << serve.log();
  EXPECT_EQ(received(log, "orders@acme-shop.example"), 40u);
  // A deferred DATA ends the client's session (smtplib raises), so not every one of the 200 is
  // tried; every one that was tried past the limit was deferred.
  EXPECT_GE(count(log, "spamwarden: DEFER"), 10u);
  EXPECT_NE(serve.log().find("defer rate_limit auth_account:sales@acme-shop.example 11 messages in 3600s (limit 10)"),
            std::string::npos);

  // The hold is watch's kind of hold: `holds` lists it, `release` lifts it, mail flows again.
  ASSERT_TRUE(
      wait_until([&] { return serve.cli({"holds"}).out.find("sales@acme-shop.example") != std::string::npos; }, 10));
  sw::testing::CommandResult released = serve.cli({"release", "auth:sales@acme-shop.example"});
  EXPECT_EQ(released.exit_code, 0) << released.err;
  EXPECT_EQ(serve.cli({"holds"}).out.find("sales@acme-shop.example"), std::string::npos);
  // Serve learns of the release from the store (its hold process reads it every second): until
  // then the account's mail is still deferred, so send one message at a time until one passes.
  for (int attempt = 0;
       attempt < 20 && received(sw::testing::read_file(lab->mainlog()), "sales@acme-shop.example") == 10; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    lab->play("auth-burst", {"--account", "sales@acme-shop.example", "--from-ip", "127.0.0.66", "--count", "1",
                             "--rcpts", "1", "--reject-pct", "0", "--defer-pct", "0"});
    lab->settle();
  }
  log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(received(log, "sales@acme-shop.example"), 11u) << "the release restarts the account's count\n"
                                                           << serve.log();
}

TEST(ServeOnRealExim, ScriptBurstIsFrozenAtSubmissionAndMailFlowsWhenServeIsKilled) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = lab_with_snippets();
  Serve serve(*lab, R"(
[serve.limits.script]
windows = [{ seconds = 3600, messages = 5 }]
)");
  ASSERT_TRUE(serve.ready()) << serve.log();
  lab->play("script-burst", {"--user", "userx1", "--count", "15", "--rcpts-per-msg", "1", "--reject-pct", "0",
                             "--defer-pct", "0", "--parallel", "2"});
  lab->settle();
  std::string log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(count(log, "U=userx1 P=local"), 15u);                   // every message accepted...
  EXPECT_EQ(count(log, "spamwarden: FREEZE"), 10u) << serve.log();  // ...the ten past the limit frozen
  EXPECT_EQ(count(log, "frozen by ACL"), 10u);
  std::string queue = lab->exim({"-bp"});
  EXPECT_EQ(count(queue, "*** frozen ***"), 10u);

  // Killed mid-flight: the snippets' fail string lets mail through, and Exim logs it.
  serve.stop(SIGKILL);
  lab->play("auth-burst", {"--account", "alice@lab.example", "--from-ip", "127.0.0.9", "--count", "1", "--rcpts", "1",
                           "--reject-pct", "0", "--defer-pct", "0"});
  lab->settle();
  log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(received(log, "alice@lab.example"), 1u);
  EXPECT_GE(count(log, "spamwarden serve unreachable"), 1u);
}

TEST(ServeOnRealExim, DictionaryAttackIsDroppedHeloViolationsRejectedAllowlistNeverRelays) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = lab_with_snippets();
  Serve serve(*lab, R"(
[serve.dictionary]
tarpit_after = 3
drop_after = 5
[serve.tarpit]
seconds = 1
[serve.allow]
sender_domains = ["partner.example"]
)");
  ASSERT_TRUE(serve.ready()) << serve.log();
  // A typo: two unknown recipients and a real one; the real one is delivered.
  std::string typo = smtp(*lab, "127.0.0.98", "mx.friend.example", "someone@friend.example",
                          {"jhon@acme-shop.example", "jonh@acme-shop.example", "john@acme-shop.example"});
  EXPECT_NE(typo.find("rcpt:john@acme-shop.example 250"), std::string::npos) << typo;
  EXPECT_NE(typo.find("data 250"), std::string::npos) << typo;

  lab->play("dictionary", {"--from-ip", "127.0.0.99", "--count", "40", "--domain", "acme-shop.example", "--hit-pct",
                           "0", "--parallel", "2"});
  std::string log = sw::testing::read_file(lab->mainlog());
  EXPECT_GE(count(log, "spamwarden: DROP"), 1u) << serve.log();
  EXPECT_LE(count(log, "[127.0.0.99]") - count(log, "spamwarden: DROP"), 5u * 3);  // few reach RCPT at all
  std::string again =
      smtp(*lab, "127.0.0.99", "mail.bulk-sender.example", "x@bulk-sender.example", {"john@acme-shop.example"});
  EXPECT_EQ(again.find("data 250"), std::string::npos) << again;  // dropped for the period, even for a real address

  // HELO checks at MAIL for an outside client.
  for (std::string helo : {"ylmf-pc", "[127.0.0.5]", "acme-shop.example", "127.0.0.97"}) {
    std::string r = smtp(*lab, "127.0.0.97", helo, "a@outside.example", {"john@acme-shop.example"});
    EXPECT_NE(r.find("mail 550"), std::string::npos) << helo << ": " << r;
  }
  EXPECT_NE(
      smtp(*lab, "127.0.0.97", "mx.outside.example", "a@outside.example", {"john@acme-shop.example"}).find("data 250"),
      std::string::npos);

  // An allowlisted sender domain skips serve's checks but Exim's relay check still applies.
  std::string relay =
      smtp(*lab, "127.0.0.95", "mx.partner.example", "boss@partner.example", {"victim@elsewhere.example"});
  EXPECT_NE(relay.find("rcpt:victim@elsewhere.example 550"), std::string::npos) << relay;
  EXPECT_NE(relay.find("relay not permitted"), std::string::npos) << relay;
}

}  // namespace
