// libFuzzer: manifest.json text (as restore reads it from a batch) never crashes the reader,
// and a manifest it accepts writes back to JSON that reads back to the same manifest.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/json_text.h"
#include "queue/quarantine.h"

namespace {

bool same(const sw::queue::Manifest& a, const sw::queue::Manifest& b) {
  if (a.spool_dir != b.spool_dir || a.selection != b.selection || a.operator_name != b.operator_name ||
      a.messages.size() != b.messages.size())
    return false;
  for (size_t i = 0; i < a.messages.size(); ++i) {
    const auto &x = a.messages[i], &y = b.messages[i];
    if (x.id != y.id || x.removed != y.removed || x.note != y.note || x.files.size() != y.files.size()) return false;
    for (size_t f = 0; f < x.files.size(); ++f)
      if (x.files[f].original_path != y.files[f].original_path || x.files[f].stored_name != y.files[f].stored_name ||
          x.files[f].mode != y.files[f].mode || x.files[f].size != y.files[f].size)
        return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  sw::queue::Manifest manifest;
  std::string error;
  if (!sw::queue::manifest_from_text(text, manifest, &error)) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  sw::queue::Manifest again;
  if (!sw::queue::manifest_from_text(sw::json_text(sw::queue::manifest_to_json(manifest), 2), again, &error) ||
      !same(manifest, again))
    std::abort();
  return 0;
}
