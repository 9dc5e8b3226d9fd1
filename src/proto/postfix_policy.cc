#include "proto/postfix_policy.h"

#include <charconv>

#include "proto/exim_request.h"

namespace sw::proto {

namespace {

std::optional<Stage> postfix_stage(std::string_view state) {
  if (state == "CONNECT") return Stage::Connect;
  if (state == "EHLO" || state == "HELO") return Stage::Helo;
  if (state == "MAIL") return Stage::Mail;
  if (state == "RCPT") return Stage::Rcpt;
  // Counted once per message: check_policy_service belongs in smtpd_data_restrictions or
  // smtpd_end_of_data_restrictions, not both.
  if (state == "DATA" || state == "END-OF-MESSAGE") return Stage::Data;
  return std::nullopt;  // VRFY, ETRN, BDAT...: answered DUNNO
}

}  // namespace

PostfixRequestReader::Status PostfixRequestReader::feed(std::string_view* in, Request* out, std::string* error) {
  while (!in->empty()) {
    size_t nl = in->find('\n');
    std::string_view chunk = in->substr(0, nl);
    if (line_.size() + chunk.size() > kMaxPostfixLineBytes) {
      *error = "attribute line longer than " + std::to_string(kMaxPostfixLineBytes) + " bytes";
      return Status::Error;
    }
    bytes_ += chunk.size() + 1;
    if (bytes_ > kMaxPostfixRequestBytes) {
      *error = "request longer than " + std::to_string(kMaxPostfixRequestBytes) + " bytes";
      return Status::Error;
    }
    if (nl == std::string_view::npos) {
      line_.append(chunk);
      in->remove_prefix(in->size());
      return Status::NeedMore;
    }
    in->remove_prefix(nl + 1);
    std::string_view line = chunk;
    if (!line_.empty()) {
      line_.append(chunk);
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      line_.clear();
      if (attributes_ == 0) continue;  // stray blank lines between requests
      bool ok = finish(out, error);
      return ok ? Status::Complete : Status::Error;
    }
    bool ok = take_line(line, out, error);
    line_.clear();
    if (!ok) return Status::Error;
  }
  return Status::NeedMore;
}

bool PostfixRequestReader::take_line(std::string_view line, Request* r, std::string* error) {
  if (attributes_ == 0) {
    r->clear();
    have_request_ = state_seen_ = false;
  }
  if (++attributes_ > kMaxPostfixAttributes) {
    *error = "more than " + std::to_string(kMaxPostfixAttributes) + " attributes";
    return false;
  }
  if (line.find('\0') != std::string_view::npos) {
    *error = "NUL byte in attribute";
    return false;
  }
  size_t eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    *error = "attribute without name=value";
    return false;
  }
  std::string_view name = line.substr(0, eq), value = line.substr(eq + 1);
  if (name == "request") {
    have_request_ = value == "smtpd_access_policy";
    if (!have_request_) {
      *error = "request=" + std::string(value.substr(0, 40)) + " is not smtpd_access_policy";
      return false;
    }
  } else if (name == "protocol_state") {
    decoded_state_.assign(value);
    state_seen_ = true;
  } else if (name == "client_address") {
    r->client_ip.assign(value);
  } else if (name == "server_address") {
    r->interface_ip.assign(value);
  } else if (name == "helo_name") {
    r->helo.assign(value);
  } else if (name == "sender") {
    r->sender.assign(value);
  } else if (name == "recipient") {
    r->recipient.assign(value);
  } else if (name == "sasl_username") {
    r->auth.assign(value);
  } else if (name == "queue_id") {
    r->message_id.assign(value);
  } else if (name == "recipient_count") {
    uint32_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    r->recipients = (ec == std::errc() && p == value.data() + value.size()) ? n : 0;
  }
  return true;  // unknown attributes: ignored, the set grows between Postfix versions
}

bool PostfixRequestReader::finish(Request* r, std::string* error) {
  attributes_ = 0;
  bytes_ = 0;
  if (!have_request_) {
    *error = "request without request=smtpd_access_policy";
    return false;
  }
  if (!state_seen_) {
    *error = "request without protocol_state";
    return false;
  }
  auto stage = postfix_stage(decoded_state_);
  r->stage = stage.value_or(Stage::Other);
  return true;
}

void append_postfix_reply(const Decision& d, std::string* out) {
  out->append("action=");
  switch (d.action) {
    case Action::Dunno:
    case Action::Delay: out->append("DUNNO\n\n"); return;
    case Action::Defer: out->append("DEFER_IF_PERMIT "); break;
    case Action::Reject: out->append("REJECT "); break;
    case Action::Drop: out->append("521 5.7.1 "); break;
    case Action::Freeze: out->append("HOLD "); break;
  }
  append_reason(d, out);
  out->append("\n\n");
}

}  // namespace sw::proto
