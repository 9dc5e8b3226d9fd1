#include "eximlog/message_id.h"

#include <gtest/gtest.h>

namespace sw::eximlog {

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
  EXPECT_EQ(message_id_time("1FZ8zt-0005lz-E7"), 1 * 916132832LL + 15 * 14776336LL + 35 * 238328LL +
                                                     8 * 3844LL + 61 * 62LL + 55);
}

}  // namespace sw::eximlog
