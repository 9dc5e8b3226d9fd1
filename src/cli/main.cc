// spamwarden: find, stop and prevent spam on Exim servers. One binary, one subcommand per job.
#include <cstdio>
#include <exception>
#include <string_view>

#include "base/huge_pages.h"

#include "cli/commands.h"
#include "queue/queue_check.h"

namespace {
// `queue check` is a Nagios/Icinga plugin: a bad command line there is UNKNOWN (3), as the
// plugin guidelines ask, not 2, which the monitoring would read as CRITICAL. The parser has
// already entered the subcommand when one of its options is refused.
bool is_monitoring_check(const CLI::App& app) {
  return app.get_subcommand("queue")->got_subcommand("check");
}
}  // namespace

int main(int argc, char** argv) {
  // The table-building jobs; the others stay small and exec exim, which needs no tunables.
  std::string_view job = argc > 1 ? argv[1] : "";
  if (job == "logs" || job == "watch") sw::reexec_with_huge_page_heap(argv);
  CLI::App app{"spamwarden: find, stop and prevent spam on Exim mail servers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "spamwarden 0.1.0");
  int result = sw::cli::kOk;
  sw::cli::add_logs_command(app, &result);
  sw::cli::add_queue_command(app, &result);
  sw::cli::add_watch_commands(app, &result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    if (rc == 0) return 0;
    return is_monitoring_check(app) ? int(sw::queue::kNagiosUnknown) : int(sw::cli::kUsage);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spamwarden: %s\n", e.what());
    return sw::cli::kFailure;
  }
  return result;
}
