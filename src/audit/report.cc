#include "audit/report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace sw::audit {
namespace {

constexpr size_t kWidth = 100;

// Report order: what needs action first.
int rank(Severity severity) {
  switch (severity) {
    case Severity::crit: return 0;
    case Severity::inconclusive: return 1;
    case Severity::warn: return 2;
    case Severity::info: return 3;
    case Severity::ok: return 4;
  }
  return 5;
}

const char* severity_heading(Severity severity) {
  switch (severity) {
    case Severity::crit: return "CRITICAL";
    case Severity::inconclusive: return "INCONCLUSIVE";
    case Severity::warn: return "WARNING";
    case Severity::info: return "INFO";
    case Severity::ok: return "PASSED";
  }
  return "?";
}

const char* severity_word(Severity severity) {
  switch (severity) {
    case Severity::crit: return "crit";
    case Severity::inconclusive: return "inconclusive";
    case Severity::warn: return "warn";
    case Severity::info: return "info";
    case Severity::ok: return "ok";
  }
  return "?";
}

int table_position(const std::string& id) {
  auto table = check_table();
  for (size_t i = 0; i < table.size(); ++i)
    if (table[i].id == id) return int(i);
  return int(table.size());
}

std::vector<const Finding*> sorted(const AuditReport& report) {
  std::vector<const Finding*> out;
  for (const Finding& f : report.findings) out.push_back(&f);
  std::stable_sort(out.begin(), out.end(), [](const Finding* a, const Finding* b) {
    if (rank(a->severity) != rank(b->severity)) return rank(a->severity) < rank(b->severity);
    return table_position(a->check_id) < table_position(b->check_id);
  });
  return out;
}

std::map<Severity, int> counts(const AuditReport& report) {
  std::map<Severity, int> n;
  for (const Finding& f : report.findings) ++n[f.severity];
  return n;
}

void append_finding(std::string& out, const Finding& f) {
  const CheckInfo* info = find_check(f.check_id);
  std::string head = fmt::format("{:<4}{}", f.check_id, f.message);
  if (!f.subject.empty()) head += " [" + f.subject + "]";
  out += wrap_text(head, kWidth, 4) + "\n";
  if (info && f.severity != Severity::ok && f.message.find(info->title) == std::string::npos)
    out += wrap_text(std::string("    check: ") + std::string(info->title), kWidth, 11) + "\n";
  for (const std::string& e : f.evidence) out += wrap_text("    | " + e, kWidth, 6) + "\n";
  if (!f.fix.empty()) out += wrap_text("    fix: " + f.fix, kWidth, 9) + "\n";
}

}  // namespace

std::string wrap_text(const std::string& text, size_t width, size_t indent) {
  std::string out;
  size_t pos = text.find_first_not_of(' ');
  if (pos == std::string::npos) return text;
  std::string line(pos, ' ');
  auto flush = [&] {
    out += (out.empty() ? "" : "\n") + line;
    line = std::string(indent, ' ');
  };
  while (pos < text.size()) {
    size_t space = text.find(' ', pos);
    if (space == std::string::npos) space = text.size();
    std::string word = text.substr(pos, space - pos);
    size_t base = line.find_first_not_of(' ') == std::string::npos ? line.size() : 0;
    if (base == 0 && line.size() + 1 + word.size() > width) flush();
    bool fresh = line.find_first_not_of(' ') == std::string::npos;
    if (!fresh) line += ' ';
    // A word longer than the line (a path, a probe) is cut hard rather than overflow.
    while (line.size() + word.size() > width && width > indent + 8) {
      size_t room = width - line.size();
      line += word.substr(0, room);
      word.erase(0, room);
      flush();
    }
    line += word;
    pos = space + 1;
  }
  if (line.find_first_not_of(' ') != std::string::npos || out.empty()) out += (out.empty() ? "" : "\n") + line;
  return out;
}

int audit_exit_code(const AuditReport& report) {
  for (const Finding& f : report.findings)
    if (f.severity == Severity::crit || f.severity == Severity::warn || f.severity == Severity::inconclusive) return 1;
  return report.partial() ? 3 : 0;
}

std::string render_human(const AuditReport& report, bool verbose) {
  std::string out = fmt::format("spamwarden audit: {} server, exim {}{}\n", platform_name(report.platform),
                                report.exim_binary.empty() ? "(not found)" : report.exim_binary,
                                report.exim_config.empty() ? "" : " -C " + report.exim_config);
  if (report.partial()) {
    out += "PARTIAL RESULTS: some checks could not run\n";
    for (const std::string& e : report.environment_errors) out += wrap_text("  ! " + e, kWidth, 4) + "\n";
  }
  Severity current = Severity::ok;
  bool first = true;
  for (const Finding* f : sorted(report)) {
    if (f->severity == Severity::ok && !verbose) continue;
    if (first || f->severity != current) {
      out += fmt::format("\n{}\n", severity_heading(f->severity));
      current = f->severity;
      first = false;
    }
    append_finding(out, *f);
  }
  if (!report.not_run.empty()) {
    out += "\nNOT CHECKED\n";
    for (const NotRun& n : report.not_run)
      out += wrap_text(fmt::format("{:<4}{}", n.check_id, n.reason), kWidth, 4) + "\n";
  }
  auto n = counts(report);
  out += fmt::format("\n{} critical, {} warning, {} inconclusive, {} info, {} passed{}\n", n[Severity::crit],
                     n[Severity::warn], n[Severity::inconclusive], n[Severity::info], n[Severity::ok],
                     verbose || n[Severity::ok] == 0 ? "" : " (-v lists the passed checks)");
  return out;
}

std::string render_json(const AuditReport& report) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding* f : sorted(report)) {
    const CheckInfo* info = find_check(f->check_id);
    findings.push_back({{"check", f->check_id},
                        {"title", info ? std::string(info->title) : ""},
                        {"severity", severity_word(f->severity)},
                        {"subject", f->subject},
                        {"message", f->message},
                        {"evidence", f->evidence},
                        {"fix", f->fix}});
  }
  nlohmann::json not_run = nlohmann::json::array();
  for (const NotRun& n : report.not_run) not_run.push_back({{"check", n.check_id}, {"reason", n.reason}});
  auto n = counts(report);
  nlohmann::json doc = {
      {"platform", platform_name(report.platform)},
      {"exim", report.exim_binary},
      {"exim_config", report.exim_config},
      {"partial", report.partial()},
      {"environment_errors", report.environment_errors},
      {"counts",
       {{"crit", n[Severity::crit]},
        {"warn", n[Severity::warn]},
        {"inconclusive", n[Severity::inconclusive]},
        {"info", n[Severity::info]},
        {"ok", n[Severity::ok]}}},
      {"findings", findings},
      {"not_checked", not_run},
  };
  return json_text(doc, 2) + "\n";
}

NagiosOutput render_nagios(const AuditReport& report) {
  auto n = counts(report);
  NagiosOutput out;
  const char* word = "OK";
  if (n[Severity::crit]) out.status = 2, word = "CRITICAL";
  else if (n[Severity::warn] || n[Severity::inconclusive]) out.status = 1, word = "WARNING";
  else if (report.partial()) out.status = 3, word = "UNKNOWN";
  std::string summary = fmt::format("{} critical, {} warning, {} inconclusive", n[Severity::crit], n[Severity::warn],
                                    n[Severity::inconclusive]);
  if (report.partial()) summary += "; partial: " + report.environment_errors.front();
  std::string first_line = fmt::format("AUDIT {} - {}", word, summary);
  std::replace(first_line.begin(), first_line.end(), '|', '/');  // '|' starts the perfdata
  out.text = fmt::format("{} | crit={} warn={} inconclusive={} info={} passed={} not_checked={}\n", first_line,
                         n[Severity::crit], n[Severity::warn], n[Severity::inconclusive], n[Severity::info],
                         n[Severity::ok], report.not_run.size());
  for (const Finding* f : sorted(report)) {
    if (f->severity == Severity::ok || f->severity == Severity::info) continue;
    std::string line = fmt::format("{} {} {}{}", severity_heading(f->severity), f->check_id, f->message,
                                   f->subject.empty() ? "" : " [" + f->subject + "]");
    std::replace(line.begin(), line.end(), '|', '/');
    out.text += line + "\n";
  }
  return out;
}

}  // namespace sw::audit
