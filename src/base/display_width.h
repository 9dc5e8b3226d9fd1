// How many terminal columns text takes. Mail subjects, addresses and log lines come in every
// script: East Asian wide and fullwidth characters (CJK, Hangul, kana, most emoji) take two
// columns, combining marks and other zero-width characters none, the rest one. A report that
// counted code points would overflow its columns on a Chinese or emoji subject.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace sw {

// Columns of one code point: 0, 1 or 2. Where Unicode's tables and terminals disagree, the
// wider answer is given: a cut a column early is harmless, a line too long is not.
int code_point_columns(char32_t cp);

// Columns of text; bytes that are not UTF-8 count one each.
size_t display_width(std::string_view s);

// The longest prefix of s, in bytes, that takes at most `columns` columns. Never cuts a
// character; zero-width marks stay with the character before them.
size_t columns_prefix(std::string_view s, size_t columns);

}  // namespace sw
