#include "spool/spool_header.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

#include "eximlog/message_id.h"

namespace sw::spool {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/spool/testdata/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// One stored header: "%03d%c " and the text.
std::string stored(char flag, std::string_view text) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%03zu%c ", text.size(), flag);
  return prefix + std::string(text);
}

// The parts every hand-made file shares; tests vary one piece at a time.
std::string make_header(std::string_view options, std::string_view recipients,
                        std::string_view headers = "015  Subject: hello\n", std::string_view id = "1xV9aw-0001E5-23",
                        std::string_view owner = "root 0 0") {
  std::string text;
  text.append(id).append("-H\n").append(owner).append("\n<bob@ex.test>\n1795361710 0\n");
  text.append(options).append(recipients).append("\n").append(headers);
  return text;
}

TEST(SpoolHeader, RealLocalSubmissionFromPhp) {
  SpoolHeader h;
  std::string bytes = read_fixture("local-php.H");
  ASSERT_TRUE(parse_spool_header(bytes, h).ok());
  EXPECT_EQ(h.id.size(), 16u);
  EXPECT_EQ(bytes.substr(0, 18), h.id + "-H");
  EXPECT_EQ(h.login, "root");
  EXPECT_EQ(h.uid, 0);
  EXPECT_EQ(h.sender, "bob@shop.example");
  EXPECT_FALSE(h.is_bounce());
  EXPECT_EQ(h.received_protocol, "local");
  EXPECT_TRUE(h.host_address.ip.empty());
  ASSERT_EQ(h.recipients.size(), 2u);
  EXPECT_EQ(h.recipients[1].address, "b@y.defer.test");
  ASSERT_NE(h.find_header("x-php-script"), nullptr);
  EXPECT_EQ(h.find_header("X-PHP-Script")->value(), "shop.example/wp-content/x.php for 203.0.113.9");
  // remove_header in the ACL leaves the header behind flagged '*': present, but not live.
  EXPECT_EQ(h.find_header("X-Remove-Me"), nullptr);
  bool saw_deleted = false;
  for (const Header& header : h.headers) saw_deleted |= header.deleted() && header.name() == "X-Remove-Me";
  EXPECT_TRUE(saw_deleted);
  EXPECT_NE(h.find_header("Received")->text.find(h.id), std::string::npos);
}

TEST(SpoolHeader, RealAuthenticatedSmtpWithDsnRecipients) {
  SpoolHeader h;
  ASSERT_TRUE(parse_spool_header(read_fixture("auth-smtp-dsn.H"), h).ok());
  EXPECT_EQ(h.auth_id, "alice@cust.example");
  EXPECT_EQ(h.helo_name, "helo.example");
  EXPECT_EQ(h.host_address.ip, "192.0.2.7");
  EXPECT_EQ(h.host_address.port, 4567);
  EXPECT_EQ(h.host_name, "rdns.example");
  EXPECT_EQ(h.received_protocol, "esmtpa");
  // Exim 4.96 marks SMTP-supplied values tainted with a second dash.
  EXPECT_NE(std::find(h.tainted_options.begin(), h.tainted_options.end(), "auth_id"), h.tainted_options.end());
  ASSERT_EQ(h.acl_variables.size(), 1u);
  EXPECT_EQ(h.acl_variables[0].name, "_note");
  EXPECT_EQ(h.acl_variables[0].value, "line one\nline two");
  ASSERT_EQ(h.recipients.size(), 3u);
  EXPECT_EQ(h.recipients[0].address, "r1@x.defer.test");
  EXPECT_EQ(h.recipients[0].orcpt, "rfc822;r1@x.defer.test");
  EXPECT_EQ(h.recipients[0].dsn_flags, 8);
  EXPECT_EQ(h.recipients[0].parent, -1);
  EXPECT_EQ(h.recipients[1].address, "r2@z.defer.test");
  EXPECT_EQ(h.recipients[1].orcpt, "");
  EXPECT_EQ(h.recipients[1].dsn_flags, 2);
  EXPECT_EQ(h.recipients[2].address, "r3@z.defer.test");
}

TEST(SpoolHeader, RealIpv6NullSender) {
  SpoolHeader h;
  ASSERT_TRUE(parse_spool_header(read_fixture("ipv6-null-sender.H"), h).ok());
  EXPECT_TRUE(h.is_bounce());
  EXPECT_EQ(h.host_address.ip, "2001:db8::7");
  EXPECT_EQ(h.host_address.port, 2525);
  EXPECT_FALSE(h.local_error);
}

TEST(SpoolHeader, RealFrozenBounce) {
  SpoolHeader h;
  ASSERT_TRUE(parse_spool_header(read_fixture("frozen-bounce.H"), h).ok());
  EXPECT_TRUE(h.is_bounce());
  EXPECT_TRUE(h.frozen);
  EXPECT_TRUE(h.local_error);
  EXPECT_EQ(h.frozen_since, h.received_time);
  EXPECT_EQ(h.login, "Debian-exim");
  EXPECT_EQ(h.find_header("X-Failed-Recipients")->value(), "user@fail.test");
}

TEST(SpoolHeader, HeaderBytesCountOnlyLiveHeaders) {
  SpoolHeader h;
  std::string headers = stored(' ', "Subject: hello\n") + stored('*', "X-Old: 1\n");
  ASSERT_TRUE(parse_spool_header(make_header("", "XX\n1\na@b\n", headers), h).ok());
  EXPECT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.header_bytes, 15u);
}

TEST(SpoolHeader, HeaderTextSpansFoldedLinesByByteCount) {
  SpoolHeader h;
  // The folded line starts with digits and a flag-like character: only the count tells.
  std::string folded = "Subject: a\n 123F b\n";
  std::string headers = stored(' ', folded) + stored(' ', "X-Next: 1\n");
  ASSERT_TRUE(parse_spool_header(make_header("", "XX\n1\na@b\n", headers), h).ok());
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].text, folded);
  EXPECT_EQ(h.headers[0].value(), "a 123F b");
}

TEST(SpoolHeader, NewStyleIdsAndOldHostAddressForms) {
  SpoolHeader h;
  std::string id = "1rAbCd-000000001Ab-00aZ";
  ASSERT_TRUE(eximlog::is_message_id(id));
  std::string text = make_header("-host_address 2001:db8::1.54321\n-interface_address 10.0.0.1.25\n", "XX\n1\na@b\n",
                                 "015  Subject: hello\n", id);
  ASSERT_TRUE(parse_spool_header(text, h).ok());
  EXPECT_EQ(h.id, id);
  EXPECT_EQ(h.host_address.ip, "2001:db8::1");
  EXPECT_EQ(h.host_address.port, 54321);
  EXPECT_EQ(h.interface_address.ip, "10.0.0.1");
  EXPECT_EQ(h.interface_address.port, 25);
}

TEST(SpoolHeader, OwnerLineIsParsedFromTheRight) {
  SpoolHeader h;
  std::string text =
      make_header("", "XX\n1\na@b\n", "015  Subject: hello\n", "1xV9aw-0001E5-23", "odd login name -2 -3");
  ASSERT_TRUE(parse_spool_header(text, h).ok());
  EXPECT_EQ(h.login, "odd login name");
  EXPECT_EQ(h.uid, -2);
  EXPECT_EQ(h.gid, -3);
  for (std::string owner : {"root 0", "root x 0", "0 0", "root 0 0x"}) {
    text = make_header("", "XX\n1\na@b\n", "015  Subject: hello\n", "1xV9aw-0001E5-23", owner);
    EXPECT_EQ(parse_spool_header(text, h).error, HeaderParseError::owner_line) << owner;
  }
}

TEST(SpoolHeader, AclValuesAreLengthPrefixedAndMayLookLikeOptions) {
  SpoolHeader h;
  std::string value = "x\n-frozen 1\nXX\n";
  std::string options =
      "--aclc _conn 3\nabc\n-aclm 0 " + std::to_string(value.size()) + "\n" + value + "\n" + "-acl 12 2\nhi\n";
  ASSERT_TRUE(parse_spool_header(make_header(options, "XX\n1\na@b\n"), h).ok());
  ASSERT_EQ(h.acl_variables.size(), 3u);
  EXPECT_EQ(h.acl_variables[0].scope, 'c');
  EXPECT_EQ(h.acl_variables[0].value, "abc");
  EXPECT_EQ(h.acl_variables[1].value, value);
  EXPECT_FALSE(h.frozen);
  EXPECT_EQ(h.acl_variables[2].scope, 'm');
  EXPECT_EQ(h.acl_variables[2].name, "2");
  // A length that runs past the end, or a value not followed by a newline, is malformed.
  EXPECT_FALSE(parse_spool_header(make_header("-aclm _x 500\nshort\n", "XX\n1\na@b\n"), h).ok());
  EXPECT_EQ(parse_spool_header(make_header("-aclm _x 2\nabc\n", "XX\n1\na@b\n"), h).error,
            HeaderParseError::option_line);
}

TEST(SpoolHeader, TaintedAndQuotedOptionNames) {
  SpoolHeader h;
  std::string options = "--auth_id u@x\n--(pgsql)helo_name h.example\n-auth_sender s@x\n-unknown_future 7\n";
  ASSERT_TRUE(parse_spool_header(make_header(options, "XX\n1\na@b\n"), h).ok());
  EXPECT_EQ(h.auth_id, "u@x");
  EXPECT_EQ(h.helo_name, "h.example");
  EXPECT_EQ(h.auth_sender, "s@x");
  EXPECT_EQ(h.tainted_options, (std::vector<std::string>{"auth_id", "helo_name"}));
  ASSERT_EQ(h.other_options.size(), 1u);
  EXPECT_EQ(h.other_options[0].name, "unknown_future");
}

TEST(SpoolHeader, NonRecipientsTreeMarksDeliveredAddresses) {
  SpoolHeader h;
  std::string tree = "YY b@x\nNN a@x\nNN c@x\n";
  ASSERT_TRUE(parse_spool_header(make_header("", tree + "3\na@x\nb@x\nd@x\n"), h).ok());
  EXPECT_EQ(h.non_recipients.size(), 3u);
  EXPECT_TRUE(h.delivered_to("c@x"));
  EXPECT_EQ(h.pending_recipient_count(), 1u);
  // A node that promises a child that never comes is truncated, not accepted.
  EXPECT_FALSE(parse_spool_header(make_header("", "YN b@x\n"), h).ok());
}

TEST(SpoolHeader, RecipientLinesFromTheRight) {
  Recipient r;
  ASSERT_TRUE(parse_recipient_line("\"odd user\"@x.test", r));
  EXPECT_EQ(r.address, "\"odd user\"@x.test");
  r = {};
  ASSERT_TRUE(parse_recipient_line("a@x errs@y 6,0#1", r));
  EXPECT_EQ(r.address, "a@x");
  EXPECT_EQ(r.errors_to, "errs@y");
  EXPECT_EQ(r.parent, 0);
  r = {};
  ASSERT_TRUE(parse_recipient_line("\"a b\"@x rfc822;a 8,10 e r@y 5,2#3", r));
  EXPECT_EQ(r.address, "\"a b\"@x");
  EXPECT_EQ(r.orcpt, "rfc822;a");
  EXPECT_EQ(r.dsn_flags, 10);
  EXPECT_EQ(r.errors_to, "e r@y");
  EXPECT_EQ(r.parent, 2);
  r = {};
  ASSERT_TRUE(parse_recipient_line("old@x 4", r));
  EXPECT_EQ(r.address, "old@x");
  EXPECT_EQ(r.parent, 4);
  EXPECT_FALSE(parse_recipient_line("a@x 99,0  0,-1#3", r));  // length past the start
  EXPECT_FALSE(parse_recipient_line(" 0,0  0,-1#3", r));      // no address left
}

TEST(SpoolHeader, BadInputIsAnErrorNotACrash) {
  SpoolHeader h;
  const std::string good = read_fixture("auth-smtp-dsn.H");
  ASSERT_TRUE(parse_spool_header(good, h).ok());
  for (size_t cut = 0; cut < good.size(); cut += 7) {
    HeaderParseStatus status = parse_spool_header(good.substr(0, cut), h);
    // Cutting inside the headers part can leave a shorter but still well-formed file only when
    // the cut falls exactly on a header boundary; anything else must be reported.
    if (status.ok()) {
      EXPECT_LT(h.headers.size(), 4u) << cut;
    }
  }
  EXPECT_EQ(parse_spool_header(make_header("", "XX\n16385\n"), h).error, HeaderParseError::recipient_count);
  EXPECT_EQ(parse_spool_header(make_header("", "XX\n-1\n"), h).error, HeaderParseError::recipient_count);
  EXPECT_EQ(parse_spool_header(make_header(std::string("-ident a\0b\n", 11), "XX\n1\na@b\n"), h).error,
            HeaderParseError::binary);
  std::string with_nul = make_header("", "XX\n1\na@b\n");
  with_nul.insert(with_nul.find("-H\n") + 3, std::string("ro\0ot 0 0\n", 10));
  EXPECT_FALSE(parse_spool_header(with_nul, h).ok());
  EXPECT_EQ(parse_spool_header(make_header("", "XX\n1\na@b\n", "999  Subject: short\n"), h).error,
            HeaderParseError::header);
  EXPECT_EQ(parse_spool_header(make_header("", "XX\n1\na@b\n", "15  Subject: hello\n"), h).error,
            HeaderParseError::header);
  EXPECT_EQ(parse_spool_header("1xV9aw-0001E5-2-H\nroot 0 0\n", h).error, HeaderParseError::id_line);
  EXPECT_EQ(parse_spool_header(make_header("", "XX\n1\na@b\nnot blank\n"), h).error, HeaderParseError::separator);
}

// A scanner parses every file into the same SpoolHeader: the result must not depend on what
// was parsed into it before (a longer file, a DSN recipient, a failed parse).
TEST(SpoolHeader, ReusedObjectGivesTheSameResultAsAFreshOne) {
  auto same = [](const SpoolHeader& a, const SpoolHeader& b) {
    ASSERT_EQ(a.headers.size(), b.headers.size());
    for (size_t i = 0; i < a.headers.size(); ++i) {
      EXPECT_EQ(a.headers[i].flag, b.headers[i].flag) << i;
      EXPECT_EQ(a.headers[i].text, b.headers[i].text) << i;
    }
    ASSERT_EQ(a.recipients.size(), b.recipients.size());
    for (size_t i = 0; i < a.recipients.size(); ++i) {
      const Recipient &x = a.recipients[i], &y = b.recipients[i];
      EXPECT_EQ(std::tie(x.address, x.errors_to, x.orcpt, x.dsn_flags, x.parent),
                std::tie(y.address, y.errors_to, y.orcpt, y.dsn_flags, y.parent))
          << i;
    }
    EXPECT_EQ(a.header_bytes, b.header_bytes);
    EXPECT_EQ(a.sender, b.sender);
    EXPECT_EQ(a.auth_id, b.auth_id);
    EXPECT_EQ(a.frozen, b.frozen);
  };
  const std::string dsn = read_fixture("auth-smtp-dsn.H"), php = read_fixture("local-php.H"),
                    bounce = read_fixture("frozen-bounce.H"), v6 = read_fixture("ipv6-null-sender.H");
  const std::string plain = make_header("", "XX\n2\nplain@x\nother@y 3\n");
  SpoolHeader reused;
  for (const std::string* file : {&dsn, &plain, &php, &bounce, &dsn, &v6, &plain}) {
    SpoolHeader fresh;
    ASSERT_TRUE(parse_spool_header(*file, fresh).ok());
    ASSERT_TRUE(parse_spool_header(*file, reused).ok());
    same(reused, fresh);
    // A failed parse leaves nothing of this file behind for the next one.
    EXPECT_FALSE(parse_spool_header(file->substr(0, file->size() / 2), reused).ok());
  }
  ASSERT_TRUE(parse_spool_header(dsn, reused).ok());
  EXPECT_FALSE(parse_spool_header(make_header("", "XX\n1\na@b\n", "999  Subject: short\n"), reused).ok());
  EXPECT_LE(reused.headers.size(), 0u);  // failed in the first header: none kept
  SpoolHeader fresh;
  ASSERT_TRUE(parse_spool_header(plain, reused).ok());
  ASSERT_TRUE(parse_spool_header(plain, fresh).ok());
  same(reused, fresh);
  EXPECT_EQ(reused.recipients[1].parent, 3);
  EXPECT_TRUE(reused.recipients[0].errors_to.empty());
}

}  // namespace
}  // namespace sw::spool
