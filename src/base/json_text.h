// JSON text from data that came from outside: logs, spool files, paths. JSON strings are
// UTF-8, and nlohmann::json throws on anything else when it writes them; mail and file
// names are bytes, often Latin-1 or plain garbage. Two ways through, by what the text is for.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sw {

// For reports and alerts: bytes that are not UTF-8 become U+FFFD, never an exception.
// indent < 0: one line.
std::string json_text(const nlohmann::json& j, int indent = -1);

// For state files that must give back exactly what went in (paths to restore, selections):
// valid UTF-8 stays a plain string; anything else is stored as {"hex": "..."} of its bytes.
nlohmann::json json_bytes(std::string_view bytes);
// The inverse; a plain string (as written before this form existed) is taken as it is.
// Throws nlohmann::json::type_error for anything else, as get<std::string>() would.
std::string bytes_from_json(const nlohmann::json& j);

}  // namespace sw
