// Each subcommand registers itself on the root CLI11 app and runs through one callback.
// Exit codes follow one convention across the tool (see docs/cli.md).
#pragma once
#include <CLI/CLI.hpp>

namespace sw::cli {

enum ExitCode : int {
  kOk = 0,        // done, nothing alarming
  kFindings = 1,  // done, and something needs an admin's attention
  kUsage = 2,     // bad arguments or unreadable input
  kFailure = 3,   // the environment failed us (Exim missing, disk full, ...)
};

// Registration functions; each adds one subcommand and stores its exit code in *result.
void add_logs_command(CLI::App& app, int* result);
void add_queue_command(CLI::App& app, int* result);
void add_watch_commands(CLI::App& app, int* result);  // watch, holds, release, config check

}  // namespace sw::cli
