// Files read and written whole in tests: fixtures, a command's output, damaged copies.
#pragma once
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace sw::testing {

// The file's bytes; empty when it cannot be read.
inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace sw::testing
