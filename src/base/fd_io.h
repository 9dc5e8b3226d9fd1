// Whole reads and writes on a file descriptor: read(2), write(2) and pread(2) may do part of
// what was asked, or be interrupted by a signal, and each caller would loop the same way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sw {

// Writes all of `bytes`; false on an error (errno says which).
bool write_all(int fd, std::string_view bytes);

// pread(2) until `length` bytes or the end of the file: the bytes read (fewer at the end);
// sets `error` to errno when a read fails (and stops there).
std::size_t pread_fully(int fd, char* dst, std::size_t length, uint64_t offset, int& error);

// `length` bytes at `offset` into `out`; false when the file holds fewer there or a read fails
// (`out` then holds what was read).
bool pread_exactly(int fd, uint64_t offset, std::size_t length, std::string& out);

// The whole of a regular file into `out`. False with *error ("cannot read PATH: why", or "PATH
// is not a file" for a directory or device in its place), and *missing set when it does not
// exist; never an exception (a stream reading a directory throws one).
bool read_file_whole(const std::string& path, std::string& out, std::string* error, bool* missing = nullptr);

// At most `limit` bytes of a file from its start into `out`, never following a symbolic link
// nor waiting on a FIFO. False with *error ("cannot open PATH: why") when it cannot be opened,
// or ("PATH is not a file") with `regular_only` when it is something else.
bool read_file_prefix(const std::string& path, std::size_t limit, std::string* out, std::string* error,
                      bool regular_only = false);

}  // namespace sw
