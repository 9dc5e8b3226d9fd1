// UTF-8 checks for text that is shown or written as JSON: mail headers and log lines are
// bytes, and only some of them are UTF-8.
#pragma once
#include <cstddef>
#include <string_view>

namespace sw {

// Length of the well-formed UTF-8 sequence at s[0] (1-4), or 0 when s[0] does not start
// one (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short).
size_t utf8_sequence_length(std::string_view s);

bool valid_utf8(std::string_view s);

// The code point of the well-formed UTF-8 sequence at s[0], its length in `length`; a byte
// that does not start one decodes as itself with length 1 (so callers always advance), and
// an empty s as 0 with length 0.
char32_t decode_utf8(std::string_view s, size_t& length);

// The longest prefix of s of at most max_bytes that does not cut a UTF-8 sequence in two.
size_t utf8_prefix(std::string_view s, size_t max_bytes);

}  // namespace sw
