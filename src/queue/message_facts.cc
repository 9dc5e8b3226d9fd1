#include "queue/message_facts.h"

#include <unistd.h>

#include <algorithm>

#include "base/text.h"
#include "eximlog/log_line.h"

namespace sw::queue {
namespace {

constexpr size_t kMaxSubjectBytes = 100;

std::string script_of(const spool::SpoolHeader& header) {
  if (const spool::Header* h = header.find_header("X-PHP-Script")) {
    std::string value = h->value();
    size_t for_ip = value.rfind(" for ");  // cPanel/PHP append the client address
    if (for_ip != std::string::npos) value.resize(for_ip);
    return value;
  }
  if (const spool::Header* h = header.find_header("X-PHP-Originating-Script")) return h->value();
  return {};
}

// cPanel adds its X-Get-Message-Sender-Via last; a script could write one of its own first, so
// two or more name nobody.
std::string identified_user(const spool::SpoolHeader& header) {
  const spool::Header* found = nullptr;
  for (const spool::Header& h : header.headers) {
    if (h.deleted() || !iequals(h.name(), "X-Get-Message-Sender-Via")) continue;
    if (found) return {};
    found = &h;
  }
  return found ? std::string(cpanel_local_user(found->value(), cpanel_host_name())) : std::string();
}

std::string first_address(std::string_view list) {
  size_t end = list.find_first_of(", ");
  return to_lower(trim(list.substr(0, end)));
}

void count_recipient_domains(const spool::SpoolHeader& header, MessageFacts& out) {
  // Views into the header's addresses, grouped case-insensitively; a scratch vector per thread.
  thread_local std::vector<std::string_view> domains;
  domains.clear();
  for (const spool::Recipient& r : header.recipients)
    if (header.non_recipients.empty() || !header.delivered_to(r.address)) {
      if (domains.empty()) assign_lower(out.first_recipient, r.address);
      domains.push_back(sw::domain_of(r.address));  // a view; queue::domain_of lowercases a copy
    }
  out.pending_recipients = domains.size();
  auto less = [](std::string_view a, std::string_view b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return ascii_lower(x) < ascii_lower(y); });
  };
  std::sort(domains.begin(), domains.end(), less);
  for (size_t i = 0; i < domains.size();) {
    size_t j = i;
    while (j < domains.size() && !less(domains[i], domains[j])) ++j;
    out.recipient_domains.emplace_back(to_lower(domains[i]), j - i);
    i = j;
  }
}

}  // namespace

std::string domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : to_lower(address.substr(at + 1));
}

std::pair<std::string_view, std::string_view> blamed_actor(const MessageFacts& facts) {
  if (!facts.auth_account.empty()) return {"auth_account", facts.auth_account};
  if (!facts.local_user.empty()) return {"local_user", facts.local_user};
  return {"sender", facts.sender};
}

namespace {

std::string& cpanel_host_slot() {
  static std::string name = [] {
    char host[256] = {};
    bool cpanel = ::access("/usr/local/cpanel", F_OK) == 0;
    return cpanel && ::gethostname(host, sizeof host - 1) == 0 ? to_lower(host) : std::string();
  }();
  return name;
}

}  // namespace

const std::string& cpanel_host_name() { return cpanel_host_slot(); }
void set_cpanel_host_name(std::string name) { cpanel_host_slot() = std::move(name); }

std::string_view cpanel_local_user(std::string_view sender_via, std::string_view this_host) {
  size_t host_end = sender_via.find(": ");
  if (this_host.empty() || host_end == std::string_view::npos || !iequals(sender_via.substr(0, host_end), this_host))
    return {};
  for (std::string_view form : {": acl_c_authenticated_local_user: ", ": authenticated_local_user: "}) {
    size_t at = sender_via.find(form, host_end);
    if (at == std::string_view::npos) continue;
    std::string_view user = sender_via.substr(at + form.size());
    user = trim(user.substr(0, user.find_first_of("/ ")));
    return eximlog::names_a_user(user) ? user : std::string_view();
  }
  return {};
}

void extract_facts(const spool::SpoolHeader& header, int64_t now, MessageFacts& out) {
  // Every field is set or cleared here; strings keep their buffers from the previous message.
  // Exim also records -auth_id for local submissions (the caller's login); only a message
  // that authenticated over SMTP (-host_auth) names an SMTP-AUTH account.
  if (header.host_auth.empty()) out.auth_account.clear();
  else assign_lower(out.auth_account, header.auth_id);  // as logs and holds key an account
  out.login.assign(header.login);
  out.uid = header.uid;
  out.bounce = header.is_bounce();
  out.sender_domain.clear(), out.sender_local_part.clear();
  if (out.bounce) {
    out.sender.assign("<>");
  } else {
    assign_lower(out.sender, header.sender);
    size_t at = out.sender.rfind('@');
    if (at != std::string::npos) out.sender_domain.assign(out.sender, at + 1);
    out.sender_local_part.assign(out.sender, 0, at);
  }
  out.client_ip.assign(header.host_address.ip);
  assign_lower(out.helo, header.helo_name);
  out.subject.clear(), out.failed_recipient.clear(), out.first_recipient.clear();
  out.recipient_domains.clear();
  out.local_submission = header.host_address.ip.empty();
  out.local_user.clear();
  if (out.local_submission && !eximlog::is_exim_login(out.login)) out.local_user = out.login;
  else if (header.host_auth.empty() &&
           (is_loopback_text(header.host_address.ip) || header.host_address.ip == header.interface_address.ip))
    out.local_user = printable(identified_user(header), 100);
  if (const spool::Header* subject = header.find_header("Subject"))
    out.subject = printable(subject->value(), kMaxSubjectBytes);
  out.script = printable(script_of(header), 300);
  if (out.bounce)
    if (const spool::Header* failed = header.find_header("X-Failed-Recipients"))
      out.failed_recipient = first_address(failed->value());
  count_recipient_domains(header, out);
  out.age_seconds = std::max<int64_t>(0, now - header.received_time);
  out.frozen = header.frozen;
  out.moved_frozen = false;  // the spool listing's to say (SummaryAccumulator::on_message)
  out.exim_generated = header.local_error;
}

}  // namespace sw::queue
