#include "audit/dns_records.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "audit/dns_inputs.h"
#include "audit/dns_message.h"
#include "audit/dns_spf.h"

namespace sw::audit {
namespace {

TEST(SpfRecord, ParsesMechanismsQualifiersAndPrefixes) {
  std::string error;
  auto r = parse_spf("v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 a/28 mx:mx.example//64 ~include:_spf.x ?all", &error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->terms.size(), 6u);
  EXPECT_EQ(r->terms[0].address, "192.0.2.0");
  EXPECT_EQ(r->terms[0].cidr4, 24);
  EXPECT_EQ(r->terms[1].qualifier, '-');
  EXPECT_EQ(r->terms[1].cidr6, 32);
  EXPECT_EQ(r->terms[2].cidr4, 28);
  EXPECT_EQ(r->terms[3].domain_spec, "mx.example");
  EXPECT_EQ(r->terms[3].cidr6, 64);
  EXPECT_EQ(r->terms[4].kind, SpfTerm::Kind::include);
  EXPECT_EQ(r->terms[5].qualifier, '?');
}

TEST(SpfRecord, SyntaxErrorsArePermerrors) {
  std::string error;
  for (const char* bad : {"v=spf1 ip4:192.0.2.1/33", "v=spf1 include", "v=spf1 all:x", "v=spf1 foo:bar",
                          "v=spf1 redirect=a.example redirect=b.example", "v=spf1 ip4:300.1.1.1"}) {
    EXPECT_FALSE(parse_spf(bad, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
  EXPECT_TRUE(is_spf_record("V=SPF1"));
}

TEST(SpfMacros, ExpandsLettersTransformersAndDelimiters) {
  SpfQuery q{"example.com", "192.0.2.3", "strong-bad@email.example.com", "helo.example"};
  EXPECT_EQ(*expand_spf_macros("%{ir}.%{v}._spf.%{d2}", q, "example.com"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(*expand_spf_macros("%{lr-}.x", q, "example.com"), "bad.strong.x");
  EXPECT_EQ(*expand_spf_macros("%{o}", q, "example.com"), "email.example.com");
  EXPECT_FALSE(expand_spf_macros("%{l-r}", q, "example.com"));  // transformers come before delimiters
  EXPECT_FALSE(expand_spf_macros("%{z}", q, "example.com"));
  EXPECT_FALSE(expand_spf_macros("%", q, "example.com"));
}

TEST(DmarcRecord, PolicyAndErrors) {
  std::string error;
  auto r = parse_dmarc("v=DMARC1; p=None; sp=reject; rua=mailto:a@b; pct=50", &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->policy, "none");
  EXPECT_EQ(r->subdomain_policy, "reject");
  EXPECT_EQ(r->pct, 50);
  EXPECT_FALSE(parse_dmarc("v=DMARC1; rua=mailto:a@b", &error));
  EXPECT_FALSE(parse_dmarc("p=reject; v=DMARC1", &error));
  EXPECT_FALSE(parse_dmarc("v=DMARC1; p=reject; p=none", &error));
}

TEST(DkimKeyRecord, KeyFlagsAndRevocation) {
  std::string error;
  auto r = parse_dkim_key("v=DKIM1; k=rsa; t=y:s; p=AAEC", &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->testing);
  EXPECT_EQ(r->public_key, std::string("\x00\x01\x02", 3));
  EXPECT_TRUE(parse_dkim_key("v=DKIM1; p=", &error)->revoked);
  EXPECT_FALSE(parse_dkim_key("v=DKIM1; p=!!", &error));
  EXPECT_FALSE(parse_dkim_key("v=DKIM1; k=rsa", &error));
}

TEST(DnsMessage, MalformedMessagesAreRejected) {
  dns::ParsedAnswer out;
  EXPECT_FALSE(dns::parse_answer("", dns::RecordType::a, out));
  // header claiming one answer, then nothing
  std::string msg("\x12\x34\x81\x80\x00\x00\x00\x01\x00\x00\x00\x00", 12);
  EXPECT_FALSE(dns::parse_answer(msg, dns::RecordType::a, out));
  // a compression pointer to itself
  std::string loop = std::string("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00", 12) + "\xC0\x0C" +
                     std::string("\x00\x01\x00\x01", 4);
  EXPECT_FALSE(dns::parse_answer(loop, dns::RecordType::a, out));
}

TEST(DnsMessage, TxtIsCappedAcrossRecords) {
  // one TXT answer with two strings "abc" "def", name compressed to the question
  std::string q =
      std::string("\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00", 12) + std::string("\x01x\x00\x00\x10\x00\x01", 7);
  std::string rr = std::string("\xC0\x0C\x00\x10\x00\x01\x00\x00\x00\x3C\x00\x08", 12) +
                   "\x03"
                   "abc"
                   "\x03"
                   "def";
  dns::ParsedAnswer out;
  ASSERT_TRUE(dns::parse_answer(q + rr, dns::RecordType::txt, out, 4));
  EXPECT_EQ(out.records, std::vector<std::string>{"abcd"});
  EXPECT_TRUE(out.capped);
  ASSERT_TRUE(dns::parse_answer(q + rr, dns::RecordType::txt, out));
  EXPECT_EQ(out.records, std::vector<std::string>{"abcdef"});
}

TEST(CpanelDnsInput, ReadsDomainsIpsHeloAndKeys) {
  EXPECT_EQ(parse_colon_map("# c\nA.example: 192.0.2.1\n*: 192.0.2.9\nbad line\nA.example: 192.0.2.2\n"),
            (std::map<std::string, std::string>{{"*", "192.0.2.9"}, {"a.example", "192.0.2.1"}}));
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("sw-cpanel-input-" + std::to_string(getpid()));
  fs::create_directories(root / "etc");
  fs::create_directories(root / "var/cpanel/domain_keys/private");
  std::ofstream(root / "var/cpanel/mainip") << "203.0.113.25";
  std::ofstream(root / "etc/localdomains") << "Shop.example\nblog.example\n";
  std::ofstream(root / "etc/mailips") << "blog.example: 203.0.113.26\n";
  std::ofstream(root / "etc/mailhelo") << "*: server.hosting.example\n";
  std::ofstream(root / "var/cpanel/domain_keys/private/shop.example") << "key";
  std::vector<std::string> problems;
  DnsAuditInput input = cpanel_dns_input(root.string(), problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(input.outbound_ips, (std::vector<std::string>{"203.0.113.25", "203.0.113.26"}));
  EXPECT_EQ(input.helo_name, "server.hosting.example");
  ASSERT_EQ(input.domains.size(), 2u);
  EXPECT_EQ(input.domains[0].name, "shop.example");
  EXPECT_EQ(input.domains[0].dkim_selector, "default");
  EXPECT_EQ(input.domains[1].sending_ip, "203.0.113.26");
  EXPECT_TRUE(input.domains[1].dkim_selector.empty());
  fs::remove(root / "etc/localdomains");
  cpanel_dns_input(root.string(), problems);
  EXPECT_EQ(problems.size(), 1u);
  fs::remove_all(root);
}

}  // namespace
}  // namespace sw::audit
