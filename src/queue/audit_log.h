// Append-only audit trail of every queue action (dry runs included): one JSON object per line
// in <state>/audit.jsonl. Written with O_APPEND in one write(), so concurrent runs interleave
// whole lines.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace sw::queue {

// Adds "time" and "operator" and appends; false (with *error) if the log cannot be written.
bool append_audit_record(const std::string& state_dir, nlohmann::json record, const std::string& operator_name,
                         std::string* error);

// "root (sudo by alice)" style: real user, plus SUDO_USER when present.
std::string current_operator();

}  // namespace sw::queue
