// spamwarden audit: the configuration holes that let spam in or out, proven on the real Exim
// (exim -bh), and the catch-all fix with its exact restore.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "audit/audit_run.h"
#include "audit/catchall_fix.h"
#include "cli/commands.h"
#include "queue/exim_runner.h"

namespace sw::cli {
namespace {

struct AuditArgs {
  audit::AuditOptions options;
  std::string only, skip, outside_domain, server_ip, local_mailbox;
  std::vector<std::string> resolvers;
  double dns_timeout_seconds = 2.0;
  bool json = false, verbose = false, no_probes = false, no_dns = false, yes = false, force = false;
  std::string batch;
};

void add_common_options(CLI::App* app, AuditArgs* a) {
  app->add_option("--root", a->options.root, "prefix of the panel paths (/etc/valiases, ...), for a copied tree");
  app->add_option("--exim", a->options.exim_binary, "the exim binary (default: exim4 or exim from the usual places)");
  app->add_option("--exim-config", a->options.exim_config,
                  "audit this candidate configuration (exim -C FILE) instead of the installed one");
  app->add_option("--mainlog", a->options.mainlog, "Exim's main log, for catch-all deliveries");
  app->add_option("--state-dir", a->options.state_dir, "where fix batches and the audit trail go")
      ->default_str("/var/lib/spamwarden");
  app->add_option("--only", a->only, "run only these checks: ids or families, comma-separated (R1,S5 or C)");
  app->add_option("--skip", a->skip, "skip these checks");
  app->add_option("--outside-domain", a->outside_domain, "recipient domain of the relay probes (routable)")
      ->default_str("gmail.com");
  app->add_option("--server-ip", a->server_ip, "the server address the probes arrive on (-oMi)")
      ->default_str("192.0.2.1");
  app->add_option("--local-mailbox", a->local_mailbox,
                  "an existing mailbox for the positive control (default postmaster@first local domain)");
  app->add_flag("--no-probes", a->no_probes, "read the configuration only; no exim -bh probes");
  app->add_option("--resolver", a->resolvers, "DNS server for D1-D6 and S6, IP[:PORT] (default: /etc/resolv.conf)");
  app->add_option("--dns-timeout", a->dns_timeout_seconds, "seconds per DNS try")->default_str("2");
  app->add_option("--blocklist", a->options.dns.blocklists,
                  "DNS blocklist zone for D1, repeatable (default: zen.spamhaus.org, bl.spamcop.net, "
                  "b.barracudacentral.org, psbl.surriel.com, dnsbl-1.uceprotect.net)");
  app->add_flag("--no-dns", a->no_dns, "no DNS lookups (D1-D6 and S6 are not run)");
}

bool prepare(AuditArgs& a, audit::CheckSelection* selection) {
  std::string error;
  if (!selection->parse(a.only, a.skip, &error)) {
    std::fprintf(stderr, "spamwarden audit: %s\n", error.c_str());
    return false;
  }
  if (!a.outside_domain.empty()) a.options.relay.outside_domain = a.outside_domain;
  if (!a.server_ip.empty()) a.options.relay.server_ip = a.server_ip;
  a.options.relay.local_mailbox = a.local_mailbox;
  a.options.probes = !a.no_probes;
  a.options.dns.enabled = !a.no_dns;
  if (!(a.dns_timeout_seconds > 0 && a.dns_timeout_seconds <= 60)) {
    std::fprintf(stderr, "spamwarden audit: --dns-timeout must be between 0 and 60 seconds\n");
    return false;
  }
  a.options.dns.timeout = std::chrono::milliseconds(static_cast<long>(a.dns_timeout_seconds * 1000));
  for (const std::string& r : a.resolvers) {
    std::string host = r.starts_with("[") ? r.substr(1, r.find(']') - 1) : r.substr(0, r.find(':'));
    if (std::count(r.begin(), r.end(), ':') > 1 && !r.starts_with("[")) host = r;  // bare IPv6
    in6_addr v6{};
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) != 1 && ::inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
      std::fprintf(stderr, "spamwarden audit: --resolver %s: not an IP[:PORT]\n", r.c_str());
      return false;
    }
  }
  a.options.dns.resolvers = a.resolvers;
  return true;
}

int run_report(AuditArgs& a, bool nagios) {
  audit::CheckSelection selection;
  if (!prepare(a, &selection)) {
    if (nagios) std::printf("AUDIT UNKNOWN - bad check selection\n");
    return nagios ? 3 : kUsage;
  }
  audit::AuditReport report = audit::run_audit(a.options, selection);
  if (nagios) {
    audit::NagiosOutput out = audit::render_nagios(report);
    std::fputs(out.text.c_str(), stdout);
    return out.status;
  }
  std::string text = a.json ? audit::render_json(report) : audit::render_human(report, a.verbose);
  std::fputs(text.c_str(), stdout);
  return audit::audit_exit_code(report);
}

int run_fix_catchall(AuditArgs& a) {
  audit::CheckSelection selection;
  if (!prepare(a, &selection)) return kUsage;
  audit::AuditReport report;
  report.platform = audit::detect_platform(a.options.root);
  report.exim_binary = queue::find_exim_binary(a.options.exim_binary);
  audit::CatchallScan scan = audit::scan_catchalls_with_deliveries(a.options, &report);
  for (const std::string& e : report.environment_errors) std::fprintf(stderr, "spamwarden audit: %s\n", e.c_str());
  for (const std::string& e : scan.errors) std::fprintf(stderr, "spamwarden audit: %s\n", e.c_str());
  if (scan.domains.empty()) {
    std::printf("%zu domains checked: no catch-all other than :fail:\n", scan.domains_checked);
    return report.partial() || !scan.errors.empty() ? kFailure : kOk;
  }
  std::printf("%-40s %-18s %-14s %s\n", "DOMAIN", "CURRENT", "NEW", "DELIVERIES");
  for (const audit::DomainCatchall& d : scan.domains)
    std::printf("%-40s %-18s %-14s %llu%s\n", d.domain.c_str(), audit::catchall_kind_name(d.kind),
                d.file.empty() ? "(by hand)" : ":fail:", static_cast<unsigned long long>(d.deliveries),
                d.deliveries > 0 ? "  (busy: maybe intended)" : "");
  if (!a.yes) {
    std::printf("\ndry run: %zu catch-alls would become :fail:; run again with --yes to change them\n",
                scan.domains.size());
    return kOk;
  }
  std::unique_ptr<audit::Exim> exim;
  if (!report.exim_binary.empty()) exim = std::make_unique<audit::Exim>(report.exim_binary, a.options.exim_config);
  audit::FixOutcome outcome = audit::apply_catchall_fix(a.options.state_dir, scan.domains, exim.get());
  for (const std::string& m : outcome.messages) std::printf("%s\n", m.c_str());
  for (const std::string& e : outcome.errors) std::fprintf(stderr, "spamwarden audit: %s\n", e.c_str());
  std::printf("\nchanged %d files; batch %s (undo: spamwarden audit restore %s)\n", outcome.changed,
              outcome.batch_id.c_str(), outcome.batch_id.c_str());
  return outcome.errors.empty() ? kOk : kFailure;
}

int run_restore(AuditArgs& a) {
  audit::RestoreOutcome outcome = audit::restore_catchall_batch(a.options.state_dir, a.batch, a.force);
  for (const std::string& r : outcome.refused) std::printf("refused: %s\n", r.c_str());
  for (const std::string& e : outcome.errors) std::fprintf(stderr, "spamwarden audit: %s\n", e.c_str());
  std::printf("restored %d files from %s\n", outcome.restored, a.batch.c_str());
  if (!outcome.errors.empty()) return outcome.restored == 0 && outcome.refused.empty() ? kUsage : kFailure;
  return outcome.refused.empty() ? kOk : kFindings;
}

}  // namespace

void add_audit_command(CLI::App& app, int* result) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand("audit", "find the configuration holes that let spam in or out");
  audit->fallthrough();
  add_common_options(audit, args.get());
  audit->add_flag("--json", args->json, "machine-readable report with stable check ids");
  audit->add_flag("-v,--verbose", args->verbose, "list the passed checks too");
  CLI::App* check = audit->add_subcommand("check", "Nagios/Icinga plugin: CRITICAL on any critical finding");
  CLI::App* fix = audit->add_subcommand("fix", "fix what is safe to fix, with an exact restore");
  fix->require_subcommand(1);
  CLI::App* catchall = fix->add_subcommand("catchall", "every catch-all becomes :fail: (dry run unless --yes)");
  catchall->add_flag("--yes", args->yes, "change the files (snapshot first)");
  CLI::App* restore = audit->add_subcommand("restore", "put back the files of a fix batch");
  restore->add_option("batch", args->batch, "the batch name the fix printed")->required();
  restore->add_flag("--force", args->force, "also overwrite files changed since the fix");
  audit->callback([audit, check, fix, catchall, restore, args, result] {
    if (check->parsed()) *result = run_report(*args, true);
    else if (fix->parsed() && catchall->parsed()) *result = run_fix_catchall(*args);
    else if (restore->parsed()) *result = run_restore(*args);
    else *result = run_report(*args, false);
    (void)audit;
  });
}

}  // namespace sw::cli
