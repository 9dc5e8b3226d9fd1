// spamwarden: find, stop and prevent spam on Exim servers. One binary, one subcommand per job.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "base/huge_pages.h"

#include "cli/commands.h"
#include "queue/queue_check.h"

namespace {
// `queue check` is a Nagios/Icinga plugin: a bad command line there is UNKNOWN (3), as the
// plugin guidelines ask, not 2, which the monitoring would read as CRITICAL. The parser has
// already entered the subcommand when one of its options is refused.
bool is_monitoring_check(const CLI::App& app) {
  return app.get_subcommand("queue")->got_subcommand("check") || app.get_subcommand("audit")->got_subcommand("check");
}

// The deepest command the parser entered: where a stray word was meant as a subcommand.
const CLI::App* entered_command(const CLI::App& app) {
  const CLI::App* at = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : at->get_subcommands())
      if (sub->parsed()) at = sub, deeper = true;
  }
  return at;
}

// "spamwarden queue lst": CLI11 says "The following argument was not expected: lst"; an admin
// who mistyped a subcommand is told so, with the ones there are.
bool explain_unknown_subcommand(const CLI::App& app, const CLI::ExtrasError&) {
  const CLI::App* at = entered_command(app);
  std::vector<std::string> extras = at->remaining();
  auto subs = at->get_subcommands({});
  if (extras.empty() || subs.empty() || extras.front().starts_with("-")) return false;
  std::string names, path;
  for (const CLI::App* sub : subs) names += (names.empty() ? "" : ", ") + sub->get_name();
  for (const CLI::App* p = at; p && p->get_parent(); p = p->get_parent()) path = " " + p->get_name() + path;
  std::fprintf(stderr, "spamwarden%s: unknown subcommand '%s' (one of: %s)\n", path.c_str(), extras.front().c_str(),
               names.c_str());
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  // `watch` keeps its tables for days: a re-exec with glibc's huge-page heap is cheap there.
  // `logs` backs its tables with huge pages itself (HeapPrefaulter): a second program start
  // costs a fifth of a re-run served from the summary cache.
  std::string_view job = argc > 1 ? argv[1] : "";
  if (job == "watch") sw::reexec_with_huge_page_heap(argv);
  CLI::App app{"spamwarden: find, stop and prevent spam on Exim mail servers"};
  app.formatter(std::make_shared<sw::cli::HelpFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("--version", "spamwarden 0.1.0");
  int result = sw::cli::kOk;
  sw::cli::add_logs_command(app, &result);
  sw::cli::add_queue_command(app, &result);
  sw::cli::add_watch_commands(app, &result);
  sw::cli::add_audit_command(app, &result);
  sw::cli::add_serve_command(app, &result);
  sw::cli::add_learn_commands(app, &result);
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known |= sub->check_name(std::string(job));
  }
  if (!job.empty() && !job.starts_with("-") && !known) {
    std::fprintf(stderr, "spamwarden: unknown command '%s' (one of: %s)\n", argv[1], names.c_str());
    return sw::cli::kUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const auto* extras = dynamic_cast<const CLI::ExtrasError*>(&e);
    int rc = extras && explain_unknown_subcommand(app, *extras) ? 1 : app.exit(e);
    if (rc == 0) return 0;
    if (!is_monitoring_check(app)) return sw::cli::kUsage;
    // A plugin's first stdout line is what the monitoring shows: never nothing.
    std::printf("%s UNKNOWN - bad command line: %s\n", app.get_subcommand("audit")->parsed() ? "AUDIT" : "QUEUE",
                e.what());
    return sw::queue::kNagiosUnknown;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spamwarden: %s\n", e.what());
    return sw::cli::kFailure;
  }
  return result;
}
