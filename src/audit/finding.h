// One audit result: a check (by its stable id from the check table) about one subject (a file,
// a domain, an IP), with what proves it and how to fix it.
#pragma once
#include <string>
#include <vector>

namespace sw::audit {

enum class Severity { ok, info, warn, crit, inconclusive };

struct Finding {
  std::string check_id;               // "R1", "S3", "C1", "D2": the check table's id
  Severity severity = Severity::ok;   // ok: the check ran and passed
  std::string subject;                // what it is about: "example.com", "/etc/exim4/exim4.conf:412"
  std::string message;                // one line, for the report
  std::vector<std::string> evidence;  // file:line, the probe dialogue, the DNS answer
  std::string fix;                    // the command or config change that fixes it; empty if none
};

}  // namespace sw::audit
