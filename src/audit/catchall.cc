#include "audit/catchall.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/text.h"
#include "eximlog/line_parser.h"
#include "logio/byte_source.h"
#include "queue/spool_files.h"

namespace sw::audit {
namespace {

int rank(CatchallKind kind) {
  switch (kind) {
    case CatchallKind::none: return 0;
    case CatchallKind::fail: return 1;
    case CatchallKind::defer: return 2;
    case CatchallKind::local_mailbox: return 3;
    case CatchallKind::blackhole: return 4;
    case CatchallKind::unknown: return 5;
    case CatchallKind::pipe: return 6;
    case CatchallKind::external_forward: return 7;
  }
  return 0;
}

// Splits on commas outside double quotes.
std::vector<std::string_view> targets_of(std::string_view text) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '"') quoted = !quoted;
    if (i == text.size() || (text[i] == ',' && !quoted)) {
      std::string_view t = trim(text.substr(start, i - start));
      if (!t.empty()) out.push_back(t);
      start = i + 1;
    }
  }
  return out;
}

bool read_file_nofollow(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) *error = path + ": " + (errno == ELOOP ? "a symbolic link, not read" : std::strerror(errno));
    return false;
  }
  queue::Fd owner(fd);
  struct stat st {};
  if (!queue::read_regular_file(fd, *out, &st)) {
    *error = path + ": not a readable regular file";
    return false;
  }
  return true;
}

}  // namespace

const char* catchall_kind_name(CatchallKind kind) {
  switch (kind) {
    case CatchallKind::none: return "none";
    case CatchallKind::fail: return ":fail:";
    case CatchallKind::defer: return ":defer:";
    case CatchallKind::blackhole: return ":blackhole:";
    case CatchallKind::local_mailbox: return "local mailbox";
    case CatchallKind::external_forward: return "external forward";
    case CatchallKind::pipe: return "pipe";
    case CatchallKind::unknown: return "unknown";
  }
  return "?";
}

std::optional<CatchallLine> find_catchall(std::string_view text) {
  size_t pos = 0;
  int line_number = 0;
  std::optional<CatchallLine> found;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    ++line_number;
    bool continuation = !line.empty() && (line.front() == ' ' || line.front() == '\t');
    if (found && found->length > 0 && continuation && found->offset + found->length + 1 == pos) {
      found->length = end - found->offset;
      found->target += " " + std::string(trim(line));
    } else if (!found && !continuation) {
      std::string_view t = trim(line);
      if (t.starts_with("*") && trim(t.substr(1)).starts_with(":")) {
        std::string_view value = trim(t.substr(1));
        found = CatchallLine{line_number, pos, end - pos, std::string(trim(value.substr(1)))};
        if (!line.empty() && line.back() == '\r') --found->length;
      }
    }
    pos = end + 1;
  }
  if (found) found->target = std::string(trim(found->target));
  return found;
}

CatchallKind classify_catchall(std::string_view target, const std::set<std::string>& local_domains) {
  target = trim(target);
  if (target.empty()) return CatchallKind::unknown;
  if (target.starts_with(":fail:")) return CatchallKind::fail;
  if (target.starts_with(":defer:")) return CatchallKind::defer;
  CatchallKind worst = CatchallKind::none;
  for (std::string_view t : targets_of(target)) {
    std::string_view unquoted = t;
    if (unquoted.size() >= 2 && unquoted.front() == '"') unquoted = trim(unquoted.substr(1, unquoted.size() - 2));
    CatchallKind kind;
    if (unquoted.starts_with(":blackhole:")) kind = CatchallKind::blackhole;
    else if (unquoted.starts_with(":fail:")) kind = CatchallKind::fail;
    else if (unquoted.starts_with(":defer:")) kind = CatchallKind::defer;
    else if (unquoted.starts_with("|")) kind = CatchallKind::pipe;
    else if (unquoted.starts_with("/")) kind = CatchallKind::local_mailbox;  // a file
    else if (size_t at = unquoted.rfind('@'); at != std::string_view::npos)
      kind = local_domains.contains(to_lower(unquoted.substr(at + 1))) ? CatchallKind::local_mailbox
                                                                       : CatchallKind::external_forward;
    else if (unquoted.starts_with(":")) kind = CatchallKind::unknown;
    else kind = CatchallKind::local_mailbox;  // a system user (cPanel's account name)
    if (rank(kind) > rank(worst)) worst = kind;
  }
  return worst == CatchallKind::none ? CatchallKind::unknown : worst;
}

std::vector<std::string> panel_local_domains(const std::string& root, Platform platform, std::string* error) {
  std::string file = platform == kCpanel        ? root + "/etc/localdomains"
                     : platform == kDirectAdmin ? root + "/etc/virtual/domains"
                                                : "";
  std::vector<std::string> out;
  if (file.empty()) return out;
  std::string text;
  if (!read_file_nofollow(file, &text, error)) {
    if (error->empty()) *error = file + ": missing";
    return out;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view d = trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    if (!d.empty() && d.front() != '#' && d.find_first_of(" \t/") == std::string_view::npos) out.push_back(to_lower(d));
  }
  return out;
}

std::string alias_file_for(const std::string& root, Platform platform, const std::string& domain) {
  if (domain.empty() || domain.find('/') != std::string::npos || domain[0] == '.') return {};
  if (platform == kCpanel) return root + "/etc/valiases/" + domain;
  if (platform == kDirectAdmin) return root + "/etc/virtual/" + domain + "/aliases";
  return {};
}

CatchallScan scan_catchalls(const std::string& root, Platform platform, const std::vector<std::string>& domains,
                            const Exim* exim) {
  CatchallScan scan;
  std::set<std::string> local(domains.begin(), domains.end());
  for (const std::string& domain : domains) {
    std::string file = alias_file_for(root, platform, domain);
    if (!file.empty()) {
      ++scan.domains_checked;
      std::string text, error;
      if (!read_file_nofollow(file, &text, &error)) {
        if (!error.empty()) scan.errors.push_back(error);
        continue;
      }
      auto line = find_catchall(text);
      if (!line) continue;
      CatchallKind kind = classify_catchall(line->target, local);
      if (kind == CatchallKind::fail) continue;
      scan.domains.push_back({domain, file, kind, line->target, line->line, 0});
    } else if (exim) {
      // Panel-agnostic: a local part nobody has must fail to verify (exit 2).
      ++scan.domains_checked;
      std::string nonce = "sw-nonexistent-" + std::to_string(::getpid()) + "-probe@" + domain;
      ProcessResult r = exim->run({"-bv", nonce}, "", 20000);
      if (r.exit_code == 2) continue;
      if (r.exit_code != 0) {
        scan.errors.push_back(fmt::format("exim -bv {}: exit {} {}", nonce, r.exit_code,
                                          std::string(trim(r.err + r.out)).substr(0, 200)));
        continue;
      }
      std::string answer(trim(r.out));
      CatchallKind kind = answer.find(":blackhole:") != std::string::npos ? CatchallKind::blackhole
                          : answer.find("pipe") != std::string::npos      ? CatchallKind::pipe
                                                                          : CatchallKind::unknown;
      scan.domains.push_back({domain, "", kind, "exim -bv: " + answer.substr(0, 200), 0, 0});
    }
  }
  return scan;
}

std::map<std::string, uint64_t> catchall_deliveries(const std::string& mainlog, const std::set<std::string>& routers,
                                                    std::string* error) {
  std::map<std::string, uint64_t> counts;
  std::unique_ptr<logio::ByteSource> source;
  try {
    source = logio::open_source(mainlog, 0);
  } catch (const std::exception& e) {
    *error = e.what();
    return counts;
  }
  eximlog::LogLine parsed;
  for (;;) {
    logio::Block block = source->next_block();
    if (block.bytes.empty()) break;
    size_t pos = 0;
    std::string_view bytes = block.bytes;
    while (pos < bytes.size()) {
      size_t end = bytes.find('\n', pos);
      if (end == std::string_view::npos) end = bytes.size();
      std::string_view line = bytes.substr(pos, end - pos);
      pos = end + 1;
      if (line.find(" R=virtual_aliases") == std::string_view::npos && routers.size() == 1 &&
          routers.contains("virtual_aliases"))
        continue;  // the common case, without parsing every line
      if (eximlog::parse_line(line, parsed) != eximlog::LineKind::Delivery ||
          !routers.contains(std::string(parsed.router)))
        continue;
      std::string_view address = parsed.original.empty() ? parsed.address : parsed.original;
      size_t at = address.rfind('@');
      if (at != std::string_view::npos) ++counts[to_lower(address.substr(at + 1))];
    }
  }
  return counts;
}

std::vector<Finding> catchall_findings(const CatchallScan& scan, Platform platform) {
  std::vector<Finding> out;
  for (const DomainCatchall& d : scan.domains) {
    Severity severity = d.kind == CatchallKind::external_forward ? Severity::warn
                        : d.kind == CatchallKind::local_mailbox  ? Severity::info
                                                                 : Severity::warn;
    std::string where = d.file.empty() ? d.domain : fmt::format("{}:{}", d.file, d.line);
    Finding f{"C1",
              severity,
              d.domain,
              fmt::format("catch-all {} accepts mail for every local part", catchall_kind_name(d.kind)),
              {where + ": *: " + d.target, fmt::format("{} deliveries through it in the main log", d.deliveries)},
              d.file.empty() ? "make unknown local parts fail (redirect to :fail:)"
                             : "spamwarden audit fix catchall (dry run), then --yes"};
    if (d.kind == CatchallKind::external_forward)
      f.evidence.push_back("forwards spam sent to random addresses to an outside mailbox: backscatter, listings");
    out.push_back(std::move(f));
  }
  if (!scan.domains.empty())
    out.push_back({"C2",
                   Severity::info,
                   fmt::format("{} domains", scan.domains.size()),
                   "with a catch-all, dictionary-attack protection never fires and verify = sender passes any "
                   "local part of those domains",
                   {},
                   ""});
  if (scan.domains.empty() && scan.domains_checked > 0)
    out.push_back(
        {"C1", Severity::ok, fmt::format("{} domains", scan.domains_checked), "no catch-all except :fail:", {}, ""});
  for (const std::string& e : scan.errors)
    out.push_back({"C1", Severity::inconclusive, "alias file", "could not be checked: " + e, {}, ""});
  (void)platform;
  return out;
}

}  // namespace sw::audit
