#include "audit/dns_resolver.h"

#include <gtest/gtest.h>

#include <map>

#include "dnslab.h"

namespace sw::audit::dns {
namespace {

using sw::testing::DnsLab;

#define SKIP_WITHOUT_DNSLAB()                          \
  do {                                                 \
    std::string why;                                   \
    if (!DnsLab::available(&why)) GTEST_SKIP() << why; \
  } while (0)

Answer resolve(Resolver& resolver, const std::string& name, RecordType type) {
  Answer result;
  resolver.query(name, type, [&](const Answer& a) { result = a; });
  resolver.run();
  return result;
}

std::vector<std::string> zone() {
  return {"local=/test/",
          "host-record=mx1.hosted.test,192.0.2.10",
          "txt-record=hosted.test,\"v=spf1 ip4:192.0.2.10 \",\"-all\"",
          "txt-record=two.test,first",
          "txt-record=two.test,second",
          "mx-host=hosted.test,mx1.hosted.test,10",
          "ptr-record=10.2.0.192.in-addr.arpa,mx1.hosted.test"};
}

TEST(DnsLabResolver, AnswersNxdomainAndNodataAreToldApart) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq(zone());
  Resolver resolver({.servers = {lab.dnsmasq_server()}});
  Answer a = resolve(resolver, "mx1.hosted.test", RecordType::a);
  EXPECT_EQ(a.outcome, Outcome::answer);
  EXPECT_EQ(a.records, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(resolve(resolver, "nothing.hosted.test", RecordType::a).outcome, Outcome::nxdomain);
  EXPECT_EQ(resolve(resolver, "mx1.hosted.test", RecordType::txt).outcome, Outcome::nodata);
  EXPECT_EQ(resolve(resolver, "hosted.test", RecordType::mx).records, std::vector<std::string>{"10 mx1.hosted.test"});
  EXPECT_EQ(resolve(resolver, "10.2.0.192.in-addr.arpa", RecordType::ptr).records,
            std::vector<std::string>{"mx1.hosted.test"});
}

TEST(DnsLabResolver, TxtStringsOfOneRecordAreJoinedAndRecordsKeptApart) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq(zone());
  Resolver resolver({.servers = {lab.dnsmasq_server()}});
  EXPECT_EQ(resolve(resolver, "hosted.test", RecordType::txt).records,
            std::vector<std::string>{"v=spf1 ip4:192.0.2.10 -all"});
  auto two = resolve(resolver, "two.test", RecordType::txt).records;
  std::sort(two.begin(), two.end());
  EXPECT_EQ(two, (std::vector<std::string>{"first", "second"}));
}

TEST(DnsLabResolver, ServfailRefusedAndSilenceAreFailuresNotAnswers) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_testns(DnsLab::testns_entry("servfail.test", "A", "SERVFAIL") +
                   DnsLab::testns_entry("refused.test", "A", "REFUSED") +
                   DnsLab::testns_entry("slow.test", "A", "NOERROR", {"slow.test. 60 IN A 127.0.0.2"}, 3));
  Resolver resolver({.servers = {lab.testns_server()}, .timeout = std::chrono::milliseconds(300), .tries = 1});
  Answer servfail = resolve(resolver, "servfail.test", RecordType::a);
  Answer refused = resolve(resolver, "refused.test", RecordType::a);
  Answer slow = resolve(resolver, "slow.test", RecordType::a);
  EXPECT_EQ(servfail.outcome, Outcome::servfail) << servfail.detail;
  EXPECT_EQ(refused.outcome, Outcome::refused) << refused.detail;
  EXPECT_EQ(slow.outcome, Outcome::timeout);
  EXPECT_TRUE(lookup_failed(servfail.outcome) && lookup_failed(refused.outcome) && lookup_failed(slow.outcome));
  EXPECT_TRUE(slow.records.empty());
}

// 60 TXT records of 1,000 bytes in one answer are cut at the cap; the text that is kept is intact.
TEST(DnsLabResolver, HugeTxtAnswerIsCappedNotKeptWhole) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  std::string chunk = "\"" + std::string(250, 'a') + "\"";
  std::vector<std::string> rrs(60, "big.test. 60 IN TXT " + chunk + " " + chunk + " " + chunk + " " + chunk);
  lab.start_testns(DnsLab::testns_entry("big.test", "TXT", "NOERROR", rrs));
  Resolver resolver({.servers = {lab.testns_server()}, .max_txt_bytes = 4096});
  Answer big = resolve(resolver, "big.test", RecordType::txt);
  ASSERT_EQ(big.outcome, Outcome::answer);
  EXPECT_TRUE(big.capped);
  size_t total = 0;
  for (const auto& r : big.records) total += r.size();
  EXPECT_EQ(total, 4096u);
  EXPECT_EQ(big.records.front(), std::string(1000, 'a'));
}

// A 1 MB TXT record cannot travel in one DNS message: the server fails to send it, and the lookup
// must end as a timeout, in bounded time, not hang or pass.
TEST(DnsLabResolver, OneMegabyteTxtRecordEndsAsFailure) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  std::string chunk = "\"" + std::string(250, 'b') + "\"";
  std::vector<std::string> rrs(1000, "huge.test. 60 IN TXT " + chunk + " " + chunk + " " + chunk + " " + chunk);
  lab.start_testns(DnsLab::testns_entry("huge.test", "TXT", "NOERROR", rrs));
  Resolver resolver({.servers = {lab.testns_server()}, .timeout = std::chrono::milliseconds(300), .tries = 1});
  Answer huge = resolve(resolver, "huge.test", RecordType::txt);
  EXPECT_TRUE(lookup_failed(huge.outcome)) << outcome_name(huge.outcome);
  EXPECT_TRUE(huge.records.empty());
}

TEST(DnsLabResolver, ThousandsInFlightAllAnswered) {
  SKIP_WITHOUT_DNSLAB();
  DnsLab lab;
  lab.start_dnsmasq(zone());
  // 200 in flight, the audit's default: a burst of 500 overruns dnsmasq's UDP socket on a busy host,
  // and what is tested is the bounded window answering every one of 3,000 queued lookups.
  Resolver resolver({.servers = {lab.dnsmasq_server()}, .max_in_flight = 200});
  std::map<Outcome, int> outcomes;
  for (int i = 0; i < 3000; ++i) {
    std::string name = i % 2 ? "mx1.hosted.test" : "n" + std::to_string(i) + ".hosted.test";
    resolver.query(name, RecordType::a, [&](const Answer& a) { ++outcomes[a.outcome]; });
  }
  resolver.run();
  EXPECT_EQ(outcomes[Outcome::answer], 1500);
  EXPECT_EQ(outcomes[Outcome::nxdomain], 1500);
  EXPECT_EQ(resolver.queries_sent(), 3000u);
}

TEST(DnsResolver, BadServerAddressIsAClearError) {
  EXPECT_THROW(Resolver({.servers = {"not-an-ip:53"}}), std::runtime_error);
}

}  // namespace
}  // namespace sw::audit::dns
