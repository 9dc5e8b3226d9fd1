#include "base/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <string>

#include "base/text.h"

namespace sw {
namespace {

// Per thread, shared by every Regex: a search only needs to know whether it matched, so one
// ovector pair will do, and the interpreter keeps its backtracking frames here between calls.
struct ThreadScratch {
  pcre2_match_data* match_data = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  size_t jit_stack_bytes = 0;
  ~ThreadScratch() {
    pcre2_match_data_free(match_data);
    if (jit_stack) pcre2_jit_stack_free(jit_stack);
  }
};
thread_local ThreadScratch scratch;

// PCRE2 asks for the compiled matcher's stack at every search; `data` is the size wanted.
pcre2_jit_stack* thread_jit_stack(void* data) {
  size_t bytes = *static_cast<const size_t*>(data);
  if (scratch.jit_stack && scratch.jit_stack_bytes != bytes) {
    pcre2_jit_stack_free(scratch.jit_stack);
    scratch.jit_stack = nullptr;
  }
  if (!scratch.jit_stack) {
    scratch.jit_stack = pcre2_jit_stack_create(std::min<size_t>(32 * 1024, bytes), bytes, nullptr);
    scratch.jit_stack_bytes = bytes;
  }
  return scratch.jit_stack;  // null: PCRE2 falls back to 32 KiB on the machine stack
}

std::string error_text(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof buffer);
  return n < 0 ? "error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buffer), size_t(n));
}

}  // namespace

struct Regex::Compiled {
  std::string pattern;
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  size_t jit_stack_bytes = 0;
  bool jit = false;
  ~Compiled() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

std::optional<Regex> Regex::compile(std::string_view pattern, const RegexOptions& options, std::string* error) {
  auto compiled = std::make_shared<Compiled>();
  compiled->pattern = pattern;
  // NEVER_UTF: headers are bytes, and a (*UTF) in the pattern would make PCRE2 reject every
  // subject that is not valid UTF-8.
  uint32_t flags = PCRE2_NEVER_UTF | (options.caseless ? PCRE2_CASELESS : 0);
  int code = 0;
  PCRE2_SIZE offset = 0;
  compiled->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), flags, &code, &offset, nullptr);
  if (!compiled->code) {
    *error = "'" + printable(pattern) + "' at offset " + std::to_string(offset) + ": " + error_text(code);
    return std::nullopt;
  }
  compiled->context = pcre2_match_context_create(nullptr);
  if (!compiled->context) {
    *error = "'" + printable(pattern) + "': out of memory";
    return std::nullopt;
  }
  pcre2_set_match_limit(compiled->context, options.limits.match_limit);
  pcre2_set_depth_limit(compiled->context, options.limits.depth_limit);
  pcre2_set_heap_limit(compiled->context, options.limits.heap_limit_kib);
  // Without JIT (unsupported CPU, or executable memory refused) the interpreter does the same work.
  compiled->jit = options.jit && pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE) == 0;
  if (compiled->jit) {
    compiled->jit_stack_bytes = options.limits.jit_stack_bytes;
    pcre2_jit_stack_assign(compiled->context, thread_jit_stack, &compiled->jit_stack_bytes);
  }
  return Regex(std::move(compiled));
}

RegexOutcome Regex::search(std::string_view subject) const {
  if (!scratch.match_data && !(scratch.match_data = pcre2_match_data_create(1, nullptr)))
    return RegexOutcome::limit_hit;  // out of memory: unknown, not "no match"
  const char* bytes = subject.data() ? subject.data() : "";
  int rc = pcre2_match(compiled_->code, reinterpret_cast<PCRE2_SPTR>(bytes), subject.size(), 0, 0, scratch.match_data,
                       compiled_->context);
  if (rc >= 0) return RegexOutcome::match;  // 0: matched, with more groups than the one ovector pair
  if (rc == PCRE2_ERROR_NOMATCH) return RegexOutcome::no_match;
  return RegexOutcome::limit_hit;  // match, depth, heap or JIT stack limit, or no memory
}

const std::string& Regex::pattern() const { return compiled_->pattern; }

bool Regex::uses_jit() const { return compiled_->jit; }

}  // namespace sw
