#include "classify/mail_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <sys/stat.h>

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
  // `at` is the newline before "From "; a blank line before it ends the previous message, in
  // LF or CRLF files alike (an mbox copied off Windows, or written by a mailer that keeps CRLF).
  for (size_t at = text.find("\nFrom ", 1); at != std::string_view::npos; at = text.find("\nFrom ", at + 1)) {
    size_t blank = text[at - 1] == '\n' ? 1 : at >= 2 && text[at - 1] == '\r' && text[at - 2] == '\n' ? 2 : 0;
    if (blank == 0 || at - blank < start) continue;
    if (!next_line_is_header(text, at + 1)) continue;  // an unescaped "From " in a body
    message(text.substr(start, at + 1 - blank - start));
    start = at + 1;
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

using Visited = std::set<std::pair<dev_t, ino_t>>;
using ErrorFn = std::function<void(const std::string&, const std::string&)>;

bool is_maildir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir + "/cur", ec) && std::filesystem::is_directory(dir + "/new", ec);
}

// `named`: the path was given, not found in a directory walk.
void read_file_messages(const std::string& path, bool named, const std::function<void(std::string_view)>& message,
                        const ErrorFn& error, SourceCounts* counts) {
  std::string text, why;
  if (!read_whole(path, &text, &why)) {
    ++counts->errors;
    error(path, why);
    return;
  }
  if (text.empty() && !named) return;                  // an empty file in a folder is no message, nor a failure
  if (text.empty() || text.starts_with("\x1f\x8b")) {  // nothing to learn, or a gzip'd mbox read as mail
    ++counts->errors;
    error(path, text.empty() ? "empty file (skipped)" : "gzip-compressed (skipped): decompress it first (zcat)");
    return;
  }
  ++counts->files;
  counts->file = path;
  counts->in_file = 0;
  split_mbox(text, [&](std::string_view one) {
    ++counts->messages;
    ++counts->in_file;
    message(one);
  });
}

void walk(const std::string& path, bool named, const std::function<void(std::string_view)>& message,
          const ErrorFn& error, SourceCounts* counts, Visited& visited) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Inside a folder a symlink is not followed: learn runs as root over users' maildirs, and a
  // link there to /etc/shadow would teach the model its words. A path given by name is.
  auto status = named ? fs::status(path, ec) : fs::symlink_status(path, ec);
  if (ec) {
    ++counts->errors;
    error(path, ec.message());
    return;
  }
  if (!fs::is_directory(status)) {
    if (fs::is_regular_file(status)) read_file_messages(path, named, message, error, counts);
    return;
  }
  // A directory reached again through a symlink (a link to a parent) is read once.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !visited.emplace(st.st_dev, st.st_ino).second) return;
  // In a maildir only cur/ and new/ hold mail: beside them are the IMAP server's files
  // (dovecot-uidlist, dovecot.index*, maildirfolder, subscriptions, courierimap*).
  bool maildir = is_maildir(path);
  std::vector<std::string> entries;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(".") || name == "tmp") continue;  // maildir's tmp/ holds half-delivered mail
    if (maildir && name != "cur" && name != "new") continue;
    entries.push_back(it->path().string());
  }
  if (ec) {
    ++counts->errors;
    error(path, ec.message());
  }
  std::sort(entries.begin(), entries.end());
  for (const std::string& entry : entries) walk(entry, false, message, error, counts, visited);
}

}  // namespace

void for_each_message(const std::string& path, const std::function<void(std::string_view)>& message,
                      const ErrorFn& error, SourceCounts* counts) {
  Visited visited;
  walk(path, true, message, error, counts, visited);
}

}  // namespace sw::classify
