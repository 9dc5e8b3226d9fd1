// libFuzzer target for what turns outside bytes into shown or stored text: printable() and
// json_text() must always give UTF-8, utf8_prefix() must stay inside and not split a
// character, json_bytes() must give the same bytes back through JSON text, and a report cell
// (fit_columns, pad_columns) must take no more columns than it was given.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/display_width.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!sw::valid_utf8(sw::printable(bytes))) std::abort();
  if (!sw::valid_utf8(sw::printable(bytes, size / 2))) std::abort();
  size_t cut = sw::utf8_prefix(bytes, size / 2);
  if (cut > size / 2) std::abort();
  if (sw::valid_utf8(bytes) && !sw::valid_utf8(bytes.substr(0, cut))) std::abort();
  size_t columns = size % 97;
  if (sw::display_width(sw::fit_columns(bytes, columns)) > columns) std::abort();
  if (sw::display_width(sw::pad_columns(bytes, columns)) != columns) std::abort();
  std::string shown = sw::printable(bytes);
  for (size_t i = 0, n = 0; i < shown.size(); i += n) {
    char32_t cp = sw::decode_utf8(std::string_view(shown).substr(i), n);
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
      std::abort();  // a control or a bidi override reached the terminal
  }
  if (sw::columns_prefix(bytes, columns) > size) std::abort();
  std::string text = sw::json_text(nlohmann::json{{"raw", bytes}, {"kept", sw::json_bytes(bytes)}});
  if (!sw::valid_utf8(text)) std::abort();
  auto back = nlohmann::json::parse(text, nullptr, false);
  if (back.is_discarded() || sw::bytes_from_json(back["kept"]) != bytes) std::abort();
  return 0;
}
