#include "base/json_text.h"

#include <gtest/gtest.h>

#include "base/utf8.h"

namespace sw {
namespace {

TEST(JsonText, BytesThatAreNotUtf8AreReplacedNotThrown) {
  nlohmann::json j = {{"subject", "Bestellbest\xe4tigung"}, {"ok", "Caf\xc3\xa9"}};
  EXPECT_THROW(j.dump(), nlohmann::json::type_error) << "the failure this helper exists for";
  std::string text = json_text(j);
  EXPECT_TRUE(valid_utf8(text));
  auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["subject"], "Bestellbest\xef\xbf\xbdtigung");  // U+FFFD
  EXPECT_EQ(back["ok"], "Caf\xc3\xa9");
}

TEST(JsonText, BytesRoundTripExactly) {
  for (std::string bytes : {std::string("/home/u/public_html/x.php"), std::string("/home/caf\xe9/n\xe9ws.php"),
                            std::string("\x00\xff\x80 end", 7), std::string()}) {
    nlohmann::json j = json_bytes(bytes);
    EXPECT_EQ(j.is_string(), valid_utf8(bytes));
    std::string text = json_text(j);
    EXPECT_EQ(bytes_from_json(nlohmann::json::parse(text)), bytes);
  }
  EXPECT_EQ(json_bytes("caf\xe9")["hex"], "636166e9");
}

TEST(JsonText, MalformedHexIsAnError) {
  EXPECT_THROW(bytes_from_json(nlohmann::json{{"hex", "6g"}}), nlohmann::json::type_error);
  EXPECT_THROW(bytes_from_json(nlohmann::json{{"hex", "616"}}), nlohmann::json::type_error);
  EXPECT_THROW(bytes_from_json(nlohmann::json{{"other", "61"}}), nlohmann::json::exception);
  EXPECT_THROW(bytes_from_json(nlohmann::json(42)), nlohmann::json::exception);
}

}  // namespace
}  // namespace sw
