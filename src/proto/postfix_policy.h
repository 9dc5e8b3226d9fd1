// The Postfix SMTPD policy delegation protocol: "name=value" lines, an empty line ends a
// request; the answer is "action=...\n\n"; the connection stays open for the next request.
// Pure and incremental: the reader takes bytes as they arrive.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "proto/request.h"

namespace sw::proto {

inline constexpr size_t kMaxPostfixLineBytes = 4096;
inline constexpr size_t kMaxPostfixAttributes = 64;
inline constexpr size_t kMaxPostfixRequestBytes = 32768;

class PostfixRequestReader {
 public:
  enum class Status { NeedMore, Complete, Error };
  // Consumes bytes from *in (advancing it) until a request is complete (then *out holds it
  // and the rest of *in is the next request's), more bytes are needed, or the input is bad
  // (*error says why: an over-long line, too many attributes, a NUL, a line without '=',
  // no request=smtpd_access_policy, an unknown protocol_state).
  Status feed(std::string_view* in, Request* out, std::string* error);
  // True while a request has begun but not ended (EOF then loses it).
  bool in_request() const { return !line_.empty() || attributes_ > 0; }

 private:
  bool take_line(std::string_view line, Request* out, std::string* error);
  bool finish(Request* out, std::string* error);
  std::string line_;  // the partial line carried over between reads
  std::string decoded_state_;
  size_t attributes_ = 0, bytes_ = 0;
  bool have_request_ = false, state_seen_ = false;
};

// Appends "action=...\n\n" for the decision. Postfix has no tarpit answer: a Delay is DUNNO
// (Postfix's own smtpd_error_sleep_time and the other checks still apply).
void append_postfix_reply(const Decision& decision, std::string* out);

}  // namespace sw::proto
