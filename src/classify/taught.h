// What teaching the content filter one message did. The model remembers which messages it
// learned and as what (like SpamAssassin's bayes_seen and spamprobe's digests), so a message
// learned twice counts once, learning it as the other class moves it, and forgetting needs no
// label.
#pragma once
#include <cstdint>

namespace sw::classify {

enum class Taught : uint8_t {
  Learned,         // new to the model, now learned
  Relearned,       // had been learned as the other class: moved
  AlreadyLearned,  // learned before as the same class: nothing changed
  Forgotten,       // learned before: undone
  NotLearned,      // forget of a message the model never learned: nothing changed
  Failed,          // a fleet's journal out of reach: nothing changed anywhere (Scanner only)
  Unsaved,         // serve cannot save the model where it lives: nothing changed (serve only)
};

// Whether the model changed (what spamd's DidSet and DidRemove say).
inline bool changed(Taught t) { return t == Taught::Learned || t == Taught::Relearned || t == Taught::Forgotten; }
const char* taught_name(Taught t);

}  // namespace sw::classify
