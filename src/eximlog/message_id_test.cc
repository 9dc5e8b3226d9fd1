#include "eximlog/message_id.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/text.h"

namespace sw::eximlog {

// Every byte value at every position of both forms: only alphanumerics, and dashes where the
// form puts them, keep an id valid (the check reads 16 bytes at a time).
TEST(MessageId, EveryByteAtEveryPosition) {
  for (std::string id : {std::string("1FZ8zt-0005lz-E7"), std::string("1rAbCd-000000001Ab-00aZ")}) {
    ASSERT_TRUE(is_message_id(id));
    for (size_t at = 0; at < id.size(); ++at) {
      bool dash_place = id[at] == '-';
      for (int b = 0; b < 256; ++b) {
        std::string s = id;
        s[at] = char(b);
        bool want = dash_place ? b == '-' : is_alnum(char(b));
        EXPECT_EQ(is_message_id(s), want) << id << " byte " << b << " at " << at;
      }
    }
  }
}

TEST(MessageId, RecognisesBothForms) {
  EXPECT_TRUE(is_message_id("1FZ8zt-0005lz-E7"));
  EXPECT_TRUE(is_message_id("1rAbCd-000000001Ab-00aZ"));
  EXPECT_FALSE(is_message_id("1FZ8zt-0005lz-E"));
  EXPECT_FALSE(is_message_id("1FZ8zt_0005lz-E7"));
  EXPECT_FALSE(is_message_id("1rAbCd-000000001Ab-00a!"));
  EXPECT_EQ(message_id_prefix("1FZ8zt-0005lz-E7 <= x"), 16u);
  EXPECT_EQ(message_id_prefix("1rAbCd-000000001Ab-00aZ Completed"), 23u);
  EXPECT_EQ(message_id_prefix("1FZ8zt-0005lz-E7x"), 0u);
  EXPECT_EQ(message_id_prefix("SMTP connection"), 0u);
}

TEST(MessageId, KeysAreDistinctAcrossForms) {
  EXPECT_EQ(message_key("1FZ8zt-0005lz-E7"), message_key("1FZ8zt-0005lz-E7"));
  EXPECT_FALSE(message_key("1FZ8zt-0005lz-E7") == message_key("1FZ8zt-0005lz-E8"));
  EXPECT_FALSE(message_key("000000-000000-00") == message_key("000000-00000000000-0000"));
  EXPECT_FALSE(message_key("zzzzzz-zzzzzzzzzzz-zzzz") == message_key("zzzzzz-zzzzzzzzzzz-zzzy"));
  // Each byte of either form lands in the key: change one, the key changes.
  for (std::string id : {std::string("1FZ8zt-0005lz-E7"), std::string("1rAbCd-000000001Ab-00aZ")}) {
    for (size_t i = 0; i < id.size(); ++i) {
      std::string other = id;
      other[i] = other[i] == 'x' ? 'y' : 'x';
      EXPECT_FALSE(message_key(id) == message_key(other)) << id << " byte " << i;
    }
    MessageKey k = message_key(id);  // zero-padded past the id
    EXPECT_EQ(std::memcmp(k.w, id.data(), id.size()), 0);
    for (size_t i = id.size(); i < sizeof k.w; ++i) EXPECT_EQ(reinterpret_cast<const char*>(k.w)[i], 0) << i;
  }
}

TEST(MessageId, SplitSubdirectoryAndTimeOfBothForms) {
  EXPECT_EQ(split_subdir_of("1FZ8zt-0005lz-E7"), 't');
  // "000010" is 62 seconds; the time digits mean the same in both forms.
  EXPECT_EQ(message_id_time("000010-0005lz-E7"), 62);
  EXPECT_EQ(message_id_time("000010-000000001Ab-00aZ"), 62);
  EXPECT_FALSE(message_id_time("bogus"));
  EXPECT_EQ(base62_value('z'), 61);
  EXPECT_EQ(base62_value('-'), -1);
}

TEST(MessageId, DecodesReceptionTime) {
  // "1FZ8zt": 1*62^5 + 15*62^4 + 35*62^3 + 8*62^2 + 61*62 + 55
  EXPECT_EQ(message_id_time("1FZ8zt-0005lz-E7"),
            1 * 916132832LL + 15 * 14776336LL + 35 * 238328LL + 8 * 3844LL + 61 * 62LL + 55);
}

}  // namespace sw::eximlog
