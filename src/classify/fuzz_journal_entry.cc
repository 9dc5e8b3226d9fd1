// libFuzzer: any bytes (what another server, or anyone with Redis access, put in the fleet's
// journal) are decoded or refused without a crash, and what decodes encodes back to the same
// bytes and can be learned (once) and forgotten by a model.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "classify/journal_entry.h"
#include "classify/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sw::classify::JournalEntry e;
  std::string error;
  if (!sw::classify::decode_entry(bytes, &e, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (sw::classify::encode_entry(e) != bytes) std::abort();
  static sw::classify::Model model;  // 8 MB of weights: one for all runs, empty again after each
  // Applied as a server applies it, then undone: taught twice counts once, forgotten is gone.
  using sw::classify::Taught;
  if (e.forget) {
    if (model.forget(e.hashes) != Taught::NotLearned) std::abort();
  } else if (model.teach(e.hashes, e.spam) != Taught::Learned ||
             model.teach(e.hashes, e.spam) != Taught::AlreadyLearned || model.forget(e.hashes) != Taught::Forgotten) {
    std::abort();
  }
  if (model.features() != 0 || model.spam_messages() + model.ham_messages() != 0 || model.messages_remembered() != 0)
    std::abort();
  sw::classify::StreamId::parse(bytes);
  return 0;
}
