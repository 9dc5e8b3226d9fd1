// A real Exim (the lab) with the shipped content-filter snippets, `spam = nobody` against the
// spamd listener and a scanner trained on one fold of the corpus's train half; the samples
// come from the other fold of the train half.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <cmath>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include "classify/scanner.h"
#include "daemon/spamd_listener.h"
#include "daemon/spamd_session.h"
#include "eximlab.h"
#include "base/test_files.h"

namespace sw::daemon {
namespace {

using testing::EximLab;

// Real messages of the public corpus kept beside the classifier's tests (charsets, HTML only,
// attachments): the model learns them and they are sent, so every run, CI's included, has the
// same spam and ham. The test is about Exim and the protocol, not about the model's quality.
std::vector<std::pair<bool, std::string>> fixtures() {
  std::vector<std::pair<bool, std::string>> out;
  std::string dir = std::string(SW_SOURCE_DIR) + "/src/classify/testdata/";
  for (const char* name :
       {"attachment_spam.eml", "big5_images_spam.eml", "plain_ham.eml", "latin1_ham.eml", "html_only_ham.eml"})
    out.emplace_back(std::string_view(name).find("_spam") != std::string_view::npos, dir + name);
  return out;
}

// The message as an MTA receives it: without the mbox "From " line, lines short enough for SMTP.
std::string as_smtp(std::string raw) {
  if (raw.starts_with("From ")) raw.erase(0, raw.find('\n') + 1);
  return raw;
}
bool smtp_safe(const std::string& message) {
  std::istringstream in(message);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 900) return false;
  }
  return message.find('\0') == std::string::npos;
}

// One SMTP transaction to the lab from an outside address; returns the final reply line.
std::string send_smtp(int port, const std::string& message, const std::string& rcpt = "sales@acme-shop.example",
                      const std::string& login = "") {
  std::string script = R"(
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("mx.outside.example")
if sys.argv[3]:
    user, password = sys.argv[3].split(":", 1)
    s.login(user, password)
try:
    s.sendmail("sender@outside.example", [sys.argv[2]], sys.stdin.buffer.read())
    print("250 accepted")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode(errors="replace"))
s.quit()
)";
  auto result = testing::run_command({"python3", "-c", script, std::to_string(port), rcpt, login}, message);
  return result.out + result.err;
}

struct Recorded {
  std::mutex mutex;
  std::vector<classify::Verdict> verdicts;
  std::vector<std::string> held;
};

class SpamdOnRealEximTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scanner_ = classify::Scanner::in_memory().release();
    for (const auto& [spam, path] : fixtures()) scanner_->learn(sw::testing::file_bytes(path), spam);
    scanner_->refit();
  }
  static void TearDownTestSuite() { delete scanner_; }

  void SetUp() override {
    std::string why;
    if (!EximLab::available(&why)) GTEST_SKIP() << why;
    SpamdEngine engine;
    engine.scan = [this](std::string_view message) {
      classify::Verdict verdict = scanner_->scan(message);
      std::lock_guard lock(recorded_.mutex);
      recorded_.verdicts.push_back(verdict);
      return verdict;
    };
    engine.hold = [this](const detect::ActorRef& actor, const classify::Verdict&) {
      std::lock_guard lock(recorded_.mutex);
      recorded_.held.push_back(detect::format_actor_ref(actor));
    };
    SpamdOptions options;
    options.hold_score = 5;
    // As serve's default spamd_hold_users: root and Exim's own user, whose receiving process
    // asks over loopback TCP (its uid read from the kernel's socket table).
    options.hold_uids = std::vector<uint32_t>{0};
    for (const char* exim : {"Debian-exim", "mailnull", "exim"})
      if (const passwd* pw = ::getpwnam(exim)) options.hold_uids->push_back(pw->pw_uid);
    factory_ = std::make_unique<SpamdSessionFactory>(engine, options);
    listener_ = SpamdListener::start("127.0.0.1:0", *factory_, {}, &why);
    ASSERT_TRUE(listener_) << why;
    std::string contrib = std::string(SW_SOURCE_DIR) + "/contrib/exim/";
    lab_ = std::make_unique<EximLab>(
        testing::EximLabOptions{.pid = true,
                                .split_spool = false,
                                .acl_includes = {"data:" + contrib + "acl_smtp_data_content.inc",
                                                 "data:" + contrib + "acl_smtp_data_outbound.inc",
                                                 "not_smtp:" + contrib + "acl_not_smtp_content.inc"}});
    set_reject_level(9990);
  }

  // main.inc: the lab's spamd_address (the listener's, or `address`) and the reject level, then
  // a reload.
  void set_reject_level(int score_int, const std::string& address = "") {
    std::ofstream(lab_->dir() + "/main.inc")
        << fmt::format("spamd_address = {}\nSPAMWARDEN_SPAM_REJECT = {}\n",
                       address.empty() ? fmt::format("127.0.0.1 {}", listener_->port()) : address, score_int);
    auto starts = [this] {
      std::string log = testing::read_file(lab_->mainlog());
      size_t n = 0;
      for (size_t at = 0; (at = log.find("daemon started", at)) != std::string::npos; ++at) ++n;
      return n;
    };
    size_t before = starts();
    auto r = testing::run_command({EximLab::script(), "reload", lab_->dir()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Exim's daemon acts on SIGHUP when its accept loop wakes: a connection wakes it.
    for (int i = 0; i < 100 && starts() == before; ++i) {
      testing::run_command({"python3", "-c",
                            "import socket,sys; s=socket.create_connection(('127.0.0.1', int(sys.argv[1]))); s.close()",
                            std::to_string(lab_->port())});
      ::usleep(200'000);
    }
    ASSERT_GT(starts(), before) << "the lab's Exim did not reload";
  }

  // The first fixture of this class whose verdict agrees with its label.
  std::string sample(bool spam) {
    for (const auto& [is_spam, path] : fixtures()) {
      if (is_spam != spam) continue;
      std::string message = as_smtp(sw::testing::file_bytes(path));
      if (!smtp_safe(message)) continue;
      classify::Verdict v = scanner_->scan(message);
      if (v.is_spam == spam && (!spam || v.score < 99)) return message;
    }
    return "";
  }

  classify::Verdict last_verdict() {
    std::lock_guard lock(recorded_.mutex);
    return recorded_.verdicts.empty() ? classify::Verdict{} : recorded_.verdicts.back();
  }
  std::string mailbox() { return testing::read_file(lab_->dir() + "/mail/sales@acme-shop.example"); }

  static classify::Scanner* scanner_;
  Recorded recorded_;
  std::unique_ptr<SpamdSessionFactory> factory_;
  std::unique_ptr<SpamdListener> listener_;
  std::unique_ptr<EximLab> lab_;
};
classify::Scanner* SpamdOnRealEximTest::scanner_ = nullptr;

TEST_F(SpamdOnRealEximTest, SpamIsMarkedWithTheScoreTheDaemonGaveAndHamPasses) {
  std::string spam = sample(true), ham = sample(false);
  ASSERT_FALSE(spam.empty());
  ASSERT_FALSE(ham.empty());

  std::string reply = send_smtp(lab_->port(), spam);
  EXPECT_NE(reply.find("250"), std::string::npos) << reply;
  lab_->settle();
  classify::Verdict verdict = last_verdict();
  ASSERT_TRUE(verdict.is_spam);
  std::string box = mailbox();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(box, m, std::regex("X-Spam-Score: (-?[0-9.]+) \\(([-+/]+)\\)"))) << box.substr(0, 2000);
  EXPECT_NEAR(std::stod(m[1]), verdict.score, 0.051);
  double printed = std::stod(m[1]);  // Exim draws the bar from the score it read
  EXPECT_EQ(m[2].str(), std::string(std::min(50, int(std::fabs(printed))), printed > 0 ? '+' : '-'));
  EXPECT_NE(box.find("X-Spam-Flag: YES"), std::string::npos);
  ASSERT_FALSE(verdict.reasons.empty());
  EXPECT_NE(box.find(proto::spamd::symbol_name(verdict.reasons[0].name)), std::string::npos)
      << "the report names the strongest reason";

  size_t before = box.size();
  EXPECT_NE(send_smtp(lab_->port(), ham).find("250"), std::string::npos);
  lab_->settle();
  std::string ham_part = mailbox().substr(before);
  EXPECT_NE(ham_part.find("X-Spam-Score: "), std::string::npos);
  EXPECT_EQ(ham_part.find("X-Spam-Flag: YES"), std::string::npos) << ham_part.substr(0, 1500);
  EXPECT_FALSE(last_verdict().is_spam);
}

TEST_F(SpamdOnRealEximTest, SpamAboveTheSecondThresholdIsRejectedAtData) {
  std::string spam = sample(true);
  ASSERT_FALSE(spam.empty());
  set_reject_level(50);
  std::string reply = send_smtp(lab_->port(), spam);
  EXPECT_NE(reply.find("550 Message rejected as spam (score "), std::string::npos) << reply;
  EXPECT_NE(reply.find(proto::spamd::format_score(last_verdict().score)), std::string::npos) << reply;
}

TEST_F(SpamdOnRealEximTest, DaemonStoppedMailIsStillAccepted) {
  std::string spam = sample(true);
  listener_->stop();
  std::string reply = send_smtp(lab_->port(), spam);
  EXPECT_NE(reply.find("250"), std::string::npos) << reply;
  lab_->settle();
  std::string box = mailbox();
  EXPECT_NE(box.find("Subject:"), std::string::npos) << "delivered unscanned";
  EXPECT_EQ(box.find("X-Spam-Score:"), std::string::npos);
  std::string panic = testing::read_file(lab_->dir() + "/log/paniclog");
  EXPECT_NE(panic.find("spamd"), std::string::npos) << panic;
}

// A scanner that accepts connections and never answers (kill -STOP, a stuck disk): the shipped
// snippet asks once, so the message waits one tmo= and is accepted unscanned (it asked twice,
// two of Exim's 2-minute defaults, before). The same message to the answering listener first
// gives the time the rest of the transaction takes on this (perhaps busy) machine.
TEST_F(SpamdOnRealEximTest, AHungScannerCostsOneTimeout) {
  constexpr double kTimeout = 4;
  std::string spam = sample(true);
  auto timed_send = [&] {
    auto began = std::chrono::steady_clock::now();
    std::string reply = send_smtp(lab_->port(), spam);
    EXPECT_NE(reply.find("250"), std::string::npos) << reply;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  double answered = timed_send();
  int hung = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(hung, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  ASSERT_EQ(::bind(hung, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(hung, 16), 0);  // the kernel completes connections; nobody reads them
  ASSERT_EQ(::getsockname(hung, reinterpret_cast<sockaddr*>(&at), &len), 0);
  set_reject_level(9990, fmt::format("127.0.0.1 {} tmo={}s", ntohs(at.sin_port), kTimeout));
  double waited = timed_send() - answered;
  ::close(hung);
  EXPECT_GE(waited, 0.75 * kTimeout) << "the scan was asked and waited for";
  EXPECT_LT(waited, 1.5 * kTimeout) << "asked once, not twice";
  lab_->settle();
  std::string box = mailbox();
  size_t last = box.rfind("\nFrom ");
  EXPECT_EQ(box.find("X-Spam-Score:", last == std::string::npos ? 0 : last), std::string::npos)
      << "the second copy was accepted unscanned";
}

// The bounces Exim makes and anything else Exim's own user hands in are not scanned by
// acl_not_smtp_content.inc, so nothing of theirs can hold Exim's user (whose hold would select
// every message Exim took over SMTP); a user's own spam through sendmail is, and holds it, even
// sent with an empty sender as if it were a bounce.
TEST_F(SpamdOnRealEximTest, LocalSpamHoldsItsUserAndEximsOwnMailIsNotScanned) {
  std::string spam = sample(true);
  std::string message = "To: someone@remote.example\n" + spam;
  lab_->sendmail_as("Debian-exim", "/", message, {"-t", "-i", "-f", "<>"});
  lab_->sendmail_as("Debian-exim", "/", message, {"-t", "-i", "-f", "postmaster@lab.example"});
  {
    std::lock_guard lock(recorded_.mutex);
    EXPECT_TRUE(recorded_.verdicts.empty()) << "Exim's own mail was scanned";
  }
  lab_->sendmail_as("userx2", "/home/userx2", message, {"-t", "-i", "-f", "<>"});  // a script posing as a bounce
  std::lock_guard lock(recorded_.mutex);
  EXPECT_EQ(recorded_.verdicts.size(), 1u);
  ASSERT_EQ(recorded_.held.size(), 1u);
  EXPECT_EQ(recorded_.held[0], "local_user:userx2");
}

TEST_F(SpamdOnRealEximTest, OutboundSpamFromAnAccountIsFrozenAndTheAccountHeld) {
  std::string spam = sample(true);
  std::string reply = send_smtp(lab_->port(), spam, "someone@remote.example", "sales@acme-shop.example:secret");
  EXPECT_NE(reply.find("250"), std::string::npos) << reply;
  std::lock_guard lock(recorded_.mutex);
  ASSERT_EQ(recorded_.held.size(), 1u);
  EXPECT_EQ(recorded_.held[0], "auth_account:sales@acme-shop.example");
  EXPECT_NE(testing::read_file(lab_->mainlog()).find("spamwarden: froze outbound spam from sales@acme-shop.example"),
            std::string::npos);
}

// The same through Exim's rspamd form (spamd_address ... variant=rspamd), which sends no `spam =`
// user: its User header is $authenticated_id, and the request carries the client's IP.
TEST_F(SpamdOnRealEximTest, TheRspamdFormHoldsTheAccountToo) {
  std::string spam = sample(true);
  set_reject_level(9990, fmt::format("127.0.0.1 {} variant=rspamd", listener_->port()));
  std::string reply = send_smtp(lab_->port(), spam, "someone@remote.example", "sales@acme-shop.example:secret");
  EXPECT_NE(reply.find("250"), std::string::npos) << reply;
  std::lock_guard lock(recorded_.mutex);
  ASSERT_EQ(recorded_.held.size(), 1u);
  EXPECT_EQ(recorded_.held[0], "auth_account:sales@acme-shop.example");
}

}  // namespace
}  // namespace sw::daemon
