#include "classify/mail_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sw::classify {

namespace {
// Whether the line after the one starting at `from` looks like "Name: value".
bool next_line_is_header(std::string_view text, size_t from) {
  size_t eol = text.find('\n', from);
  if (eol == std::string_view::npos) return false;
  std::string_view next = text.substr(eol + 1, 200);
  size_t colon = next.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (char c : next.substr(0, colon))
    if (c <= ' ' || c > '~') return false;
  return true;
}
}  // namespace

void split_mbox(std::string_view text, const std::function<void(std::string_view)>& message) {
  if (!text.starts_with("From ")) {
    if (!text.empty()) message(text);
    return;
  }
  size_t start = 0;
  for (size_t at = text.find("\n\nFrom ", 0); at != std::string_view::npos; at = text.find("\n\nFrom ", at + 1)) {
    if (!next_line_is_header(text, at + 2)) continue;  // an unescaped "From " in a body
    message(text.substr(start, at + 1 - start));
    start = at + 2;
  }
  message(text.substr(start));
}

namespace {

bool read_whole(const std::string& path, std::string* out, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    *why = "read error";
    return false;
  }
  *out = std::move(buffer).str();
  return true;
}

}  // namespace

void for_each_message(const std::string& path, const std::function<void(std::string_view)>& message,
                      const std::function<void(const std::string&, const std::string&)>& error, SourceCounts* counts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec) {
    ++counts->errors;
    error(path, ec.message());
    return;
  }
  if (fs::is_directory(status)) {
    std::vector<std::string> entries;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with(".") || name == "tmp") continue;  // maildir's tmp/ holds half-delivered mail
      entries.push_back(it->path().string());
    }
    if (ec) {
      ++counts->errors;
      error(path, ec.message());
    }
    std::sort(entries.begin(), entries.end());
    for (const std::string& entry : entries) for_each_message(entry, message, error, counts);
    return;
  }
  if (!fs::is_regular_file(status)) return;
  std::string text, why;
  if (!read_whole(path, &text, &why)) {
    ++counts->errors;
    error(path, why);
    return;
  }
  ++counts->files;
  split_mbox(text, [&](std::string_view one) {
    ++counts->messages;
    message(one);
  });
}

}  // namespace sw::classify
