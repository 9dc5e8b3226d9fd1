// postfixlab.cc - see postfixlab.h.
#include "postfixlab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "eximlab.h"  // run_command

#ifndef SW_SOURCE_DIR
#define SW_SOURCE_DIR ""
#endif

namespace sw::testing {
namespace {

constexpr const char* kPostfix = "/opt/spamwarden/postfix/usr/sbin/postfix";

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("postfixlab: " + what); }

bool accepts_connections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

pid_t start_sasl_service(int port, const std::string& password) {
  std::string script = std::filesystem::path(PostfixLab::script()).parent_path() / "sasl_auth.py";
  std::string port_text = std::to_string(port);
  pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    execlp("python3", "python3", script.c_str(), "--port", port_text.c_str(), "--password", password.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 300 && !accepts_connections(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pid;
}

}  // namespace

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    fail("no free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

std::string PostfixLab::script() {
  const char* env = getenv("SW_SOURCE_DIR");
  std::string root = env && *env ? env : SW_SOURCE_DIR;
  return root + "/testing/postfixlab/postfixlab.sh";
}

bool PostfixLab::available(std::string* why) {
  auto no = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (geteuid() != 0) return no("needs root (Postfix's master starts as root)");
  if (access(kPostfix, X_OK) != 0) return no(std::string(kPostfix) + " missing (scripts/setup-deps.sh)");
  if (access(script().c_str(), X_OK) != 0) return no(script() + " missing");
  if (run_command({"sh", "-c", "command -v swaks && command -v python3 && command -v script"}).exit_code != 0) {
    return no("swaks, python3 or script (util-linux) missing");
  }
  return true;
}

PostfixLab::PostfixLab(PostfixLabOptions options) {
  char tmpl[] = "/tmp/sw-postfixlab.XXXXXX";
  if (!mkdtemp(tmpl)) fail("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_loopback_port();
  std::vector<std::string> argv = {script(),
                                   "start",
                                   dir_,
                                   "--port",
                                   std::to_string(port_),
                                   "--policy-timeout",
                                   std::to_string(options.policy_timeout_s)};
  if (!options.policy.empty()) argv.insert(argv.end(), {"--policy", options.policy});
  if (!options.restrictions.empty()) argv.insert(argv.end(), {"--restrictions", options.restrictions});
  for (const auto& line : options.main_cf) argv.insert(argv.end(), {"--main-cf", line});
  try {
    if (options.sasl) {
      int sasl_port = free_loopback_port();
      sasl_pid_ = start_sasl_service(sasl_port, options.sasl_password);
      argv.insert(argv.end(), {"--sasl-auth", "127.0.0.1:" + std::to_string(sasl_port)});
    }
    started_ = true;
    CommandResult r = run_command(argv);
    if (r.exit_code != 0) fail("start failed: " + r.err + r.out);
  } catch (...) {
    shutdown();
    throw;
  }
}

PostfixLab::~PostfixLab() { shutdown(); }

void PostfixLab::shutdown() noexcept {
  try {
    if (started_) run_command({script(), "stop", dir_});
  } catch (...) {
  }
  started_ = false;
  if (sasl_pid_ > 0) {
    kill(sasl_pid_, SIGTERM);
    waitpid(sasl_pid_, nullptr, 0);
    sasl_pid_ = -1;
  }
  if (!dir_.empty() && !getenv("SW_POSTFIXLAB_KEEP")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace sw::testing
