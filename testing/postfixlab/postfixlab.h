// postfixlab.h - RAII wrapper around testing/postfixlab/postfixlab.sh: a throwaway private Postfix
// (Debian's package, unpacked at /opt/spamwarden/postfix) with smtpd on 127.0.0.1, its queue and
// config in a fresh temp dir, and mail delivered to the discard transport. See README.md.
//
//   sw::testing::PostfixLab postfix(options);  // options.policy = "127.0.0.1:PORT", options.sasl = true
//   run_command({"swaks", "--server", postfix.server(), "--auth", "PLAIN", ...});
//   std::string log = sw::testing::read_file(postfix.maillog());
//
// Needs root: call PostfixLab::available() first and GTEST_SKIP() when it says no. Throws
// std::runtime_error (with the script's stderr) when a step fails. SW_POSTFIXLAB_KEEP=1 keeps the dir.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sw::testing {

struct PostfixLabOptions {
  std::string policy;        // "127.0.0.1:PORT" of a policy service, checked at RCPT; empty: none
  std::string restrictions;  // smtpd_recipient_restrictions instead of the default; empty: default
  bool sasl = false;         // SMTP AUTH PLAIN; any user, password sasl_password
  std::string sasl_password = "secret";
  int policy_timeout_s = 2;          // smtpd_policy_service_timeout
  std::vector<std::string> main_cf;  // lines appended to main.cf, e.g. "smtpd_end_of_data_restrictions = ..."
};

class PostfixLab {
 public:
  explicit PostfixLab(PostfixLabOptions options = {});
  ~PostfixLab();
  PostfixLab(const PostfixLab&) = delete;
  PostfixLab& operator=(const PostfixLab&) = delete;

  // True when a lab can start here (root, the unpacked Postfix, python3, swaks); why says otherwise.
  static bool available(std::string* why = nullptr);
  static std::string script();  // absolute path of postfixlab.sh

  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }  // for swaks --server
  std::string maillog() const { return dir_ + "/maillog"; }

 private:
  void shutdown() noexcept;
  std::string dir_;
  int port_ = 0;
  pid_t sasl_pid_ = -1;
  bool started_ = false;
};

// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
int free_loopback_port();

}  // namespace sw::testing
