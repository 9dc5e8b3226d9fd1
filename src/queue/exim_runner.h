// The one place that runs the exim binary. Actions go through this small interface so tests
// and the live-containment feature can substitute or reuse it; nothing else forks exim.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace sw::queue {

struct EximCommandResult {
  int exit_code = -1;  // -1: could not run at all
  std::string output;  // stdout and stderr, interleaved
};

class EximRunner {
 public:
  virtual ~EximRunner() = default;
  // Runs exim with these arguments (the config, if any, is added by the implementation).
  virtual EximCommandResult run(const std::vector<std::string>& args) = 0;
};

class ProcessEximRunner : public EximRunner {
 public:
  ProcessEximRunner(std::string binary, std::string config) : binary_(std::move(binary)), config_(std::move(config)) {}
  EximCommandResult run(const std::vector<std::string>& args) override;
  const std::string& binary() const { return binary_; }

 private:
  std::string binary_;
  std::string config_;
};

// An explicit path if given, else exim4 (Debian) or exim (cPanel) from the usual places.
// Empty when none is executable.
std::string find_exim_binary(const std::string& explicit_path);

// The value of the "spool_directory = ..." line of `exim -bP spool_directory` output. Pure.
std::optional<std::string> parse_spool_directory_reply(const std::string& output);

// The spool of the Exim behind `exim` (its binary and config), as it reports it itself.
std::optional<std::string> exim_spool_directory(EximRunner& exim, std::string* error);

// Exim's -M options act on the spool of the config they run with, whatever spool was read:
// every action on a selection read from spool_dir must first make sure that it is the spool
// of the Exim that will act (both canonical paths compared). False, with *error naming both
// spools, otherwise.
bool verify_exim_spool(EximRunner& exim, const std::string& spool_dir, std::string* error);

}  // namespace sw::queue
