// Each subcommand registers itself on the root CLI11 app and runs through one callback.
// Exit codes follow one convention across the tool (see docs/cli.md).
#pragma once
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdlib>
#include <string>

namespace sw::cli {

enum ExitCode : int {
  kOk = 0,        // done, nothing alarming
  kFindings = 1,  // done, and something needs an admin's attention
  kUsage = 2,     // bad arguments or unreadable input
  kFailure = 3,   // the environment failed us (Exim missing, disk full, ...)
};

// Checks for numeric options. CLI11 reads "-1" into an unsigned option as a huge number and
// takes any double for a share, so every number an admin types is checked here.
// (CLI11's own NonNegativeNumber prints its range as 300 digits.)
inline CLI::Validator whole_number(long long min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        long long v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size() && v >= min) return {};
        return "'" + text + "' is not a whole number of at least " + std::to_string(min);
      },
      "");
}
inline const CLI::Validator kCount = whole_number(0);
inline const CLI::Validator kPositiveCount = whole_number(1);
inline const CLI::Validator kPositiveFactor(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      return (!text.empty() && *end == '\0' && v > 0) ? "" : "'" + text + "' is not a number above 0";
    },
    "");
inline const CLI::Range kThreadCount(0, 256, "0 (automatic) to 256 threads");
inline const CLI::Range kShare(0.0, 1.0, "a share from 0 to 1");
inline const CLI::Range kPercent(0.0, 100.0, "a percentage from 0 to 100");

// Registration functions; each adds one subcommand and stores its exit code in *result.
void add_logs_command(CLI::App& app, int* result);
void add_queue_command(CLI::App& app, int* result);
void add_watch_commands(CLI::App& app, int* result);  // watch, holds, release, config check

}  // namespace sw::cli
