// One audit run: platform detection, the Exim facts, then every selected check into one
// report. Environment failures (no exim, a config that does not load, unreadable files)
// mark the report partial instead of stopping it.
#pragma once
#include <string>

#include "audit/catchall.h"
#include "audit/check_table.h"
#include "audit/dns_wiring.h"
#include "audit/relay_probe.h"
#include "audit/report.h"

namespace sw::audit {

struct AuditOptions {
  std::string root;         // prefix of every panel path ("" = the real system); tests use a temp tree
  std::string exim_binary;  // "" = found in the usual places
  std::string exim_config;  // --exim-config: a candidate config (exim -C)
  std::string mainlog;      // "" = the platform's main log
  std::string state_dir = "/var/lib/spamwarden";
  RelayOptions relay;
  bool probes = true;  // run exim -bh probes (R1, R2, R8, S2, S7)
  DnsOptions dns;      // D1-D6 and S6
};

Platform detect_platform(const std::string& root);
std::string default_mainlog(const std::string& root, Platform platform);

// The local domains for the catch-all checks: the panel's list, else Exim's local_domains.
struct CatchallContext {
  Platform platform = kOtherExim;
  std::vector<std::string> domains;
  std::string error;
};

AuditReport run_audit(const AuditOptions& options, const CheckSelection& selection);

// The catch-all scan with deliveries counted (for the report and `audit fix catchall`).
CatchallScan scan_catchalls_with_deliveries(const AuditOptions& options, AuditReport* report);

}  // namespace sw::audit
