#include "audit/audit_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "audit/config_checks.h"
#include "audit/dns_inputs.h"
#include "audit/dns_wiring.h"
#include "audit/exim_config.h"
#include "queue/exim_runner.h"

namespace sw::audit {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  if (in) buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > (16u << 20) ? std::string() : text;
}

void add_all(AuditReport* report, const CheckSelection& selection, std::vector<Finding> findings) {
  for (Finding& f : findings)
    if (selection.wants(f.check_id)) report->add(std::move(f));
}

void skip_family(AuditReport* report, const CheckSelection& selection, std::initializer_list<const char*> ids,
                 const std::string& reason) {
  for (const char* id : ids)
    if (selection.wants(id)) report->skip(id, reason);
}

// The dnslists conditions' values of every ACL, for S6.
std::vector<std::string> dnslists_values(const StaticAnalysis& analysis) {
  std::vector<std::string> values;
  for (const Acl& acl : analysis.acls)
    for (const AclStatement& s : acl.statements)
      for (const AclCondition& c : s.conditions)
        if (c.name == "dnslists") values.push_back(c.value);
  return values;
}

DnsAuditInput dns_input_for(const AuditOptions& options, Platform platform, const EximFacts* facts, const Exim* exim,
                            AuditReport* report) {
  std::vector<std::string> problems;
  DnsAuditInput input;
  if (platform == kCpanel) input = cpanel_dns_input(options.root.empty() ? "/" : options.root, problems);
  else if (facts && exim) input = exim_dns_input(*facts, *exim, problems);
  else problems.push_back("Exim not usable: no hosted domains, HELO or outbound IPs for the DNS checks");
  for (const std::string& p : problems) report->environment_errors.push_back("DNS input: " + p);
  input.dnsbls = blocklists_for(options.dns.blocklists);
  input.resolvers = options.dns.resolvers;
  input.timeout = options.dns.timeout;
  return input;
}

// D1-D6 through the resolver, and S6: the health of the lists the config's ACLs query.
// `config_zones` is nullopt when the configuration could not be read.
void add_dns_findings(const CheckSelection& selection, DnsAuditInput input,
                      const std::optional<std::vector<std::string>>& config_zones, AuditReport* report) {
  try {
    if (selection.wants_any("D")) add_all(report, selection, run_dns_checks(input));
    if (!selection.wants("S6")) return;
    if (!config_zones || config_zones->empty()) {
      report->skip("S6", config_zones ? "no dnslists in the ACLs (see S4)" : "Exim not usable (see above)");
      return;
    }
    DnsAuditInput health = input;
    health.domains.clear();
    health.outbound_ips.clear();
    health.check_mx = false;
    health.dnsbls = blocklists_for(*config_zones);
    for (Finding& f : run_dns_checks(health)) {
      if (f.check_id != "D1") continue;
      f.check_id = "S6";
      report->add(std::move(f));
    }
    for (const std::string& zone : *config_zones) {
      bool reported = false;
      for (const Finding& f : report->findings) reported |= f.check_id == "S6" && f.subject == zone;
      if (!reported) report->add({"S6", Severity::ok, zone, "answers its test point 127.0.0.2", {}, ""});
    }
  } catch (const std::exception& e) {
    report->environment_errors.push_back(std::string("DNS checks: ") + e.what());
    skip_family(report, selection, {"S6", "D1", "D2", "D3", "D4", "D5", "D6"}, "no resolver (see above)");
  }
}

}  // namespace

Platform detect_platform(const std::string& root) {
  if (exists(root + "/usr/local/cpanel") && exists(root + "/etc/valiases")) return kCpanel;
  if (exists(root + "/usr/local/directadmin") || exists(root + "/etc/virtual/domains")) return kDirectAdmin;
  if (exists(root + "/usr/local/cpanel") || exists(root + "/etc/localdomains")) return kCpanel;
  if (exists(root + "/etc/exim4/update-exim4.conf.conf")) return kDebian;
  return kOtherExim;
}

std::string default_mainlog(const std::string& root, Platform platform) {
  switch (platform) {
    case kCpanel: return root + "/var/log/exim_mainlog";
    case kDirectAdmin: return root + "/var/log/exim/mainlog";
    default: return root + "/var/log/exim4/mainlog";
  }
}

CatchallScan scan_catchalls_with_deliveries(const AuditOptions& options, AuditReport* report) {
  Platform platform = report->platform;
  std::string error;
  std::vector<std::string> domains = panel_local_domains(options.root, platform, &error);
  if (!error.empty()) report->environment_errors.push_back(error);
  std::unique_ptr<Exim> exim;
  if (!report->exim_binary.empty()) exim = std::make_unique<Exim>(report->exim_binary, options.exim_config);
  if (platform != kCpanel && platform != kDirectAdmin && exim) {
    EximFacts facts = gather_exim_facts(*exim, {"local_domains"});
    if (!facts.usable) report->environment_errors.push_back(facts.error);
    domains = facts.local_domains;
  }
  CatchallScan scan = scan_catchalls(options.root, platform, domains, exim.get());
  if (!scan.domains.empty()) {
    std::string log = options.mainlog.empty() ? default_mainlog(options.root, platform) : options.mainlog;
    std::string log_error;
    auto counts =
        exists(log) ? catchall_deliveries(log, {"virtual_aliases"}, &log_error) : std::map<std::string, uint64_t>{};
    if (!log_error.empty()) report->environment_errors.push_back("main log: " + log_error);
    for (DomainCatchall& d : scan.domains)
      if (auto it = counts.find(d.domain); it != counts.end()) d.deliveries = it->second;
  }
  return scan;
}

AuditReport run_audit(const AuditOptions& options, const CheckSelection& selection) {
  AuditReport report;
  report.platform = detect_platform(options.root);
  report.exim_binary = queue::find_exim_binary(options.exim_binary);
  report.exim_config = options.exim_config;
  if (!options.exim_config.empty() && ::access(options.exim_config.c_str(), R_OK) != 0) {
    report.environment_errors.push_back("--exim-config " + options.exim_config + ": not readable");
    report.exim_binary.clear();
  }
  bool wants_dns = options.dns.enabled && (selection.wants_any("D") || selection.wants("S6"));
  bool wants_exim = selection.wants_any("R") || selection.wants_any("S") || (wants_dns && report.platform != kCpanel);
  std::optional<std::vector<std::string>> config_zones;
  if (report.exim_binary.empty()) {
    if (!options.exim_binary.empty() && options.exim_config.empty())
      report.environment_errors.push_back("no executable exim at " + options.exim_binary);
    else if (options.exim_config.empty())
      report.environment_errors.push_back("no exim binary found (exim4 or exim in /usr/sbin, /usr/local/sbin, ...)");
  }
  bool exim_ran = false;
  if (wants_exim && !report.exim_binary.empty()) {
    Exim exim(report.exim_binary, options.exim_config);
    EximFacts facts = gather_exim_facts(exim, {"local_domains", "relay_to_domains", "relay_from_hosts"});
    if (!facts.usable) {
      report.environment_errors.push_back(facts.error);
    } else {
      exim_ran = true;
      for (const std::string& f : facts.unreadable) report.environment_errors.push_back(f + ": not readable");
      std::vector<std::string> unreadable;
      StaticAnalysis analysis = analyse_config(facts, exim, &unreadable);
      config_zones = dnslists_zones(dnslists_values(analysis));
      if (wants_dns) {
        DnsAuditInput input = dns_input_for(options, report.platform, &facts, &exim, &report);
        add_dns_findings(selection, std::move(input), config_zones, &report);
        wants_dns = false;
      }
      for (const std::string& f : unreadable) report.environment_errors.push_back(f + ": list file not readable");
      std::string config_file = options.exim_config;
      if (config_file.empty()) {
        auto bp = parse_bp_options(exim.run({"-bP", "config_file"}).out);
        config_file = bp.contains("config_file") ? bp["config_file"] : "";
      }
      add_all(&report, selection, relay_config_findings(facts, analysis, config_file, read_small_file(config_file)));
      add_all(&report, selection, inbound_config_findings(facts, analysis));
      if (options.probes) {
        RelayInputs in{&facts, analysis.whitelist_senders, config_file};
        if (selection.wants("R1") || selection.wants("R2") || selection.wants("R8"))
          add_all(&report, selection, run_relay_checks(exim, in, options.relay));
        if (selection.wants("S2") || selection.wants("S7"))
          add_all(&report, selection, inbound_probe_findings(exim, facts, options.relay));
      } else {
        skip_family(&report, selection, {"R1", "R2", "R8", "S2", "S7"}, "probes turned off (--no-probes)");
      }
    }
  }
  if (wants_exim && !exim_ran)
    skip_family(&report, selection, {"R1", "R2", "R3", "R5", "R7", "R8", "S1", "S2", "S4", "S5", "S7", "S8", "S9"},
                "Exim not usable (see above)");
  skip_family(&report, selection, {"R6"}, "masquerade detection from the main log is not built yet");
  if (!options.dns.enabled)
    skip_family(&report, selection, {"S6", "D1", "D2", "D3", "D4", "D5", "D6"}, "DNS checks turned off (--no-dns)");
  else if (wants_dns && report.platform == kCpanel)
    add_dns_findings(selection, dns_input_for(options, report.platform, nullptr, nullptr, &report), config_zones,
                     &report);
  else if (wants_dns)
    skip_family(&report, selection, {"S6", "D1", "D2", "D3", "D4", "D5", "D6"}, "Exim not usable: no DNS input");
  if (selection.wants_any("C")) {
    CatchallScan scan = scan_catchalls_with_deliveries(options, &report);
    add_all(&report, selection, catchall_findings(scan, report.platform));
    if (report.platform == kCpanel && selection.wants("C3")) {
      std::string config = read_small_file(options.root + "/var/cpanel/cpanel.config");
      size_t at = config.find("\ndefaultmailaction=");
      std::string value = at == std::string::npos ? "" : config.substr(at + 19, config.find('\n', at + 1) - at - 19);
      if (value.empty()) report.skip("C3", "defaultmailaction not found in /var/cpanel/cpanel.config");
      else if (value == "fail") report.add({"C3", Severity::ok, "cpanel.config", "new accounts get :fail:", {}, ""});
      else
        report.add({"C3",
                    Severity::info,
                    "cpanel.config",
                    "new accounts get a '" + value + "' catch-all",
                    {"defaultmailaction=" + value},
                    "WHM Tweak Settings: Default catch-all/default address = fail"});
    } else if (selection.wants("C3")) {
      report.skip("C3", std::string("cPanel only (this is ") + platform_name(report.platform) + ")");
    }
  }
  return report;
}

}  // namespace sw::audit
