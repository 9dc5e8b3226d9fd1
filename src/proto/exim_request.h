// The one-line request the Exim ACL snippets send with ${readsocket} and the one-line reply
// they test. Pure: bytes in, Request out.
//
//   v1 stage=rcpt ip=192.0.2.7 helo=mx.example sender=a@example.com rcpt=b@example.net
//   v1 stage=data ip=... auth=sales@example.com sender=... rcpts=3 msgid=1xV9s1-0003cB-2A
//   v1 stage=not_smtp user=userx1 uid=1001 script=1001:mailer.php sender=... rcpts=2
//
// Fields are separated by single spaces; a value has '%' and ' ' written as %25 and %20 (any
// %XX is decoded), so the snippets build it with two ${sg}. Unknown fields are ignored (newer
// snippets, older daemon); an empty value is the same as a missing one.
//
// Reply: "DUNNO", or a verb and the reason: "DEFER rate_limit auth_account:x 11 messages in
// 3600s (limit 10)", "DELAY 5 dictionary client_ip:192.0.2.7 ...". Verbs: DUNNO DEFER REJECT
// DROP FREEZE DELAY (DELAY's second word is the seconds).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "proto/request.h"

namespace sw::proto {

inline constexpr size_t kMaxEximRequestBytes = 8192;
inline constexpr size_t kMaxEximFields = 32;
inline constexpr size_t kMaxFieldBytes = 1024;  // after decoding; SMTP paths are at most 256

// Parses one request line (without its newline; a trailing '\r' is accepted). False with
// *error saying what is wrong: no "v1", no or unknown stage, a control byte, a bad %XX, too long.
bool parse_exim_request(std::string_view line, Request* out, std::string* error);

// Appends the reply line (with its '\n') for the decision.
void append_exim_reply(const Decision& decision, std::string* out);

// The reply's reason text without the verb: "rate_limit auth_account:x 11 messages ...".
void append_reason(const Decision& decision, std::string* out);

// %XX-decodes `in` into *out; false on a truncated or non-hex escape.
bool percent_decode(std::string_view in, std::string* out);

}  // namespace sw::proto
