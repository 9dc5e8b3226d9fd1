// Fuzz target: the alias-file catch-all reader, its classification and the :fail: rewrite.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/catchall.h"
#include "audit/catchall_fix.h"
#include "audit/exim_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto line = sw::audit::find_catchall(text)) {
    (void)sw::audit::classify_catchall(line->target, {"example.com"});
    std::string fixed = sw::audit::fail_catchall_text(text, *line);
    auto again = sw::audit::find_catchall(fixed);
    if (!again || sw::audit::classify_catchall(again->target, {}) != sw::audit::CatchallKind::fail) __builtin_trap();
  }
  (void)sw::audit::lookup_file_keys(text);
  (void)sw::audit::split_exim_list(text);
  return 0;
}
