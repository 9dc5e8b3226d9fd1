// eximlab.cc - see eximlab.h.
#include "eximlab.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef SW_SOURCE_DIR
#define SW_SOURCE_DIR ""
#endif

namespace sw::testing {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("eximlab: " + what); }

// Child side of run_command: wire the pipes to fds 0-2 and exec.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, int in, int out, int err) {
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

// Feeds stdin and drains stdout/stderr until the child closes both.
void pump(int in, int out, int err, const std::string& input, CommandResult& r) {
  size_t written = 0;
  if (input.empty()) close(in), in = -1;
  char buf[65536];
  while (out >= 0 || err >= 0 || in >= 0) {
    pollfd fds[3] = {{out, POLLIN, 0}, {err, POLLIN, 0}, {in, POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out : err;
      if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fd), fd = -1;
      }
    }
    if (in >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EINTR) written = input.size();
      if (written == input.size()) close(in), in = -1;
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data) {
  if (argv.empty()) fail("run_command: empty argv");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) fail("pipe failed");
  pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) exec_child(argv, in[0], out[1], err[1]);
  close(in[0]), close(out[1]), close(err[1]);
  // A closed stdin pipe must not kill us with SIGPIPE.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  CommandResult r;
  pump(in[1], out[0], err[0], stdin_data, r);
  sigaction(SIGPIPE, &old, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string EximLab::script() {
  const char* env = std::getenv("SW_SOURCE_DIR");
  std::string root = env && *env ? env : SW_SOURCE_DIR;
  if (root.empty()) fail("SW_SOURCE_DIR is not set");
  return root + "/testing/eximlab/eximlab.sh";
}

bool EximLab::available(std::string* why) {
  auto no = [why](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (geteuid() != 0) return no("needs root (starts exim4 daemons, edits /etc/exim4/trusted_configs)");
  for (const char* tool : {"/usr/sbin/exim4", "/usr/bin/unshare", "/usr/bin/setpriv", "/usr/bin/python3"})
    if (access(tool, X_OK) != 0) return no(std::string("missing ") + tool + " (scripts/setup-deps.sh)");
  try {
    if (access(script().c_str(), X_OK) != 0) return no("missing " + script());
  } catch (const std::exception& e) {
    return no(e.what());
  }
  return true;
}

EximLab::EximLab(EximLabOptions options) {
  char tmpl[] = "/tmp/eximlab-test.XXXXXX";
  if (!mkdtemp(tmpl)) fail(std::string("mkdtemp: ") + std::strerror(errno));
  dir_ = tmpl;
  std::vector<std::string> args{"--watch-pid", std::to_string(getpid())};
  if (!options.pid) args.push_back("--no-pid");
  if (options.split_spool) args.push_back("--split-spool");
  for (const auto& inc : options.acl_includes) args.insert(args.end(), {"--acl-include", inc});
  CommandResult r = lab("start", args);
  started_ = true;  // stop is safe even after a half-done start
  if (r.exit_code != 0) {
    shutdown();  // the destructor of a throwing constructor never runs: clean up now
    fail("start failed: " + r.err);
  }
}

EximLab::~EximLab() { shutdown(); }

void EximLab::shutdown() noexcept {
  if (dir_.empty()) return;
  try {
    if (started_) run_command({script(), "stop", dir_});
  } catch (const std::exception&) {  // nothing more can be done; the watcher stops it
  }
  started_ = false;
  const char* keep = std::getenv("SW_EXIMLAB_KEEP");
  if (!(keep && *keep == '1')) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  dir_.clear();
}

int EximLab::port() const { return std::atoi(read_file(dir_ + "/port").c_str()); }

CommandResult EximLab::lab(const std::string& command, const std::vector<std::string>& args,
                           const std::string& stdin_data) {
  std::vector<std::string> argv{script(), command, dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, stdin_data);
}

std::string EximLab::play(const std::string& scenario, const std::vector<std::string>& args) {
  std::vector<std::string> all{scenario};
  all.insert(all.end(), args.begin(), args.end());
  CommandResult r = lab("play", all);
  if (r.exit_code != 0) fail("play " + scenario + " failed (" + std::to_string(r.exit_code) + "): " + r.err);
  return r.out;
}

void EximLab::settle(double timeout_seconds) {
  CommandResult r = lab("settle", {"--timeout", std::to_string(timeout_seconds)});
  if (r.exit_code != 0) fail("settle failed: " + r.err);
}

std::string EximLab::exim(const std::vector<std::string>& args) {
  CommandResult r = lab("exim", args);
  if (r.exit_code != 0) fail("exim failed (" + std::to_string(r.exit_code) + "): " + r.err);
  return r.out;
}

void EximLab::sendmail_as(const std::string& user, const std::string& cwd, const std::string& message,
                          const std::vector<std::string>& sendmail_args) {
  std::vector<std::string> args{user, cwd};
  args.insert(args.end(), sendmail_args.begin(), sendmail_args.end());
  CommandResult r = lab("sendmail-as", args, message);
  if (r.exit_code != 0) fail("sendmail-as " + user + " failed: " + r.err);
}

}  // namespace sw::testing
