#include "base/json_text.h"

#include "base/text.h"
#include "base/utf8.h"

namespace sw {

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json json_bytes(std::string_view bytes) {
  if (valid_utf8(bytes)) return std::string(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return {{"hex", hex}};
}

std::string bytes_from_json(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  const std::string& hex = j.at("hex").get_ref<const std::string&>();
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) break;
    out += char(hi << 4 | lo);
  }
  if (out.size() * 2 != hex.size())
    throw nlohmann::json::type_error::create(302, "\"hex\" is not an even run of hex digits", &j);
  return out;
}

}  // namespace sw
