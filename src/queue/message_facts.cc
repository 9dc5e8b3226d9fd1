#include "queue/message_facts.h"

#include <algorithm>

#include "base/text.h"

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

std::string first_address(std::string_view list) {
  size_t end = list.find_first_of(", ");
  return to_lower(trim(list.substr(0, end)));
}

void count_recipient_domains(const spool::SpoolHeader& header, MessageFacts& out) {
  std::vector<std::string> domains;
  for (const spool::Recipient& r : header.recipients)
    if (header.non_recipients.empty() || !header.delivered_to(r.address)) {
      if (domains.empty()) out.first_recipient = to_lower(r.address);
      domains.push_back(domain_of(r.address));
    }
  out.pending_recipients = domains.size();
  std::sort(domains.begin(), domains.end());
  for (size_t i = 0; i < domains.size();) {
    size_t j = i;
    while (j < domains.size() && domains[j] == domains[i]) ++j;
    out.recipient_domains.emplace_back(std::move(domains[i]), j - i);
    i = j;
  }
}

}  // namespace

std::string domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : to_lower(address.substr(at + 1));
}

bool is_exim_user(std::string_view login) {
  return login == "mailnull" || login == "Debian-exim" || login == "exim" || login == "mail";
}

std::pair<std::string_view, std::string> blamed_actor(const MessageFacts& facts) {
  if (!facts.auth_account.empty()) return {"auth_account", facts.auth_account};
  if (facts.local_submission && !is_exim_user(facts.login)) return {"login", facts.login};
  return {"sender", facts.sender};
}

void extract_facts(const spool::SpoolHeader& header, int64_t now, MessageFacts& out) {
  out = MessageFacts();
  // Exim also records -auth_id for local submissions (the caller's login); only a message
  // that authenticated over SMTP (-host_auth) names an SMTP-AUTH account.
  out.auth_account = header.host_auth.empty() ? std::string() : header.auth_id;
  out.login = header.login;
  out.uid = header.uid;
  out.bounce = header.is_bounce();
  out.sender = out.bounce ? "<>" : to_lower(header.sender);
  if (!out.bounce) {
    size_t at = out.sender.rfind('@');
    out.sender_domain = at == std::string::npos ? std::string() : out.sender.substr(at + 1);
    out.sender_local_part = out.sender.substr(0, at);
  }
  out.client_ip = header.host_address.ip;
  out.helo = to_lower(header.helo_name);
  out.local_submission = header.host_address.ip.empty();
  if (const spool::Header* subject = header.find_header("Subject"))
    out.subject = printable(subject->value(), kMaxSubjectBytes);
  out.script = printable(script_of(header), 300);
  if (out.bounce)
    if (const spool::Header* failed = header.find_header("X-Failed-Recipients"))
      out.failed_recipient = first_address(failed->value());
  count_recipient_domains(header, out);
  out.age_seconds = std::max<int64_t>(0, now - header.received_time);
  out.frozen = header.frozen;
  out.exim_generated = header.local_error;
}

}  // namespace sw::queue
