#include "base/string_arena.h"

#include <gtest/gtest.h>

#include <string>

namespace sw {
namespace {

TEST(StringArena, CopiesStayValidAcrossChunks) {
  StringArena arena;
  std::string source = "first";
  std::string_view first = arena.store(source);
  source = "changed";
  std::string filler(1000, 'x');
  for (int i = 0; i < 3000; ++i) arena.store(filler);  // spills into further chunks
  std::string_view long_key = arena.store(std::string(StringArena::kChunkBytes, 'y'));
  EXPECT_EQ(first, "first");
  EXPECT_EQ(long_key.size(), StringArena::kChunkBytes);
  EXPECT_TRUE(arena.store("").empty());
}

}  // namespace
}  // namespace sw
