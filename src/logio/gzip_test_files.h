// For the damaged-gzip tests of the byte sources and of the scan: a file's bytes, and the
// whole lines zcat recovers from a file - the bar a damaged gzip must be read to.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "base/test_files.h"

namespace sw::logio::testing {

using sw::testing::file_bytes;

inline size_t zcat_whole_lines(const std::string& path) {
  FILE* pipe = ::popen(("zcat '" + path + "' 2>/dev/null | wc -l").c_str(), "r");
  size_t lines = 0;
  if (!pipe || std::fscanf(pipe, "%zu", &lines) != 1) ADD_FAILURE() << "zcat did not run";
  if (pipe) ::pclose(pipe);
  return lines;
}

}  // namespace sw::logio::testing
