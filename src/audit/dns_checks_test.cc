// D1-D6 end to end: real DNS servers (dnsmasq, ldns-testns) in testing/dnslab's private namespace.
#include "audit/dns_checks.h"
#include "audit/check_table.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>

#include "dnslab.h"

namespace sw::audit {
namespace {

using sw::testing::DnsLab;

#define SKIP_WITHOUT_DNSLAB()                          \
  do {                                                 \
    std::string why;                                   \
    if (!DnsLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

std::vector<Finding> of_check(const std::vector<Finding>& all, const std::string& id) {
  std::vector<Finding> out;
  for (const auto& f : all) {
    if (f.check_id == id) out.push_back(f);
  }
  return out;
}

const Finding& about(const std::vector<Finding>& all, const std::string& id, const std::string& subject) {
  for (const auto& f : all) {
    if (f.check_id == id && f.subject == subject) return f;
  }
  static Finding none{"-", Severity::ok, "missing", "no finding", {}, {}};
  ADD_FAILURE() << "no " << id << " finding about " << subject;
  return none;
}

std::string dump(const Finding& f) {
  std::string s = f.check_id + " " + f.subject + ": " + f.message;
  for (const auto& e : f.evidence) s += "\n  " + e;
  return s;
}

DnsAuditInput lab_input(const DnsLab& lab) {
  DnsAuditInput input;
  input.resolvers = {lab.dnsmasq_server()};
  input.timeout = std::chrono::milliseconds(500);
  input.tries = 1;
  return input;
}

TEST(DnsLabChecks, ListedIpAndErrorAnswerAreToldApart) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  // silent.test is forwarded to a port nothing listens on: a list whose servers are gone.
  lab.start_dnsmasq({"local=/spamhaus.org/", "local=/dead.test/", "server=/silent.test/127.0.0.1#5399",
                     "address=/2.0.0.127.zen.spamhaus.org/127.0.0.2", "address=/5.113.0.203.zen.spamhaus.org/127.0.0.2",
                     "address=/6.113.0.203.zen.spamhaus.org/127.255.255.254",
                     "address=/7.113.0.203.zen.spamhaus.org/127.0.0.10"});
  DnsAuditInput input = lab_input(lab);
  input.outbound_ips = {"203.0.113.5", "203.0.113.6", "203.0.113.7", "203.0.113.8"};
  input.dnsbls = {spamhaus_zen(), {"dead.test", {}}, {"silent.test", {}}};
  input.check_mx = false;
  auto d1 = of_check(run_dns_checks(input), "D1");
  const Finding& listed = about(d1, "D1", "203.0.113.5 on zen.spamhaus.org");
  EXPECT_EQ(listed.severity, Severity::crit) << dump(listed);
  EXPECT_NE(listed.message.find("SBL"), std::string::npos) << dump(listed);
  const Finding& error = about(d1, "D1", "203.0.113.6 on zen.spamhaus.org");
  EXPECT_EQ(error.severity, Severity::inconclusive) << dump(error);
  EXPECT_EQ(error.message.find("listed:"), std::string::npos) << dump(error);
  EXPECT_NE(error.message.find("open resolver"), std::string::npos) << dump(error);
  EXPECT_EQ(about(d1, "D1", "203.0.113.7 on zen.spamhaus.org").severity, Severity::warn);  // PBL: policy
  EXPECT_EQ(about(d1, "D1", "203.0.113.8 on zen.spamhaus.org").severity, Severity::ok);
  const Finding& dead = about(d1, "D1", "dead.test");
  EXPECT_EQ(dead.severity, Severity::warn) << dump(dead);
  EXPECT_NE(dead.message.find("dead"), std::string::npos) << dump(dead);
  const Finding& silent = about(d1, "D1", "silent.test");
  EXPECT_EQ(silent.severity, Severity::warn) << dump(silent);
  EXPECT_NE(silent.message.find("dead"), std::string::npos) << dump(silent);
  // The dead lists' answers for our IPs are not reported as "not listed".
  for (const auto& f : d1) {
    EXPECT_EQ(f.subject.find("on dead.test"), std::string::npos) << dump(f);
    EXPECT_EQ(f.subject.find("on silent.test"), std::string::npos) << dump(f);
  }
}

TEST(DnsLabChecks, ResolverThatNeverAnswersIsDnsFailureNotPass) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_testns(DnsLab::testns_entry("unrelated.test", "A", "NOERROR", {"unrelated.test. 60 IN A 192.0.2.1"}));
  DnsAuditInput input;
  input.resolvers = {lab.testns_server()};
  input.timeout = std::chrono::milliseconds(200);
  input.tries = 1;
  input.outbound_ips = {"203.0.113.5"};
  input.helo_name = "mail.hosted.test";
  input.dnsbls = {spamhaus_zen()};
  input.domains = {{"hosted.test", "", "default", ""}};
  auto findings = run_dns_checks(input);
  ASSERT_FALSE(findings.empty());
  for (const auto& f : findings) {
    EXPECT_EQ(f.severity, Severity::inconclusive) << dump(f);
  }
  for (const char* id : {"D1", "D2", "D3", "D4", "D5", "D6"}) EXPECT_FALSE(of_check(findings, id).empty()) << id;
}

TEST(DnsLabChecks, OneMegabyteSpfRecordIsReportedNotPassedOrCrashed) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  std::string chunk = "\"" + std::string(250, 'x') + "\"";
  std::vector<std::string> rrs = {"huge.test. 60 IN TXT \"v=spf1 ip4:203.0.113.5 -all\""};
  for (int i = 0; i < 1000; ++i)
    rrs.push_back("huge.test. 60 IN TXT " + chunk + " " + chunk + " " + chunk + " " + chunk);
  lab.start_testns(DnsLab::testns_entry("huge.test", "TXT", "NOERROR", rrs));
  DnsAuditInput input;
  input.resolvers = {lab.testns_server()};
  input.timeout = std::chrono::milliseconds(300);
  input.tries = 1;
  input.outbound_ips = {"203.0.113.5"};
  input.dnsbls = {};
  input.domains = {{"huge.test", "", "", ""}};
  auto findings = run_dns_checks(input);
  const Finding& spf = about(findings, "D3", "huge.test");
  EXPECT_EQ(spf.severity, Severity::inconclusive) << dump(spf);
  EXPECT_NE(spf.message.find("DNS lookup failed"), std::string::npos) << dump(spf);
}

std::vector<std::string> spf_zone() {
  std::vector<std::string> z = {"local=/test/",
                                "txt-record=good.test,v=spf1 ip4:203.0.113.0/24 -all",
                                "txt-record=open.test,v=spf1 ip4:203.0.113.5 mx +all",
                                "txt-record=broken.test,v=spf1 ip4:203.0.113.5/33 -all",
                                "txt-record=other.test,v=spf1 ip4:198.51.100.1 -all",
                                "txt-record=many.test,v=spf1 include:i1.test include:i2.test include:i3.test "
                                "include:i4.test include:i5.test include:i6.test -all",
                                "txt-record=viamx.test,v=spf1 mx -all",
                                "mx-host=viamx.test,mail.viamx.test,10",
                                "host-record=mail.viamx.test,203.0.113.5"};
  for (int i = 1; i <= 6; ++i) {
    z.push_back("txt-record=i" + std::to_string(i) + ".test,v=spf1 a:x" + std::to_string(i) + ".test ip4:192.0.2." +
                std::to_string(i) + " ~all");
    z.push_back("host-record=x" + std::to_string(i) + ".test,192.0.2.9" + std::to_string(i));
  }
  return z;
}

TEST(DnsLabChecks, SpfPlusAllPermerrorAndTooManyLookupsAreFound) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq(spf_zone());
  DnsAuditInput input = lab_input(lab);
  input.outbound_ips = {"203.0.113.5"};
  input.dnsbls = {};
  input.check_mx = false;
  for (const char* d :
       {"good.test", "open.test", "broken.test", "other.test", "many.test", "viamx.test", "none.test"}) {
    input.domains.push_back({d, "", "", ""});
  }
  auto d3 = of_check(run_dns_checks(input), "D3");
  EXPECT_EQ(about(d3, "D3", "good.test").severity, Severity::ok) << dump(about(d3, "D3", "good.test"));
  EXPECT_EQ(about(d3, "D3", "viamx.test").severity, Severity::ok) << dump(about(d3, "D3", "viamx.test"));
  const Finding& open = about(d3, "D3", "open.test");
  EXPECT_EQ(open.severity, Severity::crit) << dump(open);
  EXPECT_NE(open.message.find("+all"), std::string::npos) << dump(open);
  const Finding& broken = about(d3, "D3", "broken.test");
  EXPECT_EQ(broken.severity, Severity::crit) << dump(broken);
  EXPECT_NE(broken.message.find("permerror"), std::string::npos) << dump(broken);
  const Finding& many = about(d3, "D3", "many.test");
  EXPECT_EQ(many.severity, Severity::crit) << dump(many);
  EXPECT_NE(many.message.find("more than 10 DNS lookups"), std::string::npos) << dump(many);
  const Finding& other = about(d3, "D3", "other.test");
  EXPECT_EQ(other.severity, Severity::crit) << dump(other);
  EXPECT_NE(other.message.find("fail for this server's IP"), std::string::npos) << dump(other);
  EXPECT_NE(other.fix.find("ip4:203.0.113.5"), std::string::npos) << dump(other);
  EXPECT_NE(about(d3, "D3", "none.test").message.find("no SPF record"), std::string::npos);
}

TEST(DnsLabChecks, DmarcMissingAndMonitorOnlyAreFound) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq({"local=/test/", "txt-record=_dmarc.strict.test,v=DMARC1; p=reject; rua=mailto:d@strict.test",
                     "txt-record=_dmarc.lax.test,v=DMARC1; p=none", "txt-record=_dmarc.bad.test,v=DMARC1; p=maybe",
                     "txt-record=_dmarc.parent.test,v=DMARC1; p=quarantine"});
  DnsAuditInput input = lab_input(lab);
  input.dnsbls = {};
  input.check_mx = false;
  for (const char* d : {"strict.test", "lax.test", "bad.test", "missing.test", "shop.parent.test"}) {
    input.domains.push_back({d, "", "", ""});
  }
  auto d5 = of_check(run_dns_checks(input), "D5");
  EXPECT_EQ(about(d5, "D5", "strict.test").severity, Severity::ok);
  const Finding& lax = about(d5, "D5", "lax.test");
  EXPECT_EQ(lax.severity, Severity::info) << dump(lax);
  EXPECT_NE(lax.message.find("p=none"), std::string::npos) << dump(lax);
  EXPECT_EQ(about(d5, "D5", "missing.test").severity, Severity::warn);
  EXPECT_NE(about(d5, "D5", "missing.test").message.find("no DMARC record"), std::string::npos);
  EXPECT_NE(about(d5, "D5", "bad.test").message.find("invalid"), std::string::npos);
  EXPECT_EQ(about(d5, "D5", "shop.parent.test").severity, Severity::ok);  // the parent's policy applies
}

struct KeyPair {
  std::string private_pem;
  std::string public_base64;
};

KeyPair rsa_key(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  KeyPair pair{std::string(data, static_cast<size_t>(len)), ""};
  BIO_free(bio);
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(key, &der);
  std::string b64(4 * ((der_len + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, der_len);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  pair.public_base64 = b64;
  return pair;
}

TEST(DnsLabChecks, DkimMismatchAndWeakKeyAreFound) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  KeyPair strong = rsa_key(2048), other = rsa_key(2048), weak = rsa_key(1024);
  auto key_file = [&](const std::string& name, const KeyPair& k) {
    std::string path = lab.dir() + "/" + name + ".pem";
    std::ofstream(path) << k.private_pem;
    return path;
  };
  lab.start_dnsmasq({"local=/test/",
                     "txt-record=default._domainkey.good.test,v=DKIM1; k=rsa; p=" + strong.public_base64,
                     "txt-record=default._domainkey.swapped.test,v=DKIM1; k=rsa; p=" + other.public_base64,
                     "txt-record=default._domainkey.weak.test,v=DKIM1; k=rsa; p=" + weak.public_base64});
  DnsAuditInput input = lab_input(lab);
  input.dnsbls = {};
  input.check_mx = false;
  input.domains = {{"good.test", "", "default", key_file("good", strong)},
                   {"swapped.test", "", "default", key_file("swapped", strong)},
                   {"weak.test", "", "default", key_file("weak", weak)},
                   {"nokey.test", "", "default", key_file("nokey", strong)}};
  auto d4 = of_check(run_dns_checks(input), "D4");
  const Finding& good = about(d4, "D4", "good.test");
  EXPECT_EQ(good.severity, Severity::ok) << dump(good);
  const Finding& swapped = about(d4, "D4", "swapped.test");
  EXPECT_EQ(swapped.severity, Severity::crit) << dump(swapped);
  EXPECT_NE(swapped.message.find("does not match"), std::string::npos) << dump(swapped);
  const Finding& weak_key = about(d4, "D4", "weak.test");
  EXPECT_EQ(weak_key.severity, Severity::warn) << dump(weak_key);
  EXPECT_NE(weak_key.message.find("1024 bits"), std::string::npos) << dump(weak_key);
  EXPECT_EQ(about(d4, "D4", "nokey.test").severity, Severity::crit);
}

TEST(DnsLabChecks, FcrdnsMismatchAndHeloAreFound) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq({"local=/test/", "local=/113.0.203.in-addr.arpa/",
                     "ptr-record=5.113.0.203.in-addr.arpa,mail.hosted.test", "address=/mail.hosted.test/203.0.113.5",
                     "ptr-record=6.113.0.203.in-addr.arpa,liar.hosted.test",
                     "address=/liar.hosted.test/198.51.100.66"});
  DnsAuditInput input = lab_input(lab);
  input.dnsbls = {};
  input.check_mx = false;
  input.helo_name = "mail.hosted.test";
  input.outbound_ips = {"203.0.113.5", "203.0.113.6", "203.0.113.7"};
  auto d2 = of_check(run_dns_checks(input), "D2");
  const Finding& good = about(d2, "D2", "203.0.113.5");
  EXPECT_EQ(good.severity, Severity::ok) << dump(good);
  const Finding& liar = about(d2, "D2", "203.0.113.6");
  EXPECT_EQ(liar.severity, Severity::crit) << dump(liar);
  EXPECT_NE(liar.message.find("FCrDNS"), std::string::npos) << dump(liar);
  const Finding& none = about(d2, "D2", "203.0.113.7");
  EXPECT_EQ(none.severity, Severity::crit) << dump(none);
  EXPECT_NE(none.message.find("no PTR"), std::string::npos) << dump(none);
}

TEST(DnsChecks, CheckTableCoversD1ToD6) {
  for (int i = 1; i <= 6; ++i) {
    const CheckInfo* check = find_check("D" + std::to_string(i));
    ASSERT_NE(check, nullptr) << "D" << i;
    EXPECT_GT(check->doc.size(), 10u);
  }
}

}  // namespace
}  // namespace sw::audit
