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

TEST(StringArena, StoresLowercasedCopyLeavingSourceAlone) {
  StringArena arena;
  std::string source = "Sales@ACME-Shop.Example";
  EXPECT_EQ(arena.store_lowered(source), "sales@acme-shop.example");
  EXPECT_EQ(source, "Sales@ACME-Shop.Example");
  EXPECT_EQ(arena.store("MiXed"), "MiXed");
}

}  // namespace
}  // namespace sw
