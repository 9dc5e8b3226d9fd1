// Line shapes from ../shared/reference/exim-formats.md section 1; the RealLog tests below
// replay logs that a real Exim 4.96 wrote (testdata/real-*.log).
#include "eximlog/line_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/text.h"

namespace sw::eximlog {
namespace {

LogLine parse(std::string_view s) {
  LogLine l;
  parse_line(s, l);
  return l;
}

TEST(LineParser, ArrivalFromScriptWithPid) {
  auto l = parse(
      "2026-11-01 10:02:03 [4121] 1tAbCd-0001AB-Xy <= userx1@host.example U=userx1 P=local "
      "S=1234 id=E1tAbCd-0001AB-Xy@host.example T=\"Your \\\"account\\\" is locked\" "
      "from <userx1@host.example> for a@b.example c@d.example");
  EXPECT_EQ(l.kind, LineKind::Arrival);
  EXPECT_EQ(l.pid, 4121u);
  EXPECT_EQ(l.message_id, "1tAbCd-0001AB-Xy");
  EXPECT_EQ(l.address, "userx1@host.example");
  EXPECT_EQ(l.ident, "userx1");
  EXPECT_EQ(l.protocol, "local");
  EXPECT_EQ(l.size, 1234u);
  EXPECT_EQ(unescape_exim(l.subject), "Your \"account\" is locked");
  EXPECT_EQ(l.recipients, "a@b.example c@d.example");
  EXPECT_TRUE(l.host_ip.empty());
}

TEST(LineParser, AuthenticatedArrivalWithHostHeloPortAndNewId) {
  auto l = parse(
      "2026-11-01 10:02:03.517 +0100 1rAbCd-000000001Ab-00aZ <= sales@acme-shop.example "
      "H=(WIN-7X2) [127.0.0.66]:50412 P=esmtpa A=dovecot_login:sales@acme-shop.example "
      "S=2201 id=x@y T=\"Invoice for you\" for v1@x.test v2@y.test");
  EXPECT_EQ(l.kind, LineKind::Arrival);
  EXPECT_EQ(l.millis, 517);
  EXPECT_TRUE(l.has_timezone);
  EXPECT_EQ(format_civil(l.time), "2026-11-01 09:02:03");  // normalised to UTC
  EXPECT_EQ(l.message_id, "1rAbCd-000000001Ab-00aZ");
  EXPECT_EQ(l.helo, "WIN-7X2");
  EXPECT_EQ(l.host_ip, "127.0.0.66");
  EXPECT_EQ(l.auth, "dovecot_login:sales@acme-shop.example");
  EXPECT_EQ(l.auth_id, "sales@acme-shop.example");
  EXPECT_EQ(l.subject, "Invoice for you");  // " for " inside the subject is not the list
  EXPECT_EQ(l.recipients, "v1@x.test v2@y.test");
}

TEST(LineParser, HostFieldForms) {
  auto a = parse("2026-11-01 10:00:00 1FZ8zt-0005lz-E7 <= <> R=1FZ8zs-0005ly-AA U=Debian-exim P=local S=900");
  EXPECT_EQ(a.address, "");
  EXPECT_EQ(a.router, "1FZ8zs-0005ly-AA");
  auto b = parse(
      "2026-11-01 10:00:00 1FZ8zt-0005lz-E7 <= x@y H=mail.y.example (helo.y) [2001:db8::1]:5432 "
      "P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=10");
  EXPECT_EQ(b.host_name, "mail.y.example");
  EXPECT_EQ(b.helo, "helo.y");
  EXPECT_EQ(b.host_ip, "2001:db8::1");
  EXPECT_EQ(b.protocol, "esmtps");
  auto c = parse("2026-11-01 10:00:00 1FZ8zt-0005lz-E7 <= x@y H=([1.2.3.4]) [5.6.7.8] P=smtp S=1");
  EXPECT_EQ(c.helo, "[1.2.3.4]");
  EXPECT_EQ(c.host_ip, "5.6.7.8");  // only the last [...] counts
  auto d = parse("2026-11-01 10:00:00 1FZ8zt-0005lz-E7 <= x@y H=[9.9.9.9] P=smtp S=1");
  EXPECT_EQ(d.host_ip, "9.9.9.9");
  EXPECT_TRUE(d.helo.empty());
}

TEST(LineParser, DeliveryShapes) {
  auto l = parse(
      "2026-11-01 10:00:01 1FZ8zt-0005lz-E7 => bob@gmail.test <alias@acme.example> "
      "(alias@acme.example) F=<a@acme.example> R=dkim_lookuphost T=dkim_remote_smtp "
      "H=mx.gmail.test [1.2.3.4] X=TLS1.3:x:256 CV=yes C=\"250 2.0.0 OK: queued as 12\" QT=1s DT=0s");
  EXPECT_EQ(l.kind, LineKind::Delivery);
  EXPECT_EQ(l.delivery, DeliveryFlag::Normal);
  EXPECT_EQ(l.address, "bob@gmail.test");
  EXPECT_EQ(l.original, "alias@acme.example");
  EXPECT_EQ(l.sender, "a@acme.example");
  EXPECT_EQ(l.router, "dkim_lookuphost");
  EXPECT_EQ(l.transport, "dkim_remote_smtp");
  EXPECT_EQ(l.host_ip, "1.2.3.4");
  EXPECT_EQ(l.reason, "250 2.0.0 OK: queued as 12");
  auto further = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 -> c@gmail.test R=x T=y H=mx [1.2.3.4]*");
  EXPECT_EQ(further.delivery, DeliveryFlag::Further);
  EXPECT_EQ(further.address, "c@gmail.test");
  auto blackhole = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 => :blackhole: <x@acme.example> R=virtual_aliases");
  EXPECT_EQ(blackhole.address, ":blackhole:");
  EXPECT_EQ(blackhole.original, "x@acme.example");
  auto pipe =
      parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 => |/usr/bin/prog -x arg <p@acme.example> R=r T=address_pipe");
  EXPECT_EQ(pipe.address, "|/usr/bin/prog -x arg");
  EXPECT_EQ(pipe.transport, "address_pipe");
  auto cut = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 >> d@e.test R=r T=t H=h [1.1.1.1]");
  EXPECT_EQ(cut.delivery, DeliveryFlag::Cutthrough);
  auto sup = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 *> d@e.test R=r T=t");
  EXPECT_EQ(sup.delivery, DeliveryFlag::Suppressed);
}

TEST(LineParser, FailuresKeepTheWholeMessage) {
  auto b = parse(
      "2026-11-01 10:00:01 1FZ8zt-0005lz-E7 ** j.doe@victim-corp.test F=<> R=dnslookup T=remote_smtp "
      "H=mx.victim [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<j.doe@victim-corp.test>: "
      "550 5.1.1 User unknown");
  EXPECT_EQ(b.kind, LineKind::Bounce);
  EXPECT_EQ(b.address, "j.doe@victim-corp.test");
  EXPECT_EQ(b.router, "dnslookup");
  EXPECT_EQ(b.host_ip, "1.2.3.4");
  EXPECT_EQ(b.reason,
            "SMTP error from remote mail server after RCPT TO:<j.doe@victim-corp.test>: 550 5.1.1 User unknown");
  auto unroutable = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 ** nobody@nowhere.test: Unrouteable address");
  EXPECT_EQ(unroutable.address, "nobody@nowhere.test");
  EXPECT_EQ(unroutable.reason, "Unrouteable address");
  auto d = parse(
      "2026-11-01 10:00:01 1FZ8zt-0005lz-E7 == x@slow.test R=dnslookup T=remote_smtp defer (-44) "
      "H=mx.slow.test [1.2.3.5]: SMTP error from remote mail server after RCPT TO:<x@slow.test>: 451 try later");
  EXPECT_EQ(d.kind, LineKind::Defer);
  EXPECT_EQ(d.address, "x@slow.test");
  EXPECT_EQ(d.transport, "remote_smtp");
  EXPECT_NE(d.reason.find("451 try later"), std::string_view::npos);
}

TEST(LineParser, StateLines) {
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Completed").kind, LineKind::Completed);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Completed QT=2s").kind, LineKind::Completed);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Frozen (delivery error message)").kind, LineKind::Frozen);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 frozen by ACL").kind, LineKind::Frozen);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 frozen by local_scan()").kind, LineKind::Frozen);
  // An admin's `exim -Mf` (or a hold placed through it): not a freeze of Exim's delivery.
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 frozen by root").kind, LineKind::Other);
  EXPECT_EQ(parse("2026-11-01 10:00:01 Start queue run: pid=123 -qf").kind, LineKind::QueueRun);
  EXPECT_EQ(parse("2026-11-01 10:00:01 End queue run: pid=123 -qf").kind, LineKind::QueueRun);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 removed by root").kind, LineKind::Other);
}

TEST(LineParser, PidPrefixOnlyWhenWellFormed) {
  EXPECT_EQ(parse("2026-11-01 10:00:01 [4294967295] 1FZ8zt-0005lz-E7 Completed").pid, 4294967295u);
  for (const char* odd : {"[4294967296] ", "[12345678901] ", "[] ", "[12x] ", "[12]x", "[12"}) {
    auto l = parse(std::string("2026-11-01 10:00:01 ") + odd + " 1FZ8zt-0005lz-E7 Completed");
    EXPECT_EQ(l.pid, 0u) << odd;
    EXPECT_NE(l.kind, LineKind::Completed) << odd;  // the bracket is text, not a prefix
  }
  // Lines across midnight keep their own dates (the parser remembers the last date).
  auto before = parse("2026-11-01 23:59:59 1FZ8zt-0005lz-E7 Completed");
  auto after = parse("2026-11-02 00:00:00 1FZ8zt-0005lz-E8 Completed");
  EXPECT_EQ(after.time - before.time, 1);
}

TEST(LineParser, CwdLineWithSpacesInDirectory) {
  auto l = parse("2026-11-01 10:00:01 [77] cwd=/home/u/public_html/my site 3 args: /usr/sbin/sendmail -t -i");
  EXPECT_EQ(l.kind, LineKind::Cwd);
  EXPECT_EQ(l.pid, 77u);
  EXPECT_EQ(l.cwd, "/home/u/public_html/my site");
  EXPECT_EQ(l.args, "/usr/sbin/sendmail -t -i");
  EXPECT_TRUE(l.message_id.empty());
}

TEST(LineParser, RejectionsAndAuthFailures) {
  auto r = parse(
      "2026-11-01 10:00:01 H=(attacker) [127.0.0.99]:40404 F=<x@spam.test> rejected RCPT "
      "<zq7k@acme-shop.example>: Unknown user");
  EXPECT_EQ(r.kind, LineKind::RejectRcpt);
  EXPECT_EQ(r.host_ip, "127.0.0.99");
  EXPECT_EQ(r.sender, "x@spam.test");
  EXPECT_EQ(r.address, "zq7k@acme-shop.example");
  EXPECT_EQ(r.reason, "Unknown user");
  auto t = parse("2026-11-01 10:00:01 H=[1.2.3.4] F=<a@b> temporarily rejected RCPT <c@d>: greylisted");
  EXPECT_EQ(t.kind, LineKind::RejectRcpt);
  EXPECT_TRUE(t.temporary);
  auto c = parse("2026-11-01 10:00:01 H=[1.2.3.4] rejected connection in \"connect\" ACL: Host is banned");
  EXPECT_EQ(c.kind, LineKind::Reject);
  EXPECT_EQ(c.host_ip, "1.2.3.4");
  auto a = parse(
      "2026-11-01 10:00:01 dovecot_login authenticator failed for (x) [127.0.0.66]:555: "
      "535 Incorrect authentication data (set_id=sales@acme-shop.example)");
  EXPECT_EQ(a.kind, LineKind::AuthFailure);
  EXPECT_EQ(a.auth, "dovecot_login");
  EXPECT_EQ(a.host_ip, "127.0.0.66");
  EXPECT_EQ(a.auth_id, "sales@acme-shop.example");
  auto a2 = parse(
      "2026-11-01 10:00:01 dovecot_plain authenticator failed for H=(x) [127.0.0.7]: 535 Incorrect "
      "authentication data");
  EXPECT_EQ(a2.host_ip, "127.0.0.7");
  EXPECT_TRUE(a2.auth_id.empty());
}

// A sender's quoted local part is the client's text: a space and " A=..." in it are part of
// the address, not an A= tag that would make the session look logged in as that account.
TEST(LineParser, QuotedSenderTextIsNoTag) {
  auto r = parse(
      "2026-11-01 10:00:01 H=(x) [45.95.147.20]:4000 F=<\"x A=dovecot_login:ceo@shop.example y\"@evil.test> "
      "rejected RCPT <u1@shop.example>: Unknown user");
  EXPECT_EQ(r.kind, LineKind::RejectRcpt);
  EXPECT_TRUE(r.auth.empty());
  EXPECT_TRUE(r.auth_id.empty());
  EXPECT_EQ(r.sender, "\"x A=dovecot_login:ceo@shop.example y\"@evil.test");
  auto a = parse(
      "2026-11-01 10:00:01 1tAAAA-000001-AA <= a.\"b A=dovecot_login:ceo@shop.example c\"@evil.test "
      "H=(x) [45.95.147.20]:4000 P=esmtp S=900 for u@shop.example");
  EXPECT_EQ(a.kind, LineKind::Arrival);
  EXPECT_EQ(a.address, "a.\"b A=dovecot_login:ceo@shop.example c\"@evil.test");
  EXPECT_TRUE(a.auth_id.empty());
  EXPECT_EQ(a.host_ip, "45.95.147.20");
  auto q = parse("2026-11-01 10:00:01 1tAAAA-000002-AA <= \"quoted lp\"@x.test H=[1.2.3.4] P=esmtp S=9 for u@x.test");
  EXPECT_EQ(q.address, "\"quoted lp\"@x.test");
  EXPECT_EQ(q.protocol, "esmtp");
  // An unclosed quote is a character: the tags after it are still read.
  auto u = parse("2026-11-01 10:00:01 1tAAAA-000003-AA <= a\"b@x.test H=[1.2.3.4] P=esmtp S=9 for u@x.test");
  EXPECT_EQ(u.address, "a\"b@x.test");
  EXPECT_EQ(u.host_ip, "1.2.3.4");
}

TEST(LineParser, CpanelLines) {
  auto l = parse(
      "2026-11-01 10:00:01 SMTP connection identification H=localhost A=127.0.0.1 P=36250 U=cpuser "
      "ID=1001 S=cpuser B=identify_local_connection");
  EXPECT_EQ(l.kind, LineKind::CpanelIdentification);
  EXPECT_EQ(l.ident, "cpuser");
  EXPECT_EQ(l.host_ip, "127.0.0.1");
  EXPECT_EQ(l.host_port, "36250");
  EXPECT_TRUE(l.local_connection);
  LogLine lean_connection;
  parse_line(
      "2026-11-01 10:00:01 SMTP connection identification H=localhost A=127.0.0.1 P=36250 U=cpuser ID=1001 "
      "S=cpuser B=identify_local_connection",
      lean_connection, LineFields::Essential);
  EXPECT_TRUE(lean_connection.local_connection);
  EXPECT_EQ(lean_connection.host_port, "36250");
  auto by_ip = parse(
      "2026-11-01 10:00:01 SMTP connection identification H=(pc) A=198.51.100.4 P=50000 M=1FZ8zt-0005lz-E7 U=cpuser "
      "ID=1001 S=a@acme.example B=recent_authed_mail_ips_domain");
  EXPECT_FALSE(by_ip.local_connection);
  EXPECT_TRUE(by_ip.message_id.empty());
  auto s = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Sender identification U=cpuser D=acme.example S=a@acme.example");
  EXPECT_EQ(s.kind, LineKind::CpanelIdentification);
  EXPECT_EQ(s.sender, "a@acme.example");
  EXPECT_EQ(s.ident, "cpuser");
  EXPECT_EQ(s.message_id, "1FZ8zt-0005lz-E7");
  // The engine's lean parse still reads whose message it is.
  LogLine lean;
  parse_line("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Sender identification U=cpuser D=acme.example S=a@acme.example",
             lean, LineFields::Essential);
  EXPECT_EQ(lean.kind, LineKind::CpanelIdentification);
  EXPECT_EQ(lean.ident, "cpuser");
  auto arrival = parse(
      "2026-11-01 10:00:01 1FZ8zt-0005lz-E7 <= a@b H=(x) [2001:db8::5]:4000 I=[2001:db8::5]:587 P=esmtp S=1 for c@d");
  EXPECT_EQ(arrival.interface_ip, "2001:db8::5");
  EXPECT_EQ(arrival.host_ip, "2001:db8::5");
  EXPECT_EQ(arrival.host_port, "4000");
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 <= a@b H=[192.0.2.1] P=esmtp S=1").host_port, "");
  EXPECT_TRUE(from_this_host(arrival));
  // cPanel writes U= first: a sender's own text after it names nobody else.
  auto framed = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Sender identification U= D=d.example S=s U=victim");
  EXPECT_EQ(framed.ident, "");
}

TEST(LineParser, BadInputIsUnparsedNotFatal) {
  EXPECT_EQ(parse("").kind, LineKind::Unparsed);
  EXPECT_EQ(parse("\x01\x02garbage").kind, LineKind::Unparsed);
  EXPECT_EQ(parse("2026-11-01 10:00").kind, LineKind::Unparsed);
  EXPECT_EQ(parse("2026-19-01 10:00:00 x").kind, LineKind::Unparsed);
  EXPECT_EQ(parse("  continued text").kind, LineKind::Continuation);
  EXPECT_EQ(parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 Completed\r").kind, LineKind::Completed);
  std::string huge = "2026-11-01 10:00:01 1FZ8zt-0005lz-E7 <= a@b H=" + std::string(100000, '(') + " for x";
  EXPECT_EQ(parse(huge).kind, LineKind::Arrival);
  auto trunc = parse("2026-11-01 10:00:01 1FZ8zt-0005lz-E7 <= a@b P=local S=1 for x@y z@w <trunc>");
  EXPECT_TRUE(trunc.truncated_rcpts);
  size_t n = for_each_recipient(trunc.recipients, [](std::string_view) {});
  EXPECT_EQ(n, 2u);
}

TEST(LineParser, RecipientListWithQuotedLocalPart) {
  std::vector<std::string> got;
  for_each_recipient(R"(a@b "tuition portal <x"@gmail.test c@d)", [&](std::string_view a) { got.emplace_back(a); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], R"("tuition portal <x"@gmail.test)");
}

// LineFields::Essential promises every field of All except the ones it documents skipping.
void expect_essential_agrees(std::string_view line) {
  LogLine all, essential;
  parse_line(line, all);
  parse_line(line, essential, LineFields::Essential);
  EXPECT_EQ(essential.kind, all.kind) << line;
  EXPECT_EQ(essential.delivery, all.delivery) << line;
  EXPECT_EQ(essential.temporary, all.temporary) << line;
  EXPECT_EQ(essential.time, all.time) << line;
  EXPECT_EQ(essential.pid, all.pid) << line;
  EXPECT_EQ(essential.message_id, all.message_id) << line;
  EXPECT_EQ(essential.text, all.text) << line;
  EXPECT_EQ(essential.address, all.address) << line;
  EXPECT_EQ(essential.original, all.original) << line;
  bool outcome = all.kind == LineKind::Delivery || all.kind == LineKind::Defer || all.kind == LineKind::Bounce;
  bool skipped = outcome || all.kind == LineKind::Connection || all.kind == LineKind::Reject ||
                 all.kind == LineKind::CpanelIdentification;
  if (skipped) return;
  for (auto [e, a] : {std::pair{essential.host_ip, all.host_ip},
                      {essential.helo, all.helo},
                      {essential.ident, all.ident},
                      {essential.auth_id, all.auth_id},
                      {essential.protocol, all.protocol},
                      {essential.subject, all.subject},
                      {essential.router, all.router},
                      {essential.recipients, all.recipients},
                      {essential.cwd, all.cwd},
                      {essential.reason, all.reason},
                      {essential.sender, all.sender}})
    EXPECT_EQ(e, a) << line;
  EXPECT_EQ(essential.size, all.size) << line;
}

TEST(LineParser, EssentialFieldsSkipOnlyWhatTheyDocument) {
  LogLine l;
  parse_line(
      "2026-11-01 10:02:04 [4122] 1tAbCd-0001AB-Xy => a@b.example <A@b.example> R=dnslookup "
      "T=remote_smtp H=mx.b.example [192.0.2.7] C=\"250 OK\"",
      l, LineFields::Essential);
  EXPECT_EQ(l.kind, LineKind::Delivery);
  EXPECT_EQ(l.address, "a@b.example");
  EXPECT_EQ(l.original, "A@b.example");
  EXPECT_TRUE(l.router.empty() && l.host_ip.empty() && l.reason.empty());  // skipped
  parse_line("2026-11-01 10:02:05 SMTP connection from [192.0.2.9]:4312 lost", l, LineFields::Essential);
  EXPECT_EQ(l.kind, LineKind::Connection);
  EXPECT_TRUE(l.host_ip.empty());
}

// Every line of a log a real Exim wrote must get a prefix, and the shapes we rely on must appear.
void check_real_log(const std::string& name) {
  std::string path = std::string(SW_SOURCE_DIR) + "/src/eximlog/testdata/" + name;
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "fixture not present: " << path;
  std::map<LineKind, int> kinds;
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    LogLine l;
    parse_line(line, l);
    expect_essential_agrees(line);
    ++lines;
    ++kinds[l.kind];
    EXPECT_NE(l.kind, LineKind::Unparsed) << line;
    if (l.kind == LineKind::Arrival) {
      EXPECT_FALSE(l.message_id.empty()) << line;
      EXPECT_FALSE(l.protocol.empty()) << line;
      if (l.protocol.substr(0, 5) == "esmtp" || l.protocol.substr(0, 4) == "smtp") {
        EXPECT_FALSE(l.host_ip.empty()) << line;
      }
    }
    if (l.kind == LineKind::Delivery || l.kind == LineKind::Defer || l.kind == LineKind::Bounce) {
      EXPECT_FALSE(l.address.empty()) << line;
    }
    if (l.kind == LineKind::Cwd) {
      EXPECT_EQ(l.cwd.substr(0, 1), "/") << line;
    }
  }
  EXPECT_GT(lines, 50);
  for (LineKind k : {LineKind::Arrival, LineKind::Delivery, LineKind::Completed, LineKind::Cwd, LineKind::RejectRcpt,
                     LineKind::AuthFailure, LineKind::Connection})
    EXPECT_GT(kinds[k], 0) << "no " << line_kind_name(k) << " line in " << name;
}

TEST(LineParserRealLog, WithPid) { check_real_log("real-4.96-pid.log"); }
TEST(LineParserRealLog, WithoutPid) { check_real_log("real-4.96-nopid.log"); }

}  // namespace
}  // namespace sw::eximlog
