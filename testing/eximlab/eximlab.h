// eximlab.h - RAII wrapper around testing/eximlab/eximlab.sh for GoogleTest integration tests.
//
// A lab is a throwaway real Exim (Debian's exim4) with private config, spool and logs in a
// fresh directory under /tmp. The constructor starts it, the destructor stops it and removes
// the directory (set SW_EXIMLAB_KEEP=1 to keep it for debugging). If the test process dies
// without running destructors, a watcher started with the lab stops the daemons.
//
//   sw::testing::EximLab lab({.pid = true, .split_spool = false, .acl_includes = {}});
//   lab.play("script-burst", {"--count", "50"});
//   lab.settle();
//   std::string log = sw::testing::read_file(lab.mainlog());
//
// Needs root and exim4: call EximLab::available() first and GTEST_SKIP() when it says no.
// Methods throw std::runtime_error (with the script's stderr) when a step fails.
#pragma once

#include <string>
#include <vector>

namespace sw::testing {

struct EximLabOptions {
  bool pid = true;                        // log_selector +pid (cPanel's default is without)
  bool split_spool = false;               // split_spool_directory = true (cPanel's layout)
  std::vector<std::string> acl_includes;  // "HOOK:FILE" snippets, see README.md
};

// Result of a finished child process.
struct CommandResult {
  int exit_code = -1;  // exit status, or 128+signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv (argv[0] looked up in PATH) with stdin_data on its stdin; never throws for a
// non-zero exit, only when the process cannot be started.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data = "");

// Whole file as a string; empty if it cannot be read.
std::string read_file(const std::string& path);

class EximLab {
 public:
  explicit EximLab(EximLabOptions options = {});
  ~EximLab();
  EximLab(const EximLab&) = delete;
  EximLab& operator=(const EximLab&) = delete;

  // True when a lab can start here (root, exim4, unshare, python3); why says otherwise.
  static bool available(std::string* why = nullptr);
  // Absolute path of eximlab.sh (from $SW_SOURCE_DIR or the SW_SOURCE_DIR definition).
  static std::string script();

  const std::string& dir() const { return dir_; }
  std::string mainlog() const { return dir_ + "/log/mainlog"; }
  std::string spool_dir() const { return dir_ + "/spool"; }
  int port() const;

  // eximlab.sh play DIR SCENARIO ARGS...; returns the scenario's one-line summary.
  std::string play(const std::string& scenario, const std::vector<std::string>& args = {});
  // Waits until no message awaits its first delivery attempt (see eximlab.sh settle).
  void settle(double timeout_seconds = 120);
  // exim4 -C DIR/server.conf ARGS...; returns stdout.
  std::string exim(const std::vector<std::string>& args);
  // A plain /usr/sbin/sendmail run by Unix user from cwd (default args: -t -i).
  void sendmail_as(const std::string& user, const std::string& cwd, const std::string& message,
                   const std::vector<std::string>& sendmail_args = {});

 private:
  void shutdown() noexcept;
  CommandResult lab(const std::string& command, const std::vector<std::string>& args,
                    const std::string& stdin_data = "");
  std::string dir_;
  bool started_ = false;
};

}  // namespace sw::testing
