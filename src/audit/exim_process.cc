#include "audit/exim_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace sw::audit {
namespace {

long long now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  ~Pipes() {
    for (int* p : {in, out, err})
      for (int i = 0; i < 2; ++i)
        if (p[i] >= 0) ::close(p[i]);
  }
  static void close_one(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const std::string& input, int timeout_ms) {
  // A child that exits before reading its whole dialogue must not kill us with SIGPIPE.
  static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  ProcessResult result;
  Pipes p;
  if (::pipe2(p.in, O_CLOEXEC) != 0 || ::pipe2(p.out, O_CLOEXEC) != 0 || ::pipe2(p.err, O_CLOEXEC) != 0) {
    result.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p.in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, p.out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, p.err[1], STDERR_FILENO);
  pid_t pid = 0;
  int spawn_error = ::posix_spawn(&pid, storage[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Pipes::close_one(p.in[0]);
  Pipes::close_one(p.out[1]);
  Pipes::close_one(p.err[1]);
  if (spawn_error != 0) {
    result.spawn_error = "cannot run " + storage[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  ::fcntl(p.in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (input.empty()) Pipes::close_one(p.in[1]);
  long long deadline = now_ms() + timeout_ms;
  char buffer[8192];
  while (p.out[0] >= 0 || p.err[0] >= 0) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{p.out[0], POLLIN, 0}, {p.err[0], POLLIN, 0}, {p.in[1], POLLOUT, 0}};
    int n = ::poll(fds, 3, int(std::min(left, 1000LL)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) (i == 0 ? result.out : result.err).append(buffer, size_t(got));
      else if (got == 0 || errno != EINTR) Pipes::close_one(i == 0 ? p.out[0] : p.err[0]);
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t put = ::write(p.in[1], input.data() + written, input.size() - written);
      if (put > 0) written += size_t(put);
      if (put < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // reader gone
      if (written == input.size()) Pipes::close_one(p.in[1]);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!result.timed_out) result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ProcessResult Exim::run(const std::vector<std::string>& args, const std::string& input, int timeout_ms) const {
  std::vector<std::string> argv = {binary_};
  if (!config_.empty()) argv.insert(argv.end(), {"-C", config_});
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, input, timeout_ms);
}

}  // namespace sw::audit
