// Messages to learn from, wherever an admin keeps them: one message per file, a directory tree
// (maildir cur/ and new/ included), or an mbox file holding many.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace sw::classify {

// Splits an mbox into its messages: each starts at a "From " line at the start of the text or
// after a blank line. A file without such lines is one message.
void split_mbox(std::string_view text, const std::function<void(std::string_view)>& message);

struct SourceCounts {
  std::size_t files = 0, messages = 0, errors = 0;
  // The message being handed over: its file, and its place there (1-).
  std::string file;
  std::size_t in_file = 0;
  // "FILE" for a file's first message (most files hold one), "FILE#N" for an mbox's N-th.
  std::string label() const { return in_file > 1 ? file + "#" + std::to_string(in_file) : file; }
};

// Calls message(text) for every message under `path`; calls error(path, why) for each file or
// directory that cannot be read (a gzip-compressed file among them, and an empty file given by
// name; one found in a directory is skipped quietly) and goes on. Maildir tmp/ folders and
// dot-files are skipped, and in a maildir (a directory with cur/ and new/) everything beside
// cur/ and new/ (the IMAP server's index files). Symlinks found in a directory are not
// followed (learn runs as root over users' folders); a path given by name is.
void for_each_message(const std::string& path, const std::function<void(std::string_view)>& message,
                      const std::function<void(const std::string&, const std::string&)>& error, SourceCounts* counts);

}  // namespace sw::classify
