// Files replaced whole: written to a temporary file beside the target, fsynced and renamed over
// it, so a crash leaves the old file or the new one, never part of either.
#pragma once
#include <string>
#include <string_view>

namespace sw {

// false with *error (naming the file and the reason) when it could not be written; the old
// file is then left as it was. The temporary file is PATH.tmp.PID; those of processes that no
// longer run (killed while writing: a content model is megabytes) and untouched for 10 minutes
// are removed first.
bool write_file_atomically(const std::string& path, std::string_view bytes, std::string* error, int mode = 0640);

// Removes PATH.tmp.PID files whose process is gone; returns how many.
size_t remove_stale_temporaries(const std::string& path);
// The same for every file of `dir` named NAME.tmp.PID where NAME ends with `suffix` (a cache's
// entries, whose names vary).
size_t remove_stale_temporaries_in(const std::string& dir, std::string_view suffix);

}  // namespace sw
