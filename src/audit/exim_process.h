// Runs the exim binary for the audit: with input on stdin (the -bh dialogues), stdout and
// stderr kept apart (replies vs. the ACL trace), and a time limit per run.
#pragma once
#include <string>
#include <vector>

namespace sw::audit {

struct ProcessResult {
  int exit_code = -1;  // -1: did not run (spawn_error says why) or was killed at the time limit
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string spawn_error;
};

// Runs argv (argv[0] is the program path), writes `input` to its stdin, then closes it.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input, int timeout_ms);

class Exim {
 public:
  Exim(std::string binary, std::string config) : binary_(std::move(binary)), config_(std::move(config)) {}
  // Runs exim [-C config] args...
  ProcessResult run(const std::vector<std::string>& args, const std::string& input = "", int timeout_ms = 20000) const;
  const std::string& binary() const { return binary_; }
  const std::string& config() const { return config_; }

 private:
  std::string binary_;
  std::string config_;
};

}  // namespace sw::audit
