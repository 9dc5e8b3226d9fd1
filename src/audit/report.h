// What an audit run found, and its three renderings: the human report (fits 100 columns,
// CRITICAL first), --json (stable ids) and the Nagios plugin line with perfdata.
#pragma once
#include <string>
#include <vector>

#include "audit/check_table.h"
#include "audit/finding.h"

namespace sw::audit {

struct NotRun {
  std::string check_id;
  std::string reason;  // "no exim binary", "needs DNS", "not applicable on Debian"
};

struct AuditReport {
  Platform platform = kOtherExim;
  std::string exim_binary;
  std::string exim_config;  // empty: the installed one
  std::vector<Finding> findings;
  std::vector<NotRun> not_run;
  // Something in the environment kept checks from running fully (exim missing, a config that
  // does not parse, unreadable files): the results are partial.
  std::vector<std::string> environment_errors;

  void add(Finding finding) { findings.push_back(std::move(finding)); }
  void skip(std::string id, std::string reason) { not_run.push_back({std::move(id), std::move(reason)}); }
  bool partial() const { return !environment_errors.empty(); }
};

// 0 clean, 1 findings (crit, warn or inconclusive), 3 partial with nothing found.
int audit_exit_code(const AuditReport& report);

std::string render_human(const AuditReport& report, bool verbose);
std::string render_json(const AuditReport& report);

// Nagios plugin: first line "AUDIT CRITICAL - ... | perfdata", then one line per finding.
struct NagiosOutput {
  int status = 0;  // 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
  std::string text;
};
NagiosOutput render_nagios(const AuditReport& report);

// Wraps `text` at `width` columns, each line after the first indented by `indent`.
std::string wrap_text(const std::string& text, size_t width, size_t indent);

}  // namespace sw::audit
