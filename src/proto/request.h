// The policy daemon's protocol-neutral request and answer. The adapters (Exim readsocket line,
// Postfix policy attributes, spamd) fill a Request; the engine answers with a Decision.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw::proto {

// The SMTP stage a request comes from. UnknownRcpt is a report, not a question: the RCPT
// snippet sends it after Exim's own `!verify = recipient` failed (dictionary-attack guard).
// Other: a stage the daemon does not decide at (Postfix VRFY, ETRN): answered DUNNO.
enum class Stage : uint8_t { Connect, Helo, Mail, Rcpt, Data, NotSmtp, UnknownRcpt, Other };
inline constexpr size_t kStages = 8;
const char* stage_name(Stage stage);  // "connect", "helo", ...
std::optional<Stage> parse_stage(std::string_view name);

struct Request {
  Stage stage = Stage::Connect;
  std::string client_ip;     // empty for local submissions
  std::string interface_ip;  // the address the client connected to
  std::string helo;
  std::string sender;     // envelope sender, as sent
  std::string recipient;  // RCPT stage
  std::string auth;       // SMTP AUTH id
  std::string local_user;
  std::string uid;
  std::string script;  // X-PHP-Originating-Script / X-PHP-Script at not-SMTP
  std::string message_id;
  uint32_t recipients = 0;    // Data / NotSmtp: the message's recipient count
  bool trusted_host = false;  // the client is in Exim's relay_from_hosts (not "outside")
  bool helo_is_local_domain = false;

  void clear();  // keeps the strings' capacity: one Request serves a connection's requests
};

// What the engine answers. Never "accept": an answer only holds mail back or lets Exim's
// (or Postfix's) own checks continue, so no list or limit can ever grant relay.
enum class Action : uint8_t { Dunno, Defer, Reject, Drop, Freeze, Delay };
inline constexpr size_t kActions = 6;
const char* action_name(Action action);  // "dunno", "defer", ...

struct Decision {
  Action action = Action::Dunno;
  int delay_seconds = 0;  // Delay
  std::string check;      // "rate_limit", "held", "dictionary", "helo", "deny_list", ...
  std::string actor;      // "auth_account:x@example.com"
  std::string detail;     // the numbers: "11 messages in 3600s (limit 10)"

  void clear();
};

}  // namespace sw::proto
