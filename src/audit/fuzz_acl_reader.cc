// Fuzz target: the ACL statement reader and the relay-gate analysis over arbitrary config text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/acl_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto acls = sw::audit::read_acls(text, "fuzz");
  for (const auto& acl : acls) {
    auto gate = sw::audit::analyse_relay_gate(acl);
    for (int index : gate.early_accepts) (void)sw::audit::statement_text(acl.statements[size_t(index)]);
    if (!acl.statements.empty()) (void)sw::audit::locate_statement(text, acl.statements.front(), 0);
  }
  return 0;
}
