// Real-Exim tests of live containment (names start with WatchOnRealExim): the lab runs with
// contrib/exim's snippets installed, `spamwarden watch` follows its main log.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/temp_dir.h"
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

// What watch logs once it has opened the log.
const char* kFollowing = "spamwarden: watching ";

// A `spamwarden watch` child process, stopped (by its pid) when the test ends.
class Watch {
 public:
  explicit Watch(const EximLab& lab, std::vector<std::string> extra = {}, std::string config = "/dev/null")
      : lab_(lab), extra_(std::move(extra)), config_(std::move(config)) {
    start();
  }
  ~Watch() { stop(); }
  void start() {
    std::vector<std::string> args = {"spamwarden",    "watch",
                                     "--config",      config_,
                                     "--log",         lab_.mainlog(),
                                     "--state-dir",   state(),
                                     "--spool",       lab_.spool_dir(),
                                     "--exim",        "/usr/sbin/exim4",
                                     "--exim-config", lab_.dir() + "/server.conf"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string bin = binary(), err = lab_.dir() + "/watch.err";
    size_t started = count(sw::testing::read_file(err), kFollowing);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!freopen(err.c_str(), "a", stderr)) _exit(126);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    // Until watch has the log open, what Exim writes is not followed (without --from-start it is
    // never read; a rename then is no rotation to watch). Starting takes long on a busy machine.
    for (int i = 0; i < 300 && count(sw::testing::read_file(err), kFollowing) == started; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {  // exited: the test's checks show watch.err
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string state() const { return lab_.dir() + "/state"; }
  sw::testing::CommandResult cli(std::vector<std::string> args) const {
    args.insert(args.begin(), binary());
    for (const char* a : {"--config", "/dev/null", "--state-dir"}) args.push_back(a);
    args.push_back(state());
    for (const std::string& a :
         {std::string("--spool"), lab_.spool_dir(), std::string("--exim"), std::string("/usr/sbin/exim4"),
          std::string("--exim-config"), lab_.dir() + "/server.conf"})
      args.push_back(a);
    return sw::testing::run_command(args);
  }

 private:
  const EximLab& lab_;
  std::vector<std::string> extra_;
  std::string config_;
  pid_t pid_ = -1;
};

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// Value of one Prometheus sample line ("NAME VALUE"), -1 if absent.
long long metric(const std::string& text, const std::string& name) {
  std::string needle = "\n" + name + " ";
  size_t at = text.find(needle);
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + needle.size()));
}

// A lab with the snippets included and SPAMWARDEN_HOLDS pointing into it.
std::unique_ptr<EximLab> contained_lab() {
  auto lab = std::make_unique<EximLab>(
      sw::testing::EximLabOptions{.pid = false,
                                  .split_spool = false,
                                  .acl_includes = {"not_smtp:" + source("contrib/exim/acl_not_smtp.inc"),
                                                   "mail:" + source("contrib/exim/acl_smtp_mail.inc")}});
  std::ofstream(lab->dir() + "/main.inc") << "SPAMWARDEN_HOLDS = " << lab->dir() << "/state/holds\n";
  sw::testing::run_command({EximLab::script(), "reload", lab->dir()});
  return lab;
}

// Windows for an actor whose burst a test needs held: more than 10 messages in an hour trips on
// the 11th message whatever the rate, as the default 2-second scale does at full speed. With the
// defaults the trip depends on the lab accepting over 2 messages a second, which a loaded machine
// (a sanitizer build beside a compiler) does not always manage.
const char* kTripsOnItsEleventhMessage = "windows = [ { seconds = 3600, messages = 10, recipients = 0 } ]\n";

bool wait_for_hold(const Watch& w, const std::string& actor, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (w.cli({"holds"}).out.find(actor) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(WatchOnRealExim, ScriptBurstIsHeldAndReleaseThawDeliversIt) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = contained_lab();
  std::ofstream(lab->dir() + "/watch.toml") << "[limits.script]\n" << kTripsOnItsEleventhMessage;
  Watch watch(*lab, {}, lab->dir() + "/watch.toml");
  lab->play("script-burst", {"--count", "60", "--parallel", "8", "--reject-pct", "0", "--defer-pct", "0"});
  lab->settle();
  ASSERT_TRUE(wait_for_hold(watch, "script:/home/userx1/public_html", 5))
      << sw::testing::read_file(lab->dir() + "/watch.err");
  EXPECT_TRUE(wait_for_hold(watch, "local_user:userx1", 1));
  std::string log = sw::testing::read_file(lab->mainlog());
  size_t held = count(log, "spamwarden: held local submission by userx1");
  size_t accepted = count(log, "U=userx1 P=local");
  EXPECT_GT(held, 0u) << "the ACL froze nothing";
  EXPECT_EQ(accepted, 60u) << "hold, don't delete: every message is accepted";
  size_t frozen = std::stoul(lab->exim({"-bpc"}));
  EXPECT_GE(frozen, held);

  // A restart keeps the holds.
  watch.stop();
  watch.start();
  EXPECT_TRUE(wait_for_hold(watch, "local_user:userx1", 2));
  std::this_thread::sleep_for(std::chrono::seconds(4));  // watch's own freeze passes (now and +3 s)
  size_t frozen_now = count(lab->exim({"-bp"}), "*** frozen ***");
  ASSERT_GT(frozen_now, 0u);

  // The script and its user are one incident; `holds` counts the frozen mail Exim's ACL froze too.
  auto holds = watch.cli({"holds", "--json"});
  auto incidents = nlohmann::json::parse(holds.out).at("incidents");
  ASSERT_EQ(incidents.size(), 1u) << holds.out;
  // Named after its first hold: without pids in the log the user's count may cross its limit a
  // line before the script's does, so either may be first.
  const auto& first = incidents[0].at("holds").at(0);
  EXPECT_EQ(incidents[0].at("incident"),
            first.at("actor_type").get<std::string>() + ":" + first.at("actor").get<std::string>())
      << holds.out;
  std::set<std::string> incident_actors;
  for (const auto& h : incidents[0].at("holds"))
    incident_actors.insert(h.at("actor_type").get<std::string>() + ":" + h.at("actor").get<std::string>());
  EXPECT_TRUE(incident_actors.count("script:/home/userx1/public_html")) << holds.out;
  EXPECT_TRUE(incident_actors.count("local_user:userx1")) << holds.out;
  EXPECT_EQ(incidents[0].at("frozen_in_queue"), frozen_now) << holds.out;
  // The script and its user, and its sender if that crossed its own limit too: one incident.
  EXPECT_GE(incidents[0].at("holds").size(), 2u) << holds.out;
  EXPECT_LE(incidents[0].at("holds").size(), 3u) << holds.out;

  // Releasing the user alone must not deliver mail the script's hold still covers.
  auto only = watch.cli({"release", "user:userx1", "--only", "--thaw"});
  EXPECT_EQ(only.exit_code, 0) << only.err;
  EXPECT_NE(only.out.find("thawed 0"), std::string::npos) << only.out;
  EXPECT_NE(only.out.find(fmt::format("left frozen {}", frozen_now)), std::string::npos) << only.out;
  EXPECT_EQ(count(lab->exim({"-bp"}), "*** frozen ***"), frozen_now) << "held mail was thawed";
  // Nor may thawing by hand: the queue command leaves mail an active hold covers frozen.
  auto thaw = sw::testing::run_command({binary(), "queue", "thaw", "--login", "userx1", "--spool", lab->spool_dir(),
                                        "--exim", "/usr/sbin/exim4", "--exim-config", lab->dir() + "/server.conf",
                                        "--state-dir", watch.state()});
  EXPECT_NE(thaw.err.find(fmt::format("{} selected messages left frozen: an active hold covers them", frozen_now)),
            std::string::npos)
      << thaw.out << thaw.err;
  EXPECT_EQ(count(lab->exim({"-bp"}), "*** frozen ***"), frozen_now) << "queue thaw delivered held mail";
  auto user_again = watch.cli({"release", "user:userx1"});
  EXPECT_EQ(user_again.exit_code, 2);
  EXPECT_NE(user_again.err.find("held as the user running script:/home/userx1/public_html"), std::string::npos)
      << user_again.err;

  // The incident as a whole: everything thawed and delivered.
  auto r = watch.cli({"release", "script:/home/userx1/public_html", "--thaw"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(fmt::format("thawed {}", frozen_now)), std::string::npos) << r.out;
  lab->exim({"-qff"});
  lab->settle();
  EXPECT_EQ(std::stoul(lab->exim({"-bpc"})), 0u) << lab->exim({"-bp"});
  EXPECT_EQ(sw::testing::read_file(watch.state() + "/holds/local_user").find("userx1"), std::string::npos);
}

TEST(WatchOnRealExim, HijackedAccountIsHeldSteadySenderIsNot) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = contained_lab();
  Watch watch(*lab);
  // A customer at a steady moderate rate: one message a second.
  for (int i = 0; i < 8; ++i) {
    lab->play("normal", {"--count", "1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  lab->play("auth-burst", {"--count", "4", "--rcpts", "120", "--failed-logins", "3"});
  lab->settle();
  ASSERT_TRUE(wait_for_hold(watch, "auth_account:sales@acme-shop.example", 5))
      << sw::testing::read_file(lab->dir() + "/watch.err");
  std::string holds = watch.cli({"holds"}).out;
  EXPECT_EQ(count(holds, "\n  "), 3u) << holds;  // account, its client IP, its sender: nobody else
  EXPECT_EQ(holds.find("incident auth_account:sales@acme-shop.example"), 0u) << "one incident\n" << holds;
  EXPECT_EQ(count(holds, "\nincident "), 0u) << "one incident\n" << holds;
  // New mail from the held account is frozen by Exim's ACL at MAIL time. The hold can land
  // while the burst's last messages are still arriving, so count only what comes after it.
  const std::string held_line = "spamwarden: held SMTP submission A=sales@acme-shop.example";
  size_t held_before = count(sw::testing::read_file(lab->mainlog()), held_line);
  lab->play("auth-burst", {"--count", "2", "--rcpts", "5"});
  lab->settle();
  std::string log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(count(log, held_line) - held_before, 2u);

  // release --remove records its intent in the audit log before exim -Mrm runs.
  auto removed = watch.cli({"release", "auth:sales@acme-shop.example", "--remove"});
  EXPECT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  std::string audit = sw::testing::read_file(watch.state() + "/audit.jsonl");
  size_t intent = audit.find("\"action\":\"release\"");
  ASSERT_NE(intent, std::string::npos) << audit;
  EXPECT_NE(audit.find("\"stage\":\"intent\""), std::string::npos) << audit;
  EXPECT_EQ(removed.out.find("removed 0 "), std::string::npos) << removed.out;
}

// A bulk mailer on a stolen login keeps one connection open: messages after the hold, on the
// same connection, are frozen by the ACL (Exim reads the lists afresh for each message).
TEST(WatchOnRealExim, HeldWithinAnOpenSmtpSession) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = contained_lab();
  std::ofstream(lab->dir() + "/watch.toml") << "[actor.\"auth_account:sales@acme-shop.example\"]\n"
                                            << kTripsOnItsEleventhMessage;
  Watch watch(*lab, {}, lab->dir() + "/watch.toml");
  // The daemon re-executes with the hold-list macro (contained_lab's reload) when its next
  // connection wakes it; that connection is still served by the old configuration.
  lab->play("auth-burst", {"--account", "alice@lab.example", "--from-ip", "127.0.0.9", "--count", "1", "--rcpts", "1"});
  for (int i = 0; i < 100 && count(sw::testing::read_file(lab->mainlog()), "daemon started") < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // 40 messages over one authenticated connection at 20 msg/s: the account trips on the 11th,
  // about half a second in; the rest of the session comes after the hold.
  lab->play("auth-burst", {"--count", "40", "--rcpts", "1", "--per-session", "40", "--rate", "20", "--reject-pct", "0",
                           "--defer-pct", "0"});
  lab->settle();
  ASSERT_TRUE(wait_for_hold(watch, "auth_account:sales@acme-shop.example", 5))
      << sw::testing::read_file(lab->dir() + "/watch.err");
  std::string log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(count(log, "SMTP connection from (User) [127.0.0.66]"), 1u) << "one connection";
  EXPECT_EQ(count(log, "A=dovecot_login:sales@acme-shop.example"), 40u);
  size_t held = count(log, "spamwarden: held SMTP submission A=sales@acme-shop.example");
  // Over half of the session comes after the hold on an idle machine; the slack is for a loaded
  // one (a sanitizer build on a busy CI runner), where watch may see the burst a second late.
  EXPECT_GE(held, 10u) << "messages after the hold on the open connection were not frozen\n" << log;
  EXPECT_LE(held, 29u) << "the first 11 cannot have been held by the ACL";
}

// Sends `count` messages to the lab over SMTP from `from_ip`, a session each and `pause` seconds
// apart, as PHPMailer does; `sender` is a Python expression of the message's number i.
sw::testing::CommandResult send_over_smtp(const EximLab& lab, const std::string& from_ip, const std::string& sender,
                                          int count, double pause = 0) {
  std::string script = fmt::format(
      "import smtplib, time\n"
      "for i in range({}):\n"
      "    s = smtplib.SMTP('127.0.0.1', {}, source_address=('{}', 0))\n"
      "    s.sendmail({}, ['bob@lab.example'], 'Subject: parcel %d\\r\\n\\r\\nclick\\r\\n' % i)\n"
      "    s.quit()\n"
      "    time.sleep({})\n",
      count, lab.port(), from_ip, sender, pause);
  return sw::testing::run_command({"python3", "-c", script});
}

// PHPMailer on cPanel talking SMTP to 127.0.0.1, without logging in: no cwd=, no U=. The lab
// writes cPanel's "Sender identification" line for such sessions as cPanel does, when a router
// looks at the message, after its arrival (an ACL's logwrite called from a router's condition
// standing in for cPanel's Perl); watch holds the user and the sender, and the MAIL ACL freezes
// that sender's next messages from this host.
TEST(WatchOnRealExim, AScriptTalkingSmtpToLocalhostIsHeldByItsUserAndSender) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  sw::TempDir scratch("identify");  // the lab copies its includes at start
  std::string connect = scratch.path + "/acl_connect.inc", identify = scratch.path + "/acl_data.inc";
  // cPanel finds the user behind a connection from this host at once (netlink), into this
  // variable; 127.0.0.2 stands for a content filter handing mail back, which it does not name.
  // It logs the connection's user then, as cPanel's Perl does.
  std::ofstream(connect) << "warn  hosts = 127.0.0.1\n"
                            "      set acl_c_authenticated_local_user = userx3\n"
                            "      logwrite = SMTP connection identification H=localhost A=$sender_host_address "
                            "P=$sender_host_port U=userx3 ID=1003 S=userx3 B=identify_local_connection\n";
  // The DATA ACL's include ends it and begins the ACL the router calls (the lab's "accept" after
  // the include ends that one); the variable is kept with the message, as cPanel's is.
  std::ofstream(identify) << "accept\n"
                             "identify_sender:\n"
                             "warn  condition = ${if and{{def:acl_c_authenticated_local_user}"
                             "{!def:authenticated_id}}}\n"
                             "      logwrite = Sender identification U=$acl_c_authenticated_local_user D=lab.example "
                             "S=$sender_address\n";
  auto lab = std::make_unique<EximLab>(sw::testing::EximLabOptions{
      .pid = false,
      .split_spool = false,
      .acl_includes = {"not_smtp:" + source("contrib/exim/acl_not_smtp.inc"),
                       "mail:" + source("contrib/exim/acl_smtp_mail.inc"), "connect:" + connect, "data:" + identify}});
  std::ofstream(lab->dir() + "/main.inc") << "SPAMWARDEN_HOLDS = " << lab->dir() << "/state/holds\n";
  // Declines (an ACL's accept without a message expands to ""), once per address routed for
  // delivery (not to verify one at RCPT time; a frozen message is not routed).
  std::ofstream(lab->dir() + "/routers.inc") << "cpanel_identify:\n"
                                                "  driver = redirect\n"
                                                "  no_verify\n"
                                                "  condition = ${acl{identify_sender}}\n"
                                                "  data = :blackhole:\n";
  sw::testing::run_command({EximLab::script(), "reload", lab->dir()});
  std::ofstream(lab->dir() + "/watch.toml") << "[limits.local_user]\n"
                                            << kTripsOnItsEleventhMessage << "[limits.sender]\n"
                                            << kTripsOnItsEleventhMessage;
  Watch watch(*lab, {}, lab->dir() + "/watch.toml");
  // 40 messages, a session each, at about 10 a second: the user trips on the 11th.
  auto sent = send_over_smtp(*lab, "127.0.0.1", "'mailer@lab.example'", 40, 0.1);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  lab->settle();
  ASSERT_TRUE(wait_for_hold(watch, "local_user:userx3", 5)) << sw::testing::read_file(lab->dir() + "/watch.err");
  EXPECT_TRUE(wait_for_hold(watch, "sender:mailer@lab.example", 2)) << watch.cli({"holds"}).out;
  std::string log = sw::testing::read_file(lab->mainlog());
  size_t arrived = log.find("<= mailer@lab.example "), named = log.find("Sender identification U=userx3");
  EXPECT_LT(arrived, named) << "named after its arrival, as cPanel names it";
  EXPECT_EQ(count(log, "<= mailer@lab.example "), 40u) << "hold, don't delete: every message is accepted";
  size_t held = count(log, "spamwarden: held SMTP submission A= H=[127.0.0.1] F=<mailer@lab.example>");
  EXPECT_GE(held, 10u) << "messages after the hold were not frozen\n" << log;
  EXPECT_LE(held, 29u) << "the first 11 cannot have been held by the ACL";
  // The user trips at the 11th arrival (its connection names it), so watch may freeze that one
  // in the queue (-Mf) before Exim routes it; each delivered one is named once, no frozen one.
  size_t delivered = count(log, "=> bob <bob@lab.example> F=<mailer@lab.example>");
  EXPECT_EQ(count(log, "Sender identification U=userx3"), delivered) << log;
  EXPECT_EQ(delivered + held + count(log, " frozen by root"), 40u) << log;
  // The frozen ones too are the user's, by their connection's line (its client port on the
  // arrival, +incoming_port): all 40 in the report, and in the user's story.
  auto report = sw::testing::run_command({binary(), "logs", "--json", "--top", "0", "--no-cache", lab->mainlog()});
  auto user = nlohmann::json::parse(report.out)["actors"]["local_user"];
  ASSERT_EQ(user.size(), 1u) << report.out;
  EXPECT_EQ(user[0]["actor"], "userx3");
  EXPECT_EQ(user[0]["messages"], 40);
  EXPECT_EQ(user[0]["frozen"], held) << report.out;
  auto story = sw::testing::run_command({binary(), "logs", "--json", "--actor", "user:userx3", lab->mainlog()});
  EXPECT_EQ(nlohmann::json::parse(story.out)["messages"], 40) << story.out;
  // The same sender handed back by a content filter (no user behind it) is not frozen.
  auto reinjected = send_over_smtp(*lab, "127.0.0.2", "'mailer@lab.example'", 1);
  ASSERT_EQ(reinjected.exit_code, 0) << reinjected.err;
  lab->settle();
  log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(count(log, "<= mailer@lab.example "), 41u);
  EXPECT_EQ(count(log, "H=[127.0.0.2]"), 0u) << log;
  // A mailer that makes up a sender per message is held by its user: cPanel's variable names
  // the user at MAIL time.
  auto rotating = send_over_smtp(*lab, "127.0.0.1", "'r%d@lab.example' % i", 3);
  ASSERT_EQ(rotating.exit_code, 0) << rotating.err;
  lab->settle();
  log = sw::testing::read_file(lab->mainlog());
  EXPECT_EQ(count(log, "spamwarden: held SMTP submission A= H=[127.0.0.1] F=<r"), 3u) << log;
  EXPECT_EQ(count(log, "F=<r0@lab.example> U=userx3"), 1u) << log;
  // One incident, released as one; the queue names the user nowhere (Exim's own user handed
  // the mail in), so the sender's hold is what covers it.
  auto r = watch.cli({"release", "user:userx3", "--thaw"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(watch.cli({"holds"}).out.find("mailer@lab.example"), std::string::npos) << watch.cli({"holds"}).out;
}

// [watch] disable_scripts: the script named by the held mail's X-PHP-Originating-Script is
// renamed to NAME.spamwarden-held with mode 000; `release script:DIR` puts it back.
TEST(WatchOnRealExim, DisableScriptsRenamesTheSendingScriptAndReleaseRestoresIt) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  auto lab = contained_lab();  // creates the lab's users and their public_html trees
  const std::string dir = "/home/userx2/public_html/wp-content/uploads/2024/03";
  const std::string script = dir + "/up.php", held = script + ".spamwarden-held";
  std::filesystem::remove(held);
  std::ofstream(script) << "<?php foreach ($list as $to) mail($to, $s, $b); ?>\n";
  const passwd* pw = ::getpwnam("userx2");
  ASSERT_NE(pw, nullptr);
  ASSERT_EQ(::chown(script.c_str(), pw->pw_uid, pw->pw_gid), 0);
  ASSERT_EQ(::chmod(script.c_str(), 0644), 0);
  std::ofstream(lab->dir() + "/watch.toml") << "[watch]\ndisable_scripts = true\n[limits.script]\n"
                                            << kTripsOnItsEleventhMessage;
  Watch watch(*lab, {}, lab->dir() + "/watch.toml");
  lab->play("script-burst", {"--user", "userx2", "--dir", dir, "--script", "up.php", "--count", "40", "--parallel", "8",
                             "--reject-pct", "0", "--defer-pct", "0"});
  lab->settle();
  ASSERT_TRUE(wait_for_hold(watch, "script:" + dir, 5)) << sw::testing::read_file(lab->dir() + "/watch.err");
  struct stat st {};
  for (int i = 0; i < 80 && ::lstat(held.c_str(), &st) != 0; ++i)  // the freeze passes: now and +3 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::lstat(held.c_str(), &st), 0) << sw::testing::read_file(lab->dir() + "/watch.err");
  EXPECT_EQ(st.st_mode & 07777, 0u);
  EXPECT_FALSE(std::filesystem::exists(script));
  EXPECT_NE(sw::testing::read_file(watch.state() + "/audit.jsonl").find("disable_script"), std::string::npos);

  auto r = watch.cli({"release", "script:" + dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("scripts restored 1"), std::string::npos) << r.out << r.err;
  ASSERT_EQ(::lstat(script.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_FALSE(std::filesystem::exists(held));
  std::filesystem::remove(script);
}

// logrotate's default (rename) in the middle of a burst: Exim keeps writing to the renamed
// file until each process reopens the log by name; watch must drain mainlog.1 and then read the
// new mainlog from its start, losing no line and no arrival.
TEST(WatchOnRealExim, RenameRotationDuringBurstLosesNoLines) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  EximLab lab({.pid = false, .split_spool = false, .acl_includes = {}});
  int port = free_loopback_port();
  ASSERT_GT(port, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  Watch watch(lab, {"--from-start", "--metrics", "127.0.0.1:" + std::to_string(port)});
  const int kCount = 80;
  std::thread burst([&] {
    lab.play("script-burst",
             {"--count", std::to_string(kCount), "--parallel", "8", "--reject-pct", "0", "--defer-pct", "0"});
  });
  // Rotate once about a quarter of the burst has been accepted (bounded wait).
  bool rotated = false;
  for (int i = 0; i < 600 && !rotated; ++i) {
    if (count(sw::testing::read_file(lab.mainlog()), "U=userx1 P=local") >= kCount / 4) {
      rotated = std::rename(lab.mainlog().c_str(), (lab.mainlog() + ".1").c_str()) == 0;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  burst.join();
  ASSERT_TRUE(rotated);
  lab.settle();
  std::string old_log = sw::testing::read_file(lab.mainlog() + ".1");
  std::string new_log = sw::testing::read_file(lab.mainlog());
  size_t lines = count(old_log, "\n") + count(new_log, "\n");
  size_t arrivals = count(old_log, "U=userx1 P=local") + count(new_log, "U=userx1 P=local");
  EXPECT_EQ(arrivals, size_t(kCount));
  EXPECT_GT(count(new_log, "U=userx1 P=local"), 0u) << "the burst ended before the rotation";
  // Watch polls every 50 ms and refreshes its metrics every second: wait (bounded) until it
  // reports every line, then compare the arrivals it counted.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = sw::testing::run_command({"curl", "-sf", url}).out;
    if (metric(text, "spamwarden_log_lines_total") >= static_cast<long long>(lines)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(metric(text, "spamwarden_log_lines_total"), static_cast<long long>(lines)) << text;
  EXPECT_EQ(metric(text, "spamwarden_log_rotations_total"), 1) << text;
  EXPECT_EQ(metric(text, "spamwarden_messages_total{actor_type=\"local_user\"}"), static_cast<long long>(arrivals))
      << text;
  EXPECT_EQ(metric(text, "spamwarden_log_truncations_total"), 0) << text;
}

// A log without +pid (cPanel's default) pairs cwd= lines with arrivals by a guess. A script
// burst while a newsletter (its own limits raised, as an admin does) mails from a cron
// directory in the same seconds must never put the newsletter's user on hold: her arrivals
// take the script's cwd= lines now and then, but they contradict the home the script lies in.
// The wrong pairing is a matter of timing, hence several runs.
TEST(WatchOnRealExim, ScriptBurstWithoutPidNeverHoldsAConcurrentSender) {
  std::string why;
  if (!EximLab::available(&why)) GTEST_SKIP() << why;
  const std::string dir = "/home/userx1/public_html/wp-content/plugins/contact-form";
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    auto lab = contained_lab();
    std::ofstream(lab->dir() + "/watch.toml") << R"([actor."local_user:shopuser"]
windows = [ { seconds = 60, messages = 2000, recipients = 20000 } ]
[actor."sender:shopuser@host.lab.example"]
windows = [ { seconds = 60, messages = 2000, recipients = 20000 } ]
[actor."script:/tmp"]
windows = [ { seconds = 60, messages = 2000, recipients = 20000 } ]
[actor."script:)" + dir + R"("]
)" + kTripsOnItsEleventhMessage;
    Watch watch(*lab, {}, lab->dir() + "/watch.toml");
    std::thread newsletter([&] {
      lab->play("script-burst", {"--user", "shopuser", "--dir", "/tmp", "--count", "40", "--parallel", "6",
                                 "--reject-pct", "0", "--defer-pct", "0"});
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    lab->play("script-burst", {"--user", "userx1", "--dir", dir, "--count", "40", "--parallel", "6", "--reject-pct",
                               "0", "--defer-pct", "0"});
    newsletter.join();
    lab->settle();
    ASSERT_TRUE(wait_for_hold(watch, "script:" + dir, 5)) << sw::testing::read_file(lab->dir() + "/watch.err");
    std::string holds = watch.cli({"holds", "--json"}).out;
    EXPECT_EQ(holds.find("shopuser"), std::string::npos) << holds;
    EXPECT_NE(holds.find("\"local_user\": \"userx1\""), std::string::npos) << holds;
    std::string log = sw::testing::read_file(lab->mainlog());
    EXPECT_EQ(count(log, "U=shopuser P=local"), 40u);
    EXPECT_EQ(count(log, "spamwarden: held local submission by shopuser"), 0u) << "her mail was frozen";
  }
}

}  // namespace
