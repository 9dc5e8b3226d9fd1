#include "queue/exim_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "queue/spool_files.h"

extern char** environ;

namespace sw::queue {

EximCommandResult ProcessEximRunner::run(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage = {binary_};
  if (!config_.empty()) argv_storage.insert(argv_storage.end(), {"-C", config_});
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {-1, std::string("pipe: ") + std::strerror(errno)};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int spawn_error = ::posix_spawn(&pid, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  EximCommandResult result;
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    return {-1, "cannot run " + binary_ + ": " + std::strerror(spawn_error)};
  }
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, size_t(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string find_exim_binary(const std::string& explicit_path) {
  if (!explicit_path.empty()) return ::access(explicit_path.c_str(), X_OK) == 0 ? explicit_path : std::string();
  for (const char* dir : {"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/exim/bin", "/usr/local/bin"})
    for (const char* name : {"exim4", "exim"}) {
      std::string path = std::string(dir) + "/" + name;
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
  return {};
}

std::optional<std::string> parse_spool_directory_reply(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const std::string prefix = "spool_directory = ";
    if (line.starts_with(prefix) && line.size() > prefix.size()) return line.substr(prefix.size());
  }
  return std::nullopt;
}

std::optional<std::string> exim_spool_directory(EximRunner& exim, std::string* error) {
  EximCommandResult reply = exim.run({"-bP", "spool_directory"});
  auto dir = reply.exit_code == 0 ? parse_spool_directory_reply(reply.output) : std::nullopt;
  if (!dir) *error = "cannot learn exim's spool (exim -bP spool_directory): " + reply.output;
  return dir;
}

bool verify_exim_spool(EximRunner& exim, const std::string& spool_dir, std::string* error) {
  auto exim_spool = exim_spool_directory(exim, error);
  if (!exim_spool) return false;
  std::string ours = canonical_path(spool_dir), theirs = canonical_path(*exim_spool);
  if (!ours.empty() && ours == theirs) return true;
  *error = "refused: " + spool_dir + " is not the spool of the Exim that would act (its spool_directory is " +
           *exim_spool + "); name the config that owns this spool with -C/--exim-config";
  return false;
}

}  // namespace sw::queue
