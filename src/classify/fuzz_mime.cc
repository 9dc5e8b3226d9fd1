// libFuzzer: any bytes through MIME parsing, HTML reduction and tokenizing must neither crash
// nor exceed the caps, and every text it yields must be valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/utf8.h"
#include "classify/mime.h"
#include "classify/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  sw::classify::ParsedMessage m = sw::classify::parse_message(raw);
  if (!sw::valid_utf8(m.text) || m.parts > sw::classify::MimeLimits{}.max_parts + 1) std::abort();
  for (const auto& h : m.headers)
    if (!sw::valid_utf8(h.value)) std::abort();
  sw::classify::TokenSet t = sw::classify::tokenize(m);
  if (t.tokens().size() > sw::classify::TokenizerLimits{}.max_tokens) std::abort();
  return 0;
}
