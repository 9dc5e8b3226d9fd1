// The checks read from the configuration (R3, R4, R5, R7, S1, S3-S5, S8-S10) and the two
// inbound controls probed with exim -bh (S2 sender verification, S7 HELO).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "audit/acl_reader.h"
#include "audit/exim_config.h"
#include "audit/finding.h"
#include "audit/relay_probe.h"

namespace sw::audit {

struct StaticAnalysis {
  std::vector<Acl> acls;
  RelayGateAnalysis gate;                          // of the RCPT ACL
  std::vector<std::string> whitelist_senders;      // probe senders drawn from the early accepts' lists
  std::map<std::string, std::string> named_lists;  // "+name" -> its value, for those lists
};

// `exim` answers `-bP +LIST` for the named lists the early accepts match.
StaticAnalysis analyse_config(const EximFacts& facts, const Exim& exim, std::vector<std::string>* unreadable);

// R3, R4, R5, R7 from the configuration. `config_file_text` (the file as written, may be
// empty) gives the file lines of the statements.
std::vector<Finding> relay_config_findings(const EximFacts& facts, const StaticAnalysis& analysis,
                                           const std::string& config_file, const std::string& config_file_text);

// S1, S3, S4, S5, S8, S9, S10: pure, from the facts and ACLs.
std::vector<Finding> inbound_config_findings(const EximFacts& facts, const StaticAnalysis& analysis);

// S2 and S7 with exim -bh probes.
std::vector<Finding> inbound_probe_findings(const Exim& exim, const EximFacts& facts, const RelayOptions& options);

}  // namespace sw::audit
