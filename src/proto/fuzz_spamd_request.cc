// libFuzzer: the spamd/RSPAMC request parser reads whatever a local client sends, in any
// chunking; every reply it leads to must be one Exim can read or a bare status line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/spamd.h"

using sw::proto::spamd::RequestParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size, so split reads are explored too.
  size_t chunk = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  sw::proto::spamd::Limits limits;
  limits.scan_bytes = 4096;
  limits.max_message = 1 << 20;
  limits.max_header_line = 512;
  RequestParser parser(limits);
  RequestParser::State state = RequestParser::State::kNeedMore;
  for (size_t i = 0; i < bytes.size() && state == RequestParser::State::kNeedMore; i += chunk) {
    state = parser.feed(bytes.substr(i, chunk));
  }
  if (state == RequestParser::State::kNeedMore) state = parser.finish();
  const auto& request = parser.request();
  if (request.message.size() > limits.scan_bytes) __builtin_trap();
  if (state == RequestParser::State::kError && parser.error().empty()) __builtin_trap();
  if (state == RequestParser::State::kComplete) {
    sw::proto::spamd::ScanResult result{
        .score = 6.5, .threshold = 5, .is_spam = true, .symbols = {{std::string(request.message.substr(0, 80)), 1.0}}};
    std::string reply = sw::proto::spamd::encode_scan_reply(request, result);
    // The report goes into a header: a symbol taken from the message must not add a line.
    size_t header_end = reply.find("\r\n\r\n");
    if (header_end == std::string::npos && request.dialect == sw::proto::spamd::Dialect::kSpamc) __builtin_trap();
  }
  return 0;
}
