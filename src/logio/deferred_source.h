// A plain regular file read in ReadMode::Deferred (byte_source.h): the reading thread finds
// where each block ends, and the threads that parse the blocks read them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "logio/byte_source.h"

namespace sw::logio {

// Takes ownership of `fd`, open on a regular file of `size` bytes (read up to there: the
// file as it was when it was opened).
std::unique_ptr<ByteSource> make_deferred_source(int fd, const std::string& name, size_t index, size_t block_size,
                                                 uint64_t size);

}  // namespace sw::logio
