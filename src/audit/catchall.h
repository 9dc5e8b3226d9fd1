// Catch-all (`*:`) aliases per local domain: the alias file parser (pure), the classes, the
// per-panel discovery (cPanel /etc/valiases/DOMAIN, DirectAdmin /etc/virtual/DOMAIN/aliases,
// anything else through `exim -bv nonce@DOMAIN`), and the deliveries each one handled.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/check_table.h"
#include "audit/exim_process.h"
#include "audit/finding.h"

namespace sw::audit {

enum class CatchallKind { none, fail, defer, blackhole, local_mailbox, external_forward, pipe, unknown };
const char* catchall_kind_name(CatchallKind kind);

struct CatchallLine {
  int line = 0;        // 1-based line of the "*:" entry
  size_t offset = 0;   // byte offset of the entry in the file
  size_t length = 0;   // bytes of the entry, continuation lines included, newline excluded
  std::string target;  // what follows "*:" (continuations joined), trimmed
};

// The "*:" entry of an alias file (cPanel valiases / DirectAdmin aliases / lsearch format:
// "key: value", continuation lines start with white space, '#' comments).
std::optional<CatchallLine> find_catchall(std::string_view alias_file);

// The worst class among the comma-separated targets.
CatchallKind classify_catchall(std::string_view target, const std::set<std::string>& local_domains);

struct DomainCatchall {
  std::string domain;
  std::string file;  // "" when found through exim -bv
  CatchallKind kind = CatchallKind::none;
  std::string target;
  int line = 0;
  uint64_t deliveries = 0;  // main-log deliveries through the catch-all router for the domain
};

struct CatchallScan {
  std::vector<DomainCatchall> domains;  // those with a catch-all other than :fail:
  size_t domains_checked = 0;
  std::vector<std::string> errors;  // unreadable files, failed exim -bv
};

// `root` prefixes every panel path ("" for the real system).
std::vector<std::string> panel_local_domains(const std::string& root, Platform platform, std::string* error);
std::string alias_file_for(const std::string& root, Platform platform, const std::string& domain);
CatchallScan scan_catchalls(const std::string& root, Platform platform, const std::vector<std::string>& domains,
                            const Exim* exim);

// Counts main-log deliveries ("=>", "->") by a catch-all router (cPanel and DirectAdmin:
// virtual_aliases, the router after the mailbox routers) per recipient domain.
std::map<std::string, uint64_t> catchall_deliveries(const std::string& mainlog, const std::set<std::string>& routers,
                                                    std::string* error);

std::vector<Finding> catchall_findings(const CatchallScan& scan, Platform platform);

}  // namespace sw::audit
