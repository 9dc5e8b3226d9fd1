// SHA-256 (FIPS 180-4), small and dependency-free: used to fingerprint quarantined spool files
// so a restore can prove it puts back exactly the bytes it took.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sw {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  std::array<uint8_t, 32> finish();  // the object must not be updated afterwards

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> block_{};
  size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view bytes);

// Hex digest of a whole file; empty string when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace sw
