// Files replaced whole: written to a temporary file beside the target, fsynced and renamed over
// it, so a crash leaves the old file or the new one, never part of either.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

namespace sw {

// false with *error (naming the file and the reason) when it could not be written; the old
// file is then left as it was. The temporary file is temporary_path(PATH); those of processes
// that no longer run (killed while writing: a content model is megabytes) are removed first.
bool write_file_atomically(const std::string& path, std::string_view bytes, std::string* error, int mode = 0640);

// Where a file is written before it is renamed over PATH: PATH.tmp.PID, this process's.
std::string temporary_path(const std::string& path);

// A writer in another PID namespace (a container sharing the directory) may have the pid of a
// process gone here and still run: by default only temporaries untouched this long are removed.
inline constexpr std::chrono::seconds kStaleTemporaryAge = std::chrono::minutes(10);
// Removes temporary_path(PATH) files whose process is gone; returns how many.
size_t remove_stale_temporaries(const std::string& path);
// The same for every file of `dir` named NAME.tmp.PID where NAME ends with `suffix` ("": any),
// untouched for `min_age` (0 where one process owns the directory, as watch owns holds/).
size_t remove_stale_temporaries_in(const std::string& dir, std::string_view suffix,
                                   std::chrono::seconds min_age = kStaleTemporaryAge);

}  // namespace sw
