#include "base/chunked_vector.h"

#include <gtest/gtest.h>

#include <string>

namespace sw {
namespace {

TEST(ChunkedVector, ElementsStayPutAcrossChunks) {
  ChunkedVector<std::string, 2> v;  // chunks of 4
  std::string& first = v.emplace_back();
  first = "a";
  for (int i = 1; i < 10; ++i) v.emplace_back() = std::to_string(i);
  EXPECT_EQ(&first, &v[0]);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(v[9], "9");
  EXPECT_EQ(v.at(4), "4");
  EXPECT_THROW(v.at(10), std::out_of_range);
  std::string joined;
  for (const auto& s : v) joined += s;
  EXPECT_EQ(joined, "a123456789");
}

}  // namespace
}  // namespace sw
