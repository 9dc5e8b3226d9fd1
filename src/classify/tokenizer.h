// A parsed message as a set of features: words and word pairs of the body, words of each
// header under that header's name, URL domains, MIME structure and a few header-sanity rules.
// Every feature is a name ("subject:viagra", "url:example.top", "rule:NO_DATE") hashed to 64 bits.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classify/mime.h"

namespace sw::classify {

struct Token {
  uint64_t hash;
  uint32_t name_at;    // offset of its name in TokenSet::names
  uint16_t name_size;  // of the name shown in reasons (the hash covers all of it); 16 bytes a token
  uint16_t count = 1;  // times the message produced it (after finish()), at most 65535
};

class TokenSetBuilder;

class TokenSet {
 public:
  void add(std::string_view name);
  void reserve(std::size_t tokens, std::size_t name_bytes) {
    tokens_.reserve(tokens);
    names_.reserve(name_bytes);
  }
  // Empties the set but keeps its buffers: a scanning thread reuses one set for every message.
  void clear() {
    tokens_.clear();
    names_.clear();
  }
  // Sorts by hash and folds repeats into one token with their count: learning counts each
  // feature once per message; scoring may let a repeated feature weigh more than once.
  void finish();
  const std::vector<Token>& tokens() const { return tokens_; }
  std::string_view name(const Token& t) const { return std::string_view(names_).substr(t.name_at, t.name_size); }

 private:
  friend class TokenSetBuilder;  // writes names in place, hashing them as it goes
  std::vector<Token> tokens_;
  std::string names_;
};

uint64_t token_hash(std::string_view name);

struct TokenizerLimits {
  std::size_t max_tokens = 6000;    // features per message, the rest ignored
  std::size_t max_word_bytes = 40;  // longer "words" (base64 runs, hashes) become one shape token
};

TokenSet tokenize(const ParsedMessage& message, const TokenizerLimits& limits = {});
// The same into *out (cleared first, its buffers reused).
void tokenize(const ParsedMessage& message, TokenSet* out, const TokenizerLimits& limits = {});

}  // namespace sw::classify
