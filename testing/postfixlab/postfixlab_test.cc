// The private Postfix works: SMTP in, the policy service consulted at RCPT, its answer applied.
#include "postfixlab.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eximlab.h"

namespace sw::testing {
namespace {

// A minimal Postfix policy service: DEFER for one SASL account and one sender, DUNNO otherwise.
// One thread per connection; Postfix keeps its connections open between requests.
class TinyPolicyServer {
 public:
  TinyPolicyServer() : port_(free_loopback_port()) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 64) != 0) {
      throw std::runtime_error("policy server: cannot listen");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TinyPolicyServer() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    close(listen_fd_);
    std::lock_guard lock(mutex_);
    for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    for (auto& t : workers_) t.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::map<std::string, std::string>> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string buffer;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
        std::map<std::string, std::string> attrs;
        size_t start = 0;
        for (size_t nl; (nl = buffer.find('\n', start)) <= end; start = nl + 1) {
          std::string line = buffer.substr(start, nl - start);
          size_t eq = line.find('=');
          if (eq != std::string::npos) attrs[line.substr(0, eq)] = line.substr(eq + 1);
        }
        bool defer = attrs["sasl_username"] == "hijacked@acme.example" || attrs["sender"] == "spammer@acme.example";
        std::string reply = defer ? "action=DEFER sending limit reached, try later\n\n" : "action=DUNNO\n\n";
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(attrs);
        }
        if (write(fd, reply.data(), reply.size()) < 0) break;
      }
    }
    close(fd);
  }

  int port_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_ = false;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
  std::vector<std::map<std::string, std::string>> requests_;
};

CommandResult swaks(const PostfixLab& lab, const std::string& from, const std::string& auth_user = "") {
  std::vector<std::string> argv = {
      "swaks",  "--server",       lab.server(), "--from", from, "--to", "rcpt@remote.example",
      "--helo", "client.example", "--timeout",  "20"};
  if (!auth_user.empty())
    argv.insert(argv.end(), {"--auth", "PLAIN", "--auth-user", auth_user, "--auth-password", "secret"});
  return run_command(argv);
}

#define SKIP_WITHOUT_LAB()                                 \
  do {                                                     \
    std::string why;                                       \
    if (!PostfixLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

TEST(PostfixLab, PolicyServiceDefersOneAccountAndOneSenderAndPassesTheRest) {
  SKIP_WITHOUT_LAB();
  TinyPolicyServer policy;
  PostfixLabOptions options;
  options.policy = policy.address();
  options.sasl = true;
  PostfixLab lab(options);

  CommandResult ordinary = swaks(lab, "shop@acme.example", "shop@acme.example");
  EXPECT_NE(ordinary.out.find("250 2.0.0 Ok: queued"), std::string::npos) << ordinary.out << ordinary.err;

  CommandResult hijacked = swaks(lab, "sales@acme.example", "hijacked@acme.example");
  EXPECT_NE(hijacked.out.find("235 2.7.0 Authentication successful"), std::string::npos) << hijacked.out;
  EXPECT_NE(hijacked.out.find("450 4.7.1 <rcpt@remote.example>: Recipient address rejected: sending limit reached"),
            std::string::npos)
      << hijacked.out;
  EXPECT_EQ(hijacked.out.find("queued as"), std::string::npos);

  CommandResult spammer = swaks(lab, "spammer@acme.example");  // no AUTH, from 127.0.0.1 (mynetworks)
  EXPECT_NE(spammer.out.find("450 4.7.1"), std::string::npos) << spammer.out;

  std::string log = read_file(lab.maillog());
  EXPECT_NE(log.find("sasl_method=PLAIN, sasl_username=shop@acme.example"), std::string::npos) << log;
  EXPECT_NE(log.find("reject: RCPT from localhost[127.0.0.1]: 450 4.7.1"), std::string::npos) << log;

  auto requests = policy.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["protocol_state"], "RCPT");
  EXPECT_EQ(requests[0]["sasl_username"], "shop@acme.example");
  EXPECT_EQ(requests[1]["sasl_username"], "hijacked@acme.example");
  EXPECT_EQ(requests[2]["sasl_username"], "");
  EXPECT_EQ(requests[2]["sender"], "spammer@acme.example");
}

TEST(PostfixLab, AnUnreachablePolicyServiceFailsOpen) {
  SKIP_WITHOUT_LAB();
  PostfixLabOptions options;
  options.policy = "127.0.0.1:" + std::to_string(free_loopback_port());  // nothing listens there
  options.policy_timeout_s = 1;
  PostfixLab lab(options);
  CommandResult r = swaks(lab, "shop@acme.example");
  EXPECT_NE(r.out.find("250 2.0.0 Ok: queued"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sw::testing
