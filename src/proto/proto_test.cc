#include <gtest/gtest.h>

#include "proto/exim_request.h"
#include "proto/postfix_policy.h"

namespace sw::proto {
namespace {

TEST(EximRequest, ParsesEveryField) {
  Request r;
  std::string error;
  ASSERT_TRUE(
      parse_exim_request("v1 stage=data ip=192.0.2.7 iface=127.0.0.1 helo=mx%20one sender=a@b.example "
                         "auth=Sales@x.example user=u1 uid=1001 script=1001:m%25.php msgid=1x rcpts=3 relay=1 "
                         "hl=0 future=ignored",
                         &r, &error))
      << error;
  EXPECT_EQ(r.stage, Stage::Data);
  EXPECT_EQ(r.client_ip, "192.0.2.7");
  EXPECT_EQ(r.interface_ip, "127.0.0.1");
  EXPECT_EQ(r.helo, "mx one");
  EXPECT_EQ(r.sender, "a@b.example");
  EXPECT_EQ(r.auth, "Sales@x.example");
  EXPECT_EQ(r.local_user, "u1");
  EXPECT_EQ(r.uid, "1001");
  EXPECT_EQ(r.script, "1001:m%.php");
  EXPECT_EQ(r.message_id, "1x");
  EXPECT_EQ(r.recipients, 3u);
  EXPECT_TRUE(r.trusted_host);
  EXPECT_FALSE(r.helo_is_local_domain);
}

TEST(EximRequest, EmptyValuesAndCrAreFine) {
  Request r;
  std::string error;
  ASSERT_TRUE(parse_exim_request("v1 stage=mail ip= auth= sender=\r", &r, &error)) << error;
  EXPECT_EQ(r.stage, Stage::Mail);
  EXPECT_TRUE(r.client_ip.empty());
}

TEST(EximRequest, RefusesBadInputWithAReason) {
  Request r;
  std::string error;
  for (std::string_view bad : {"", "stage=rcpt", "v2 stage=rcpt", "v1 ip=1.2.3.4", "v1 stage=nope",
                               "v1 stage=rcpt rcpts=x", "v1 stage=rcpt ip=%zz", "v1 stage=rcpt ip=%4",
                               "v1 stage=rcpt helo=%00", "v1 stage=rcpt =x", "v1 stage=rcpt relay=2"}) {
    error.clear();
    EXPECT_FALSE(parse_exim_request(bad, &r, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string binary = "v1 stage=rcpt helo=a";
  binary[binary.size() - 1] = '\x01';
  EXPECT_FALSE(parse_exim_request(binary, &r, &error));
  EXPECT_EQ(error, "control byte in request");
  std::string many = "v1 stage=rcpt";
  for (int i = 0; i < 40; ++i) many += " x=1";
  EXPECT_FALSE(parse_exim_request(many, &r, &error));
  EXPECT_NE(error.find("fields"), std::string::npos);
  EXPECT_FALSE(parse_exim_request("v1 stage=rcpt helo=" + std::string(2000, 'a'), &r, &error));
  EXPECT_NE(error.find("longer"), std::string::npos);
  EXPECT_FALSE(parse_exim_request("v1 stage=rcpt helo=" + std::string(1 << 20, 'a'), &r, &error));
}

TEST(EximReply, VerbAndReason) {
  Decision d;
  std::string out;
  append_exim_reply(d, &out);
  EXPECT_EQ(out, "DUNNO\n");
  d = {Action::Defer, 0, "rate_limit", "auth_account:a@b", "11 messages in 60s (limit 10)"};
  out.clear();
  append_exim_reply(d, &out);
  EXPECT_EQ(out, "DEFER rate_limit auth_account:a@b 11 messages in 60s (limit 10)\n");
  d = {Action::Delay, 5, "dictionary", "client_ip:1.2.3.4", "3 unknown recipients"};
  out.clear();
  append_exim_reply(d, &out);
  EXPECT_EQ(out, "DELAY 5 dictionary client_ip:1.2.3.4 3 unknown recipients\n");
}

TEST(PostfixPolicy, ReadsRequestsSplitAnywhereAndKeepsTheRest) {
  std::string text =
      "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\nhelo_name=mx.example\n"
      "sender=a@b.example\nrecipient=c@d.example\nsasl_username=acc\nfuture_attribute=1\n\n"
      "request=smtpd_access_policy\r\nprotocol_state=END-OF-MESSAGE\r\nrecipient_count=4\r\n\r\n";
  for (size_t split = 0; split < text.size(); ++split) {
    PostfixRequestReader reader;
    Request r;
    std::string error;
    std::string_view a(text.data(), split), b(text.data() + split, text.size() - split);
    auto st = reader.feed(&a, &r, &error);
    if (st == PostfixRequestReader::Status::NeedMore) st = reader.feed(&b, &r, &error);
    ASSERT_EQ(st, PostfixRequestReader::Status::Complete) << split << error;
    EXPECT_EQ(r.stage, Stage::Rcpt);
    EXPECT_EQ(r.client_ip, "192.0.2.1");
    EXPECT_EQ(r.auth, "acc");
    EXPECT_EQ(r.recipient, "c@d.example");
    std::string_view rest = a.empty() ? b : a;
    if (!a.empty()) {
      ASSERT_EQ(reader.feed(&a, &r, &error), PostfixRequestReader::Status::NeedMore);
      rest = b;
    }
    ASSERT_EQ(reader.feed(&rest, &r, &error), PostfixRequestReader::Status::Complete) << split;
    EXPECT_EQ(r.stage, Stage::Data);
    EXPECT_EQ(r.recipients, 4u);
    EXPECT_TRUE(r.client_ip.empty());
  }
}

TEST(PostfixPolicy, BadInputIsAnError) {
  auto fails = [](std::string text, std::string_view reason) {
    PostfixRequestReader reader;
    Request r;
    std::string error;
    std::string_view in = text;
    auto st = reader.feed(&in, &r, &error);
    EXPECT_EQ(st, PostfixRequestReader::Status::Error) << text.substr(0, 60);
    EXPECT_NE(error.find(reason), std::string::npos) << error;
  };
  fails("protocol_state=RCPT\n\n", "without request=");
  fails("request=smtpd_access_policy\n\n", "without protocol_state");
  fails("request=other\n", "not smtpd_access_policy");
  fails("request=smtpd_access_policy\nnovalue\n", "without name=value");
  fails(std::string("request=smtpd_access_policy\nhelo_name=a\0b\n", 43), "NUL");
  fails("helo_name=" + std::string(1 << 20, 'x'), "longer than");
  std::string many = "request=smtpd_access_policy\n";
  for (int i = 0; i < 100; ++i) many += "x=1\n";
  fails(many, "attributes");
}

TEST(PostfixPolicy, UnknownStateIsAnsweredNeutrally) {
  PostfixRequestReader reader;
  Request r;
  std::string error;
  std::string_view in = "request=smtpd_access_policy\nprotocol_state=VRFY\n\n";
  ASSERT_EQ(reader.feed(&in, &r, &error), PostfixRequestReader::Status::Complete);
  EXPECT_EQ(r.stage, Stage::Other);
}

TEST(PostfixReply, Actions) {
  std::string out;
  append_postfix_reply({}, &out);
  EXPECT_EQ(out, "action=DUNNO\n\n");
  out.clear();
  append_postfix_reply({Action::Defer, 0, "rate_limit", "auth_account:x", "11/10"}, &out);
  EXPECT_EQ(out, "action=DEFER_IF_PERMIT rate_limit auth_account:x 11/10\n\n");
  out.clear();
  append_postfix_reply({Action::Freeze, 0, "held", "sender:a@b", ""}, &out);
  EXPECT_EQ(out, "action=HOLD held sender:a@b\n\n");
}

}  // namespace
}  // namespace sw::proto
