// The spamd adapter behind a real socket, driven by SpamAssassin's own spamc and by raw
// clients that misbehave. The scorer here is a fixed rule (the test is about the protocol).
#include "daemon/spamd_session.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/file_lock.h"
#include "base/temp_dir.h"
#include "classify/scanner.h"
#include "daemon/action_feedback.h"
#include "daemon/spamd_client.h"
#include "daemon/spamd_listener.h"

namespace sw::daemon {
namespace {

struct Recorder {
  std::mutex mutex;
  std::vector<std::pair<std::string, bool>> learned;
  std::vector<std::string> log;
};

SpamdEngine rule_engine(Recorder* recorder) {
  SpamdEngine engine;
  engine.scan = [](std::string_view message) {
    classify::Verdict verdict;
    bool pills = message.find("cheap pills") != std::string_view::npos;
    verdict.score = pills ? 8.34 : -1.5;
    verdict.is_spam = pills;
    verdict.reasons = {{pills ? "word:pills" : "word:meeting", pills ? 6.0 : -1.0}, {"HDR_NO_DATE", 0.5}};
    return verdict;
  };
  engine.learn = [recorder](std::string_view message, bool spam) {
    std::lock_guard lock(recorder->mutex);
    recorder->learned.emplace_back(std::string(message), spam);
    return classify::Taught::Learned;
  };
  engine.log = [recorder](std::string_view line) {
    std::lock_guard lock(recorder->mutex);
    recorder->log.emplace_back(line);
  };
  return engine;
}

struct Command {
  int exit_code;
  std::string out;
};
Command run(const std::string& command, const std::string& input_file) {
  std::string line = command + " < " + input_file + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  std::string out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// Sends, optionally half-closes, and reads until the server closes (or 10 s pass).
std::string exchange(int port, std::string_view request, bool half_close) {
  int fd = connect_to(port);
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buffer[4096];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 10'000) > 0) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

class SpamdSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    factory_ = std::make_unique<SpamdSessionFactory>(rule_engine(&recorder_));
    std::string error;
    ListenerOptions options;
    options.deadline_ms = 1500;
    listener_ = SpamdListener::start("127.0.0.1:0", *factory_, options, &error);
    ASSERT_TRUE(listener_) << error;
    spam_file_ = dir_.path + "/spam.eml";
    ham_file_ = dir_.path + "/ham.eml";
    std::ofstream(spam_file_) << "Subject: offer\n\nBuy cheap pills now\n";
    std::ofstream(ham_file_) << "Subject: minutes\n\nThe meeting moved to 3pm\n";
  }
  std::string spamc(const std::string& args) {
    return "spamc -d 127.0.0.1 -p " + std::to_string(listener_->port()) + " " + args;
  }

  Recorder recorder_;
  std::unique_ptr<SpamdSessionFactory> factory_;
  std::unique_ptr<SpamdListener> listener_;
  TempDir dir_;
  std::string spam_file_, ham_file_;
};

TEST_F(SpamdSessionTest, SpamcCheckPrintsScoreAndExitsOneForSpam) {
  Command spam = run(spamc("-c"), spam_file_);
  EXPECT_EQ(spam.exit_code, 1) << spam.out;
  EXPECT_EQ(spam.out, "8.3/5.0\n");
  Command ham = run(spamc("-c"), ham_file_);
  EXPECT_EQ(ham.exit_code, 0) << ham.out;
  EXPECT_EQ(ham.out, "-1.5/5.0\n");
}

TEST_F(SpamdSessionTest, SpamcReportNamesTheStrongestReasons) {
  Command report = run(spamc("-R"), spam_file_);
  EXPECT_EQ(report.exit_code, 0) << report.out;
  EXPECT_NE(report.out.find("8.3 points, 5.0 required"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find(" 6.0 word:pills"), std::string::npos) << report.out;
  Command symbols = run(spamc("-y"), spam_file_);
  EXPECT_EQ(symbols.out, "word:pills,HDR_NO_DATE");
}

TEST_F(SpamdSessionTest, SpamcProcessAddsTheStatusHeaders) {
  Command processed = run(spamc(""), spam_file_);
  EXPECT_TRUE(processed.out.starts_with("X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=8.3 required=5.0"))
      << processed.out;
  EXPECT_TRUE(processed.out.ends_with("Subject: offer\n\nBuy cheap pills now\n"));
}

TEST_F(SpamdSessionTest, SpamcLearnTellsTheScanner) {
  Command learned = run(spamc("-L spam"), spam_file_);
  EXPECT_EQ(learned.exit_code, 0) << learned.out;
  EXPECT_NE(learned.out.find("Message successfully un/learned"), std::string::npos) << learned.out;
  Command ham = run(spamc("-L ham"), ham_file_);
  EXPECT_EQ(ham.exit_code, 0) << ham.out;
  std::lock_guard lock(recorder_.mutex);
  ASSERT_EQ(recorder_.learned.size(), 2u);
  EXPECT_EQ(recorder_.learned[0], std::make_pair(std::string("Subject: offer\n\nBuy cheap pills now\n"), true));
  EXPECT_FALSE(recorder_.learned[1].second);
}

// A listener over a real model, in memory, and spamc run on one message against it.
class SpamdLearning : public ::testing::Test {
 protected:
  void SetUp() override {
    SpamdEngine engine;
    engine.scan = [this](std::string_view message) { return scanner->scan(message); };
    engine.learn = [this](std::string_view message, bool spam) { return scanner->learn(message, spam); };
    engine.forget = [this](std::string_view message) { return scanner->forget(message); };
    factory_ = std::make_unique<SpamdSessionFactory>(engine);
    std::string error;
    listener_ = SpamdListener::start("127.0.0.1:0", *factory_, {}, &error);
    ASSERT_TRUE(listener_) << error;
    file_ = dir_.path + "/offer.eml";
    std::ofstream(file_) << "Subject: offer\n\nBuy cheap pills now\n";
  }
  Command spamc(const std::string& args) {
    return run("spamc -d 127.0.0.1 -p " + std::to_string(listener_->port()) + " " + args, file_);
  }
  std::unique_ptr<classify::Scanner> scanner = classify::Scanner::in_memory();

 private:
  std::unique_ptr<SpamdSessionFactory> factory_;
  std::unique_ptr<SpamdListener> listener_;
  TempDir dir_;
  std::string file_;
};

// spamc -L against the real model: a message learned twice is "already learned" (exit 0, as
// with SpamAssassin's spamd), another class moves it, and forget, which sends no class, works.
TEST_F(SpamdLearning, SpamcLearnsOnceMovesAndForgets) {
  auto said = [](const Command& c, const char* what) {
    return c.exit_code == 0 && c.out.find(what) != std::string::npos;
  };
  EXPECT_TRUE(said(spamc("-L spam"), "Message successfully un/learned"));
  Command again = spamc("-L spam");
  EXPECT_TRUE(said(again, "Message was already un/learned")) << again.out;
  EXPECT_EQ(scanner->spam_learned(), 1u);
  EXPECT_TRUE(said(spamc("-L ham"), "Message successfully un/learned"));
  EXPECT_EQ(scanner->spam_learned(), 0u);
  EXPECT_EQ(scanner->ham_learned(), 1u);
  Command forgot = spamc("-L forget");
  EXPECT_TRUE(said(forgot, "Message successfully un/learned")) << forgot.out;
  EXPECT_EQ(scanner->ham_learned(), 0u);
  EXPECT_TRUE(said(spamc("-L forget"), "Message was already un/learned"));
}

// [content] spamd unset: the CLI's TELLs go where the running serve listens, as its model lock
// says; a configured address wins; with no serve running, the default socket.
TEST(SpamdClient, TellsGoToTheRunningServesListener) {
  TempDir dir;
  std::string lock_path = classify::Scanner::lock_path(dir.path), error;
  std::optional<FileLock::Holder> holder;
  EXPECT_EQ(feedback_spamd_address("", dir.path), kDefaultSpamdSocket);
  {
    auto serve = FileLock::try_take(lock_path, serve_lock_note("127.0.0.1:7830"), &holder, &error);
    ASSERT_TRUE(serve) << error;
    auto running = running_serve(dir.path);
    ASSERT_TRUE(running);
    EXPECT_EQ(running->pid, std::to_string(::getpid()));
    EXPECT_EQ(feedback_spamd_address("", dir.path), "127.0.0.1:7830");
    EXPECT_EQ(feedback_spamd_address("/run/other.sock", dir.path), "/run/other.sock");
  }
  EXPECT_FALSE(running_serve(dir.path));  // stopped: its note is stale
  EXPECT_EQ(feedback_spamd_address("", dir.path), kDefaultSpamdSocket);
}

// spamc -C report sends Set: local,remote as spam; -C revoke sends Set: local as ham with
// Remove: remote (the report withdrawn from collaborative databases). Here both teach the one
// model: a revoked message ends learned as ham, not learned and forgotten again.
TEST_F(SpamdLearning, SpamcReportAndRevokeLeaveTheMessageLearned) {
  spamc("-C report");
  EXPECT_EQ(scanner->spam_learned(), 1u);
  spamc("-C revoke");
  EXPECT_EQ(scanner->spam_learned(), 0u);
  EXPECT_EQ(scanner->ham_learned(), 1u);  // moved, not forgotten
  Command forgot = spamc("-L forget");
  EXPECT_NE(forgot.out.find("Message successfully un/learned"), std::string::npos) << forgot.out;
  EXPECT_EQ(scanner->ham_learned(), 0u);
}

TEST_F(SpamdSessionTest, SpamcPing) {
  Command ping = run(spamc("-K"), ham_file_);
  EXPECT_EQ(ping.exit_code, 0) << ping.out;
}

TEST_F(SpamdSessionTest, EximsRspamdRequestIsAnsweredWithoutHalfClose) {
  std::string message = "Subject: x\r\n\r\ncheap pills\r\n";
  std::string reply =
      exchange(listener_->port(),
               "CHECK RSPAMC/1.3\r\nContent-length: " + std::to_string(message.size()) +
                   "\r\nQueue-Id: 1a\r\nFrom: <a@b>\r\nRecipient-Number: 1\r\nRcpt: <c@d>\r\n\r\n" + message,
               /*half_close=*/false);
  EXPECT_TRUE(reply.starts_with("RSPAMD/1.3 0 EX_OK\r\nMetric: default; True; 8.34 / 5.00 / 15.00\r\n")) << reply;
}

TEST_F(SpamdSessionTest, ShortBodyThenHalfCloseIsRefusedAndLogged) {
  std::string reply = exchange(listener_->port(), "REPORT SPAMC/1.2\r\nContent-length: 500\r\n\r\nonly this", true);
  EXPECT_EQ(reply, "SPAMD/1.1 65 EX_DATAERR\r\n");
  std::lock_guard lock(recorder_.mutex);
  ASSERT_FALSE(recorder_.log.empty());
  EXPECT_NE(recorder_.log.back().find("9 of its 500 message bytes"), std::string::npos) << recorder_.log.back();
}

TEST_F(SpamdSessionTest, ClientThatNeverFinishesIsClosedAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  std::string reply = exchange(listener_->port(), "REPORT SPAMC/1.2\r\nContent-length: 500\r\n\r\nonly this", false);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply, "");  // closed unanswered: Exim cannot parse it and `/defer_ok` accepts the mail
  EXPECT_GE(waited, std::chrono::milliseconds(1400));
  EXPECT_LT(waited, std::chrono::milliseconds(5000));
}

TEST_F(SpamdSessionTest, GarbageGetsAProtocolErrorAndTheConnectionCloses) {
  EXPECT_EQ(exchange(listener_->port(), "GET / HTTP/1.0\r\n\r\n", false), "SPAMD/1.1 76 EX_PROTOCOL\r\n");
  EXPECT_EQ(exchange(listener_->port(), std::string(100'000, 'A'), false), "SPAMD/1.1 76 EX_PROTOCOL\r\n");
}

TEST_F(SpamdSessionTest, ScannerExceptionBecomesASoftwareError) {
  SpamdEngine engine;
  engine.scan = [](std::string_view) -> classify::Verdict { throw std::runtime_error("model not loaded"); };
  std::vector<std::string> log;
  engine.log = [&log](std::string_view line) { log.emplace_back(line); };
  SpamdSessionFactory factory(engine);
  auto session = factory.open("test");
  std::string out;
  EXPECT_FALSE(session->on_input("CHECK SPAMC/1.2\r\nContent-length: 1\r\n\r\nx", &out));
  EXPECT_EQ(out, "SPAMD/1.1 70 EX_SOFTWARE\r\n");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "spamd test: scanner failed: model not loaded");
}

TEST_F(SpamdSessionTest, TellWithoutALearnerIsUnavailable) {
  SpamdEngine engine = rule_engine(&recorder_);
  engine.learn = nullptr;
  SpamdSessionFactory factory(engine);
  auto session = factory.open("test");
  std::string out;
  session->on_input("TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 1\r\n\r\nx", &out);
  EXPECT_EQ(out, "SPAMD/1.1 69 EX_UNAVAILABLE\r\n");
}

// Bad requests are anyone's to send by the thousand: the 1st, 2nd, 4th, 8th... are logged, with
// the count so far, and every one is answered.
TEST_F(SpamdSessionTest, BadRequestsAreLoggedThinned) {
  SpamdSessionFactory factory(rule_engine(&recorder_));
  for (int i = 0; i < 100; ++i) {
    std::string out;
    factory.open("test")->on_input("GARBAGE\r\n\r\n", &out);
    EXPECT_TRUE(out.starts_with("SPAMD/1.")) << out;
  }
  ASSERT_EQ(recorder_.log.size(), 7u);  // 1, 2, 4, 8, 16, 32, 64
  EXPECT_NE(recorder_.log[6].find("(64 refusals so far)"), std::string::npos) << recorder_.log[6];
}

// Only the users in tell_uids may teach; a peer whose user is unknown may not. Scans are
// answered for everyone.
TEST_F(SpamdSessionTest, TellIsRefusedToUsersNotAllowed) {
  SpamdOptions options;
  options.tell_uids = std::vector<uint32_t>{0, 110};
  SpamdSessionFactory factory(rule_engine(&recorder_), options);
  const std::string tell = "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 1\r\n\r\nx";
  auto reply_for = [&](PeerUid uid, std::string_view request) {
    auto session = factory.open_from("test", std::move(uid));
    std::string out;
    session->on_input(request, &out);
    return out;
  };
  EXPECT_EQ(reply_for([] { return 1000u; }, tell), "SPAMD/1.1 77 EX_NOPERM\r\n");
  EXPECT_EQ(reply_for([] { return std::nullopt; }, tell), "SPAMD/1.1 77 EX_NOPERM\r\n");
  EXPECT_EQ(reply_for(nullptr, tell), "SPAMD/1.1 77 EX_NOPERM\r\n");
  EXPECT_EQ(recorder_.learned.size(), 0u);
  EXPECT_EQ(reply_for([] { return 110u; }, tell), "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nDidSet: local\r\n\r\n");
  EXPECT_EQ(recorder_.learned.size(), 1u);
  std::string check = reply_for([] { return 1000u; }, "CHECK SPAMC/1.5\r\nContent-length: 11\r\n\r\ncheap pills");
  EXPECT_TRUE(check.starts_with("SPAMD/1.1 0 EX_OK")) << check;
  // Three refusals, logged thinned: the 1st and the 2nd.
  ASSERT_EQ(recorder_.log.size(), 2u);
  EXPECT_EQ(recorder_.log[0],
            "spamd test: TELL refused: uid 1000 may not teach the content model ([serve] spamd_tell_users; 1 refusals "
            "so far)");
  EXPECT_EQ(recorder_.log[1],
            "spamd test: TELL refused: the peer's user cannot be known ([serve] spamd_tell_users; 2 refusals so far)");
}

// serve's SIGHUP: new connections follow the new list; a session already open keeps its own.
TEST_F(SpamdSessionTest, TellUsersChangeForNewConnections) {
  SpamdSessionFactory factory(rule_engine(&recorder_));  // anyone
  const std::string tell = "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 1\r\n\r\nx";
  auto before = factory.open_from("test", [] { return 1000u; });
  factory.set_peer_uids(std::vector<uint32_t>{0}, std::nullopt);
  auto after = factory.open_from("test", [] { return 1000u; });
  std::string out_before, out_after;
  before->on_input(tell, &out_before);
  after->on_input(tell, &out_after);
  EXPECT_TRUE(out_before.starts_with("SPAMD/1.1 0 EX_OK")) << out_before;
  EXPECT_EQ(out_after, "SPAMD/1.1 77 EX_NOPERM\r\n");
  factory.set_peer_uids(std::nullopt, std::nullopt);
  std::string out_again;
  factory.open_from("test", [] { return 1000u; })->on_input(tell, &out_again);
  EXPECT_TRUE(out_again.starts_with("SPAMD/1.1 0 EX_OK")) << out_again;
}

// The same through real sockets and spamc: root's spamc -L teaches, nobody's is refused, over
// loopback TCP (the owner read from the kernel's socket table) and a Unix socket (SO_PEERCRED).
TEST_F(SpamdSessionTest, SpamcLearnAsAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run spamc as another user";
  SpamdOptions options;
  options.tell_uids = std::vector<uint32_t>{0};
  SpamdSessionFactory factory(rule_engine(&recorder_), options);
  std::string error, socket = dir_.path + "/spamd.sock";
  ASSERT_EQ(::chmod(dir_.path.c_str(), 0711), 0);  // nobody reaches the socket as Exim reaches /run/spamwarden's
  auto tcp = SpamdListener::start("127.0.0.1:0", factory, {}, &error);
  ASSERT_TRUE(tcp) << error;
  auto unix_socket = SpamdListener::start(socket, factory, {}, &error);
  ASSERT_TRUE(unix_socket) << error;
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  for (const std::string& to : {"-d 127.0.0.1 -p " + std::to_string(tcp->port()), "-U " + socket}) {
    Command refused = run(as_nobody + "spamc " + to + " -L spam", spam_file_);
    EXPECT_NE(refused.exit_code, 0) << to << ": " << refused.out;
    EXPECT_EQ(refused.out.find("successfully"), std::string::npos) << refused.out;
    Command checked = run(as_nobody + "spamc " + to + " -c", spam_file_);
    EXPECT_EQ(checked.out, "8.3/5.0\n") << to;
    Command taught = run("spamc " + to + " -L spam", spam_file_);
    EXPECT_EQ(taught.exit_code, 0) << to << ": " << taught.out;
  }
  std::lock_guard lock(recorder_.mutex);
  EXPECT_EQ(recorder_.learned.size(), 2u);  // root's two, none of nobody's
  size_t refusals = 0;
  for (const std::string& line : recorder_.log) refusals += line.find("uid 65534 may not teach") != std::string::npos;
  EXPECT_EQ(refusals, 2u);
}

// serve binds as root and serves after dropping its privileges: an opened listener takes no
// connection (nor parses a message) until run(); one made meanwhile waits in the backlog.
TEST_F(SpamdSessionTest, AnOpenedListenerAnswersOnlyOnceRun) {
  SpamdSessionFactory factory(rule_engine(&recorder_), {});
  std::string error;
  auto listener = SpamdListener::open("127.0.0.1:0", factory, {}, &error);
  ASSERT_TRUE(listener) << error;
  EXPECT_EQ(listener->threads(), 0);
  int fd = connect_to(listener->port());
  std::string_view ping = "PING SPAMC/1.5\r\n\r\n";
  ASSERT_EQ(::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL), static_cast<ssize_t>(ping.size()));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 300), 0) << "answered before run()";
  listener->run();
  std::string reply;
  char buffer[256];
  while (::poll(&p, 1, 5'000) > 0) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_NE(reply.find("PONG"), std::string::npos) << reply;
}

// A client that sends its TELL and closes at once (without waiting for the answer) leaves an
// orphaned socket: once the listener's kernel has acknowledged its FIN it is a TIME_WAIT-style
// row in /proc/net/tcp, which the kernel prints with uid 0 (before Linux 6.17 every orphaned
// socket reads as uid 0). Such a TELL from nobody must not be taken as root's. A body of a few
// MB keeps the listener reading after the FIN was acknowledged; a few tries are enough.
TEST_F(SpamdSessionTest, ATellFromAClientThatClosedIsNotTakenAsRoots) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another user";
  SpamdOptions options;
  options.tell_uids = std::vector<uint32_t>{0};
  SpamdSessionFactory factory(rule_engine(&recorder_), options);
  std::string error;
  auto tcp = SpamdListener::start("127.0.0.1:0", factory, {}, &error);
  ASSERT_TRUE(tcp) << error;
  std::string body = "Subject: offer\n\nBuy cheap pills now\n" + std::string(2'000'000, 'y');
  std::string request = fmt::format(
      "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: {}\r\n\r\n{}", body.size(), body);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(tcp->port()));
  for (int attempt = 0; attempt < 20; ++attempt) {
    pid_t child = ::fork();
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(2);
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) _exit(3);
      for (size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) _exit(4);
        sent += size_t(n);
      }
      ::close(fd);  // no answer awaited
      _exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::lock_guard lock(recorder_.mutex);
  EXPECT_EQ(recorder_.learned.size(), 0u) << "TELLs from nobody taken as root's";
}

TEST_F(SpamdSessionTest, RemovedMailIsTaughtAsSpamFromItsSpoolFiles) {
  std::string header = std::string(SW_SOURCE_DIR) + "/src/spool/testdata/local-php.H";
  std::string data = dir_.path + "/1xV9dx-0001XE-08-D";
  std::ofstream(data) << "1xV9dx-0001XE-08-D\nBuy cheap pills now\n";
  std::string message, error;
  ASSERT_TRUE(read_spool_message(header, data, 512 * 1024, &message, &error)) << error;
  EXPECT_NE(message.find("Subject: Cheap pills\n"), std::string::npos);
  EXPECT_EQ(message.find("X-Remove-Me"), std::string::npos);  // a deleted header is not part of the message
  EXPECT_TRUE(message.ends_with("\n\nBuy cheap pills now\n")) << message;

  std::string address = "127.0.0.1:" + std::to_string(listener_->port());
  FeedbackResult fed = teach_spool_files(address, {{header, data}, {header, dir_.path + "/missing-D"}}, true);
  EXPECT_EQ(fed.learned, 1u);
  ASSERT_EQ(fed.errors.size(), 1u);
  EXPECT_NE(fed.errors[0].find("missing-D"), std::string::npos);
  std::lock_guard lock(recorder_.mutex);
  ASSERT_EQ(recorder_.learned.size(), 1u);
  EXPECT_EQ(recorder_.learned[0].first, message);
  EXPECT_TRUE(recorder_.learned[0].second);
}

TEST(SpamdFeedbackTest, DaemonDownStopsAfterTheFirstMessage) {
  std::string file = std::string(SW_SOURCE_DIR) + "/src/spool/testdata/local-php.H";
  FeedbackResult fed = teach_spool_files("127.0.0.1:1", {{file, file}, {file, file}}, false);
  EXPECT_EQ(fed.learned, 0u);
  ASSERT_EQ(fed.errors.size(), 1u);
  EXPECT_TRUE(fed.errors[0].starts_with("cannot connect to the spamd listener 127.0.0.1:1")) << fed.errors[0];
}

// A rule engine whose holds are recorded, holding at score 8.
struct SpamdHoldTest : ::testing::Test {
  SpamdEngine holding_engine() {
    SpamdEngine engine = rule_engine(&recorder);
    engine.hold = [this](const detect::ActorRef& actor, const classify::Verdict&) {
      held.push_back(detect::format_actor_ref(actor));
    };
    return engine;
  }
  Recorder recorder;
  std::vector<std::string> held;
};

TEST_F(SpamdHoldTest, SpammyOutboundMailHoldsTheActorNamedInUser) {
  SpamdOptions options;
  options.hold_score = 8;
  SpamdSessionFactory factory(holding_engine(), options);
  auto ask = [&factory](std::string_view user, std::string_view body) {
    std::string request =
        fmt::format("REPORT SPAMC/1.2\r\nUser: {}\r\nContent-length: {}\r\n\r\n{}", user, body.size(), body);
    std::string out;
    factory.open("test")->on_input(request, &out);
    return out;
  };
  ask("auth=sales@acme-shop.example", "cheap pills");
  ask("user=userx1", "the meeting");  // not spammy: no hold
  ask("nobody", "cheap pills");       // inbound: no actor
  ask("bogus=thing", "cheap pills");  // not an actor type
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0], "auth_account:sales@acme-shop.example");
  EXPECT_EQ(actor_of_spamd_user("user=userx1")->key, "userx1");
  EXPECT_FALSE(actor_of_spamd_user("auth="));
  // A control byte names no actor: a NUL would make a hold that no release can name.
  EXPECT_FALSE(actor_of_spamd_user(std::string_view("auth=ceo@x.example\0junk", 23)));
  EXPECT_FALSE(actor_of_spamd_user("user=a\tb"));
  // Exim's rspamd form: User is $authenticated_id, an account with the client's IP, a login without.
  proto::spamd::Request rspamd;
  rspamd.dialect = proto::spamd::Dialect::kRspamc;
  rspamd.user = "sales@acme-shop.example";
  rspamd.ip = "192.0.2.7";
  EXPECT_EQ(detect::format_actor_ref(*actor_of_request(rspamd)), "auth_account:sales@acme-shop.example");
  rspamd.user = "userx2";
  rspamd.ip.clear();
  EXPECT_EQ(detect::format_actor_ref(*actor_of_request(rspamd)), "local_user:userx2");
  rspamd.user = "script=/home/v/x";  // a login is never read as another kind of actor
  rspamd.ip = "192.0.2.7";
  EXPECT_EQ(detect::format_actor_ref(*actor_of_request(rspamd)), "auth_account:script=/home/v/x");
  rspamd.user.clear();  // inbound: no login, no actor
  rspamd.ip = "192.0.2.7";
  EXPECT_FALSE(actor_of_request(rspamd));
  proto::spamd::Request spamc;
  spamc.user = "sales@acme-shop.example";  // the spamd form's plain user names no actor
  EXPECT_FALSE(actor_of_request(spamc));
  // Exim's own users scan the bounces Exim makes; a hold of one would select all SMTP mail.
  for (const char* exim : {"user=Debian-exim", "user=mailnull", "user=exim"}) EXPECT_FALSE(actor_of_spamd_user(exim));
  EXPECT_TRUE(actor_of_spamd_user("auth=exim"));  // an account of that name is an account
}

// The User header is whatever the client wrote: only Exim (root, its own user) may have the
// actor it names held. Anyone else's scan is answered and holds nothing, and the log says so.
TEST_F(SpamdHoldTest, OnlyEximsScansHoldAnActor) {
  SpamdOptions options;
  options.hold_score = 8;
  options.hold_uids = std::vector<uint32_t>{0, 110};
  SpamdSessionFactory factory(holding_engine(), options);
  auto ask = [&factory](PeerUid uid) {
    std::string body = "cheap pills", out;
    factory.open_from("test", std::move(uid))
        ->on_input(fmt::format("REPORT SPAMC/1.2\r\nUser: auth=ceo@victim.example\r\nContent-length: {}\r\n\r\n{}",
                               body.size(), body),
                   &out);
    return out;
  };
  EXPECT_TRUE(ask([] { return 65534u; }).starts_with("SPAMD/1.1 0 EX_OK")) << "scanned all the same";
  ask([] { return std::nullopt; });
  EXPECT_TRUE(held.empty());
  ask([] { return 110u; });
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0], "auth_account:ceo@victim.example");
  ASSERT_GE(recorder.log.size(), 2u);
  EXPECT_EQ(recorder.log[0],
            "spamd test: hold of auth_account:ceo@victim.example refused: uid 65534 is not Exim's and may not hold an "
            "actor ([serve] spamd_hold_users; 1 refusals so far)");
  EXPECT_EQ(recorder.log[1],
            "spamd test: hold of auth_account:ceo@victim.example refused: the peer's user cannot be known ([serve] "
            "spamd_hold_users; 2 refusals so far)");
}

TEST(SpamdListenerTest, UnixSocket) {
  TempDir dir;
  Recorder recorder;
  SpamdSessionFactory factory(rule_engine(&recorder));
  std::string error;
  std::string path = dir.path + "/spamd.sock";
  auto listener = SpamdListener::start(path, factory, {}, &error);
  ASSERT_TRUE(listener) << error;
  std::string file = dir.path + "/m.eml";
  std::ofstream(file) << "Subject: s\n\ncheap pills\n";
  Command check = run("spamc -U " + path + " -c", file);
  EXPECT_EQ(check.out, "8.3/5.0\n");
  listener->stop();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the socket is removed on stop
}

// Exim opens one connection per message: its threads are reused, not one started and ended for
// each (that cost more CPU than the scan).
TEST(SpamdListenerTest, SequentialConnectionsReuseTheirThreads) {
  std::mutex mutex;
  std::set<pid_t> threads;
  SpamdEngine engine;
  engine.scan = [&](std::string_view) {
    std::lock_guard lock(mutex);
    threads.insert(::gettid());
    return classify::Verdict{};
  };
  SpamdSessionFactory factory(engine);
  std::string error;
  auto listener = SpamdListener::start("127.0.0.1:0", factory, {}, &error);
  ASSERT_TRUE(listener) << error;
  for (int i = 0; i < 40; ++i) {
    std::string reply = exchange(listener->port(), "CHECK SPAMC/1.2\r\nContent-length: 3\r\n\r\nhi\n", true);
    ASSERT_TRUE(reply.starts_with("SPAMD/1.1 0 EX_OK\r\n")) << reply;
  }
  std::lock_guard lock(mutex);
  // One serving, one waiting; another now and then when the next connection comes before the
  // last thread is idle again (a loaded host under ASan: four seen). A thread per connection
  // would be forty.
  EXPECT_LE(threads.size(), 8u);
  EXPECT_LE(listener->threads(), 8);
}

// A thread per open connection still: clients that trickle do not hold up the next request, and
// idle threads beyond the kept ones end.
TEST(SpamdListenerTest, SlowClientsDoNotHoldUpOthersAndIdleThreadsEnd) {
  Recorder recorder;
  SpamdSessionFactory factory(rule_engine(&recorder));
  ListenerOptions options;
  options.idle_threads_kept = 1;
  options.idle_thread_linger = std::chrono::milliseconds(50);
  std::string error;
  auto listener = SpamdListener::start("127.0.0.1:0", factory, options, &error);
  ASSERT_TRUE(listener) << error;
  std::vector<int> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(connect_to(listener->port()));
    ASSERT_EQ(::send(slow.back(), "CHECK SPAMC/1.2\r\n", 17, MSG_NOSIGNAL), 17);
  }
  auto start = std::chrono::steady_clock::now();
  std::string reply = exchange(listener->port(), "CHECK SPAMC/1.2\r\n\r\ncheap pills\n", true);
  EXPECT_TRUE(reply.starts_with("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 8.3 / 5.0\r\n")) << reply;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_GE(listener->threads(), 7);
  for (int fd : slow) ::close(fd);
  for (int i = 0; i < 200 && listener->threads() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(listener->threads(), 1);
  reply = exchange(listener->port(), "CHECK SPAMC/1.2\r\n\r\nthe meeting\n", true);
  EXPECT_TRUE(reply.starts_with("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.5 / 5.0\r\n")) << reply;
}

// The server's answer for real messages is the in-process scan's, byte for byte: the listener,
// session and protocol add nothing to and lose nothing of the verdict.
TEST(SpamdListenerTest, ServerAnswersAsTheScannerDoes) {
  auto read = [](const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/classify/testdata/" + name, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  };
  const char* names[] = {"attachment_spam.eml", "big5_images_spam.eml", "html_only_ham.eml", "latin1_ham.eml",
                         "plain_ham.eml"};
  auto scanner = classify::Scanner::in_memory();
  for (const char* name : names) scanner->learn(read(name), std::string_view(name).find("spam") != std::string::npos);
  scanner->refit();
  SpamdEngine engine;
  engine.scan = [&scanner](std::string_view message) { return scanner->scan(message); };
  SpamdOptions options;
  SpamdSessionFactory factory(engine, options);
  std::string error;
  auto listener = SpamdListener::start("127.0.0.1:0", factory, {}, &error);
  ASSERT_TRUE(listener) << error;
  for (const char* name : names) {
    std::string message = read(name);
    for (const char* command : {"REPORT SPAMC/1.2", "SYMBOLS SPAMC/1.5", "CHECK RSPAMC/1.3"}) {
      std::string request =
          fmt::format("{}\r\nUser: nobody\r\nContent-length: {}\r\n\r\n{}", command, message.size(), message);
      proto::spamd::RequestParser parser;
      ASSERT_EQ(parser.feed(request), proto::spamd::RequestParser::State::kComplete);
      classify::Verdict verdict = scanner->scan(message);
      std::string expected = proto::spamd::encode_scan_reply(
          parser.request(), to_scan_result(verdict, options.report_reasons), options.reply);
      EXPECT_EQ(exchange(listener->port(), request, true), expected) << name << " " << command;
      if (std::string_view(command).starts_with("REPORT")) {
        EXPECT_NE(expected.find(verdict.reasons.at(0).name.substr(0, 20)), std::string::npos) << expected;
      }
    }
  }
}

}  // namespace
}  // namespace sw::daemon
