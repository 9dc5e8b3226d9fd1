#include "proto/exim_request.h"

#include <charconv>

#include "base/text.h"

namespace sw::proto {

namespace {

// The field a key names, or nullptr for a field we do not know (ignored).
std::string* field_for(std::string_view key, Request* r) {
  if (key == "ip") return &r->client_ip;
  if (key == "iface") return &r->interface_ip;
  if (key == "helo") return &r->helo;
  if (key == "sender") return &r->sender;
  if (key == "rcpt") return &r->recipient;
  if (key == "auth") return &r->auth;
  if (key == "user") return &r->local_user;
  if (key == "uid") return &r->uid;
  if (key == "script") return &r->script;
  if (key == "msgid") return &r->message_id;
  return nullptr;
}

bool parse_flag(std::string_view value, bool* out) {
  if (value == "1" || value == "yes" || value == "true") *out = true;
  else if (value.empty() || value == "0" || value == "no" || value == "false") *out = false;
  else return false;
  return true;
}

}  // namespace

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(char(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool parse_exim_request(std::string_view line, Request* out, std::string* error) {
  out->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxEximRequestBytes) {
    *error = "request longer than " + std::to_string(kMaxEximRequestBytes) + " bytes";
    return false;
  }
  for (char c : line)
    if ((unsigned char)c < 0x20 || c == 0x7f) {
      *error = "control byte in request";
      return false;
    }
  if (line.substr(0, 3) != "v1 " && line != "v1") {
    *error = "request does not start with \"v1 \"";
    return false;
  }
  line.remove_prefix(std::min<size_t>(3, line.size()));
  bool have_stage = false;
  size_t fields = 0;
  std::string decoded;
  while (!line.empty()) {
    size_t end = line.find(' ');
    std::string_view token = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end + 1);
    if (token.empty()) continue;
    if (++fields > kMaxEximFields) {
      *error = "more than " + std::to_string(kMaxEximFields) + " fields";
      return false;
    }
    size_t eq = token.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      *error = "field without name=value: " + std::string(token.substr(0, 64));
      return false;
    }
    std::string_view key = token.substr(0, eq), raw = token.substr(eq + 1);
    if (!percent_decode(raw, &decoded)) {
      *error = "bad %XX escape in " + std::string(key.substr(0, 32));
      return false;
    }
    if (decoded.size() > kMaxFieldBytes) {
      *error = std::string(key.substr(0, 32)) + " longer than " + std::to_string(kMaxFieldBytes) + " bytes";
      return false;
    }
    if (decoded.find('\0') != std::string::npos) {
      *error = "NUL byte in " + std::string(key.substr(0, 32));
      return false;
    }
    if (key == "stage") {
      auto stage = parse_stage(decoded);
      if (!stage) {
        *error = "unknown stage '" + decoded.substr(0, 32) + "'";
        return false;
      }
      out->stage = *stage;
      have_stage = true;
    } else if (key == "rcpts") {
      uint32_t n = 0;
      auto [p, ec] = std::from_chars(decoded.data(), decoded.data() + decoded.size(), n);
      if (ec != std::errc() || p != decoded.data() + decoded.size()) {
        *error = "rcpts is not a number";
        return false;
      }
      out->recipients = n;
    } else if (key == "relay" || key == "hl") {
      if (!parse_flag(decoded, key == "relay" ? &out->trusted_host : &out->helo_is_local_domain)) {
        *error = std::string(key) + " must be 0 or 1";
        return false;
      }
    } else if (std::string* field = field_for(key, out)) {
      field->assign(decoded);
    }
  }
  if (!have_stage) {
    *error = "request without stage=";
    return false;
  }
  return true;
}

void append_reason(const Decision& d, std::string* out) {
  out->append(d.check.empty() ? "policy" : d.check);
  if (!d.actor.empty()) out->append(" ").append(d.actor);
  if (!d.detail.empty()) out->append(" ").append(d.detail);
}

void append_exim_reply(const Decision& d, std::string* out) {
  switch (d.action) {
    case Action::Dunno: out->append("DUNNO\n"); return;
    case Action::Defer: out->append("DEFER "); break;
    case Action::Reject: out->append("REJECT "); break;
    case Action::Drop: out->append("DROP "); break;
    case Action::Freeze: out->append("FREEZE "); break;
    case Action::Delay: out->append("DELAY ").append(std::to_string(d.delay_seconds)).append(" "); break;
  }
  append_reason(d, out);
  out->push_back('\n');
}

}  // namespace sw::proto
