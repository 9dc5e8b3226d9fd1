#include "proto/spamd.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace sw::proto::spamd {
namespace {

using State = RequestParser::State;

// Exim 4.96's spam.c reads a SpamAssassin-variant reply with these two sscanf formats (the
// second is the one spamd sends for SPAMC/1.2) and the rspamd variant with the third; a reply
// is usable only when they match. Returns false when Exim would log "cannot parse spamd output".
struct EximView {
  double score = -1, threshold = -1, reject = -1;
  std::string report, action, short_result;
};
bool exim_parses_spamd(const std::string& reply, EximView* view) {
  char version[8];
  int offset = 0;
  if (sscanf(reply.c_str(), "SPAMD/%7s 0 EX_OK\r\nContent-length: %*u\r\n\r\n%lf/%lf\r\n%n", version, &view->score,
             &view->threshold, &offset) != 3 &&
      sscanf(reply.c_str(), "SPAMD/%7s 0 EX_OK\r\nSpam: %*s ; %lf / %lf\r\n\r\n%n", version, &view->score,
             &view->threshold, &offset) != 3) {
    return false;
  }
  view->report = reply.substr(offset);
  return true;
}
bool exim_parses_rspamd(const std::string& reply, EximView* view) {
  char version[8], short_result[8];
  int offset = 0;
  if (sscanf(reply.c_str(), "RSPAMD/%7s 0 EX_OK\r\nMetric: default; %7s %lf / %lf / %lf\r\n%n", version, short_result,
             &view->score, &view->threshold, &view->reject, &offset) != 5) {
    return false;
  }
  view->short_result = short_result;
  view->report = reply.substr(offset);
  if (view->report.starts_with("Action: ")) view->action = view->report.substr(8, view->report.find('\r') - 8);
  return true;
}

ScanResult plain(double score, bool is_spam) {
  ScanResult result;
  result.score = score;
  result.is_spam = is_spam;
  return result;
}

ScanResult spammy() {
  return {.score = 7.34, .threshold = 5, .is_spam = true, .symbols = {{"url:cheap-meds.top", 3.2}, {"BAYES", 2.5}}};
}

State feed_all(RequestParser& parser, std::string_view bytes, size_t chunk) {
  State state = State::kNeedMore;
  for (size_t i = 0; i < bytes.size(); i += chunk) state = parser.feed(bytes.substr(i, chunk));
  return state;
}

// A real message of the public corpus kept with the classifier's tests.
std::string read_corpus_message(const std::string& name) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/src/classify/testdata/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(SpamdRequest, EximSpamcRequestInAnyChunkingGivesTheExactMessage) {
  std::string message = "From: a@example.com\nSubject: hi\n\nbody \r\n\0 with NUL\n";
  message.push_back('\0');
  std::string request =
      "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: " + std::to_string(message.size()) + "\r\n\r\n" + message;
  for (size_t chunk : {1, 3, 7, 4096}) {
    RequestParser parser;
    EXPECT_EQ(feed_all(parser, request, chunk), State::kComplete) << chunk;
    const Request& r = parser.request();
    EXPECT_EQ(r.dialect, Dialect::kSpamc);
    EXPECT_EQ(r.command, Command::kReport);
    EXPECT_EQ(r.version_minor, 2);
    EXPECT_EQ(r.user, "nobody");
    EXPECT_EQ(r.message, message);
    EXPECT_FALSE(r.truncated());
  }
}

TEST(SpamdRequest, RspamcRequestCompletesWithoutHalfClose) {
  std::string message = "Subject: x\r\n\r\nhello\r\n";
  std::string request = "CHECK RSPAMC/1.3\r\nContent-length: " + std::to_string(message.size()) +
                        "\r\nQueue-Id: 1abcde-000001-AB\r\nFrom: <a@b.example>\r\nRecipient-Number: 2\r\n"
                        "Rcpt: <x@y.example>\r\nRcpt: <z@y.example>\r\nHelo: mx.example\r\nIP: 192.0.2.1\r\n\r\n" +
                        message;
  RequestParser parser;
  ASSERT_EQ(parser.feed(request), State::kComplete);
  const Request& r = parser.request();
  EXPECT_EQ(r.dialect, Dialect::kRspamc);
  EXPECT_EQ(r.queue_id, "1abcde-000001-AB");
  EXPECT_EQ(r.recipients, 2u);
  EXPECT_EQ(r.ip, "192.0.2.1");
  EXPECT_EQ(r.message, message);
}

TEST(SpamdRequest, WithoutContentLengthTheMessageEndsAtHalfClose) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("CHECK SPAMC/1.5\r\n\r\nSubject: x\n\nbody\n"), State::kNeedMore);
  EXPECT_EQ(parser.finish(), State::kComplete);
  EXPECT_EQ(parser.request().message, "Subject: x\n\nbody\n");
}

TEST(SpamdRequest, ClientSendingLessThanItsContentLengthIsAnErrorAtHalfClose) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("CHECK SPAMC/1.2\r\nContent-length: 100\r\n\r\nshort"), State::kNeedMore);
  EXPECT_EQ(parser.finish(), State::kError);
  EXPECT_EQ(parser.error_code(), ExitCode::kDataErr);
  EXPECT_NE(parser.error().find("5 of its 100"), std::string::npos) << parser.error();
}

TEST(SpamdRequest, BytesAfterContentLengthAreIgnored) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("CHECK SPAMC/1.2\r\nContent-length: 3\r\n\r\nabcdef"), State::kComplete);
  EXPECT_EQ(parser.request().message, "abc");
}

TEST(SpamdRequest, PingCompletesAtItsCommandLine) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("PING SPAMC/1.5\r\n"), State::kComplete);
  EXPECT_EQ(parser.request().command, Command::kPing);
  EXPECT_EQ(encode_ping_reply(), "SPAMD/1.5 0 PONG\r\n");
}

TEST(SpamdRequest, TellAsSpamcSendsIt) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 2\r\n\r\nhi"),
            State::kComplete);
  const Request& r = parser.request();
  EXPECT_EQ(r.message_class, "spam");
  EXPECT_TRUE(r.set_local);
  EXPECT_FALSE(r.set_remote);
  EXPECT_EQ(encode_tell_reply(r, true, false), "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nDidSet: local\r\n\r\n");
}

TEST(SpamdRequest, TellRequestRoundTrips) {
  RequestParser parser;
  EXPECT_EQ(parser.feed(encode_tell_request("Subject: x\n\nbody\n", false)), State::kComplete);
  EXPECT_EQ(parser.request().message_class, "ham");
  EXPECT_EQ(parser.request().message, "Subject: x\n\nbody\n");
  EXPECT_EQ(read_tell_reply(encode_tell_reply(parser.request(), true, false)), TellReply::kChanged);
  EXPECT_EQ(read_tell_reply(encode_tell_reply(parser.request(), false, false)), TellReply::kUnchanged);
  RequestParser forget;
  EXPECT_EQ(forget.feed(encode_forget_request("Subject: x\n\nbody\n")), State::kComplete);
  EXPECT_TRUE(forget.request().remove_local);
  EXPECT_EQ(forget.request().message_class, "");
  EXPECT_EQ(read_tell_reply(encode_tell_reply(forget.request(), false, true)), TellReply::kChanged);
  EXPECT_EQ(read_tell_reply(encode_error(Dialect::kSpamc, ExitCode::kUnavailable)), TellReply::kRefused);
  EXPECT_EQ(read_tell_reply(encode_error(Dialect::kSpamc, ExitCode::kNoPerm)), TellReply::kNotAllowed);
  EXPECT_EQ(read_tell_reply("SPAMD/1.1 0 EX_OK\r\nDidSet: local"), TellReply::kRefused);  // cut short
}

TEST(SpamdRequest, TellWithoutClassOrDatabaseIsRefused) {
  RequestParser no_class;
  EXPECT_EQ(no_class.feed("TELL SPAMC/1.5\r\nSet: local\r\nContent-length: 2\r\n\r\nhi"), State::kError);
  RequestParser no_set;
  EXPECT_EQ(no_set.feed("TELL SPAMC/1.5\r\nMessage-class: ham\r\nContent-length: 2\r\n\r\nhi"), State::kError);
  RequestParser bad_class;
  EXPECT_EQ(bad_class.feed("TELL SPAMC/1.5\r\nMessage-class: eggs\r\n"), State::kError);
}

TEST(SpamdRequest, MalformedRequestsAreRefusedWithProtocolError) {
  for (std::string_view bad :
       {"FROB SPAMC/1.2\r\n", "CHECK\r\n", "CHECK HTTP/1.1\r\n", "CHECK SPAMC/x.y\r\n", "CHECK SPAMC/1.\r\n",
        "CHECK SPAMC/1.2\r\nContent-length: -1\r\n", "CHECK SPAMC/1.2\r\nContent-length: 12x\r\n",
        "CHECK SPAMC/1.2\r\nContent-length: 99999999999999999999999\r\n", "CHECK SPAMC/1.2\r\nno colon\r\n",
        "CHECK SPAMC/1.2\r\nContent-length: 1\r\nContent-length: 2\r\n", "CHECK SPAMC/1.2\r\nCompress: zlib\r\n"}) {
    RequestParser parser;
    EXPECT_EQ(parser.feed(bad), State::kError) << bad;
    EXPECT_EQ(parser.error_code(), ExitCode::kProtocol) << bad;
    EXPECT_FALSE(parser.error().empty());
  }
  RequestParser empty;
  EXPECT_EQ(empty.finish(), State::kError);
  RequestParser in_headers;
  in_headers.feed("CHECK SPAMC/1.2\r\nUser: x\r\n");
  EXPECT_EQ(in_headers.finish(), State::kError);
}

TEST(SpamdRequest, HeaderLineAndCountAreBounded) {
  Limits limits;
  limits.max_header_line = 100;
  limits.max_header_lines = 5;
  RequestParser long_line(limits);
  EXPECT_EQ(long_line.feed("CHECK SPAMC/1.2\r\nUser: " + std::string(200, 'x')), State::kError);
  RequestParser endless_line(limits);
  State state = State::kNeedMore;
  for (int i = 0; i < 1000 && state == State::kNeedMore; ++i) state = endless_line.feed(std::string(10, 'y'));
  EXPECT_EQ(state, State::kError);  // no newline ever: refused once the line is over the limit
  RequestParser many(limits);
  std::string request = "CHECK RSPAMC/1.3\r\n";
  for (int i = 0; i < 6; ++i) request += "X-Other: a\r\n";
  EXPECT_EQ(many.feed(request), State::kError);
  // Rcpt: lines (one per recipient in Exim's rspamd form) are counted apart, to their own cap.
  limits.max_recipient_lines = 7;
  RequestParser recipients(limits);
  std::string mass = "CHECK RSPAMC/1.3\r\n";
  for (int i = 0; i < 7; ++i) mass += "Rcpt: <a@b>\r\n";
  EXPECT_EQ(recipients.feed(mass + "Content-length: 1\r\n\r\nx"), State::kComplete);
  EXPECT_EQ(recipients.request().recipients, 7u);
  RequestParser too_many(limits);
  EXPECT_EQ(too_many.feed(mass + "rcpt: <c@d>\r\n"), State::kError);
}

TEST(SpamdRequest, LargeMessageKeepsTheScanPrefixAndCountsTheRest) {
  Limits limits;
  limits.scan_bytes = 1000;
  limits.max_message = 1'000'000;
  RequestParser parser(limits);
  std::string body(300'000, 'z');
  ASSERT_EQ(parser.feed("CHECK SPAMC/1.2\r\nContent-length: 300000\r\n\r\n"), State::kNeedMore);
  EXPECT_EQ(feed_all(parser, body, 65536), State::kComplete);
  EXPECT_EQ(parser.request().message.size(), 1000u);
  EXPECT_EQ(parser.request().message_bytes, 300'000u);
  EXPECT_TRUE(parser.request().truncated());
}

TEST(SpamdRequest, MessageOverTheHardLimitIsRefused) {
  Limits limits;
  limits.max_message = 1000;
  RequestParser declared(limits);
  EXPECT_EQ(declared.feed("CHECK SPAMC/1.2\r\nContent-length: 1001\r\n\r\n"), State::kError);
  EXPECT_EQ(declared.error_code(), ExitCode::kDataErr);
  RequestParser undeclared(limits);
  undeclared.feed("CHECK SPAMC/1.2\r\n\r\n");
  EXPECT_EQ(undeclared.feed(std::string(1001, 'a')), State::kError);
}

TEST(SpamdReply, Spamc12ReportIsTheFormEximReads) {
  RequestParser parser;
  parser.feed("REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: 1\r\n\r\nx");
  std::string reply = encode_scan_reply(parser.request(), spammy());
  EXPECT_TRUE(reply.starts_with("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\n")) << reply;
  EximView view;
  ASSERT_TRUE(exim_parses_spamd(reply, &view)) << reply;
  EXPECT_DOUBLE_EQ(view.score, 7.3);
  EXPECT_DOUBLE_EQ(view.threshold, 5.0);
  EXPECT_NE(view.report.find("url:cheap-meds.top"), std::string::npos);
  EXPECT_NE(view.report.find(" 3.2 url:cheap-meds.top\r\n"), std::string::npos) << view.report;
}

TEST(SpamdReply, ScoreLineFormIsTheOtherFormEximReads) {
  std::string reply = encode_score_line_reply(spammy());
  EximView view;
  ASSERT_TRUE(exim_parses_spamd(reply, &view)) << reply;
  EXPECT_DOUBLE_EQ(view.score, 7.3);
  EXPECT_DOUBLE_EQ(view.threshold, 5.0);
  size_t blank = reply.find("\r\n\r\n");
  EXPECT_EQ(reply.substr(blank + 4).size(), std::stoul(reply.substr(reply.find("Content-length: ") + 16)));
}

TEST(SpamdReply, PrintedScoreStaysOnTheVerdictsSideOfThePrintedThreshold) {
  RequestParser parser;
  parser.feed("CHECK SPAMC/1.2\r\nContent-length: 0\r\n\r\n");
  EximView view;
  ASSERT_TRUE(exim_parses_spamd(encode_scan_reply(parser.request(), plain(4.97, false)), &view));
  EXPECT_LT(view.score, view.threshold);  // "5.0 / 5.0" would make Exim call a clean message spam
  ASSERT_TRUE(exim_parses_spamd(encode_scan_reply(parser.request(), plain(4.99, true)), &view));
  EXPECT_GE(view.score, view.threshold);
  ASSERT_TRUE(exim_parses_spamd(encode_scan_reply(parser.request(), plain(NAN, false)), &view));
  EXPECT_DOUBLE_EQ(view.score, 0);
}

TEST(SpamdReply, Protocol13AddsContentLengthAndSymbolsLoseTheirCrlf) {
  RequestParser v15;
  v15.feed("SYMBOLS SPAMC/1.5\r\nContent-length: 0\r\n\r\n");
  EXPECT_EQ(encode_scan_reply(v15.request(), spammy()),
            "SPAMD/1.1 0 EX_OK\r\nContent-length: 24\r\nSpam: True ; 7.3 / 5.0\r\n\r\nurl:cheap-meds.top,BAYES");
  RequestParser v12;
  v12.feed("SYMBOLS SPAMC/1.2\r\nContent-length: 0\r\n\r\n");
  EXPECT_EQ(encode_scan_reply(v12.request(), spammy()),
            "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\nurl:cheap-meds.top,BAYES\r\n");
  RequestParser if_spam;
  if_spam.feed("REPORT_IFSPAM SPAMC/1.2\r\nContent-length: 0\r\n\r\n");
  EXPECT_EQ(encode_scan_reply(if_spam.request(), plain(1, false)), "SPAMD/1.1 0 EX_OK\r\nSpam: No ; 1.0 / 5.0\r\n\r\n");
}

TEST(SpamdReply, ProcessPutsTheStatusHeadersAfterTheMboxLine) {
  RequestParser parser;
  std::string message = "From a@b Fri Dec  4 10:00:00 2026\nSubject: s\n\nbody\n";
  parser.feed("PROCESS SPAMC/1.5\r\nContent-length: " + std::to_string(message.size()) + "\r\n\r\n" + message);
  std::string reply = encode_scan_reply(parser.request(), spammy());
  size_t body_at = reply.find("\r\n\r\n") + 4;
  EXPECT_TRUE(reply.substr(body_at).starts_with("From a@b Fri Dec  4 10:00:00 2026\nX-Spam-Flag: YES\r\n"));
  EXPECT_TRUE(reply.ends_with("Subject: s\n\nbody\n"));
}

TEST(SpamdReply, RspamdLegacyReplyIsWhatEximsRspamdVariantReads) {
  RequestParser parser;
  parser.feed("CHECK RSPAMC/1.3\r\nContent-length: 1\r\nQueue-Id: 1abc-0001-AB\r\n\r\nx");
  std::string reply = encode_scan_reply(parser.request(), spammy(), {.reject_score = 15});
  EXPECT_TRUE(reply.starts_with("RSPAMD/1.3 0 EX_OK\r\nMetric: default; True; 7.34 / 5.00 / 15.00\r\n")) << reply;
  EximView view;
  ASSERT_TRUE(exim_parses_rspamd(reply, &view)) << reply;
  EXPECT_DOUBLE_EQ(view.score, 7.34);
  EXPECT_DOUBLE_EQ(view.threshold, 5);
  EXPECT_DOUBLE_EQ(view.reject, 15);
  EXPECT_EQ(view.action, "add header");
  EXPECT_NE(view.report.find("Symbol: url:cheap-meds.top(3.20)\r\n"), std::string::npos);
  EXPECT_NE(view.report.find("Message-ID: 1abc-0001-AB\r\n"), std::string::npos);
  ScanResult very = spammy();
  very.score = 20;
  ASSERT_TRUE(exim_parses_rspamd(encode_scan_reply(parser.request(), very), &view));
  EXPECT_EQ(view.action, "reject");
  ASSERT_TRUE(exim_parses_rspamd(encode_scan_reply(parser.request(), plain(-1.5, false)), &view));
  EXPECT_EQ(view.action, "no action");
  EXPECT_EQ(view.short_result, "False;");
}

TEST(SpamdReply, SymbolNamesCannotBreakTheHeaderEximBuildsFromTheReport) {
  EXPECT_EQ(symbol_name("evil\r\nX-Injected: 1"), "evil??X-Injected:?1");
  EXPECT_EQ(symbol_name("a,b(c);d"), "a_b_c__d");
  EXPECT_EQ(symbol_name(""), "_");
  EXPECT_EQ(symbol_name(std::string(100, 'q')).size(), 60u);
  EXPECT_EQ(symbol_name("caf\xc3\xa9"), "caf??");
}

TEST(SpamdReply, ErrorsAreOnlyAStatusLine) {
  EXPECT_EQ(encode_error(Dialect::kSpamc, ExitCode::kProtocol), "SPAMD/1.1 76 EX_PROTOCOL\r\n");
  EXPECT_EQ(encode_error(Dialect::kRspamc, ExitCode::kTempFail), "RSPAMD/1.3 75 EX_TEMPFAIL\r\n");
  EximView view;
  EXPECT_FALSE(exim_parses_spamd(encode_error(Dialect::kSpamc, ExitCode::kDataErr), &view));
}

TEST(SpamdRequest, CorpusMessageArrivesByteForByte) {
  for (const char* name : {"big5_images_spam.eml", "attachment_spam.eml", "latin1_ham.eml"}) {
    std::string message = read_corpus_message(name);
    ASSERT_GT(message.size(), 1000u) << name;
    std::string request =
        "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: " + std::to_string(message.size()) + "\r\n\r\n" + message;
    RequestParser parser;
    EXPECT_EQ(feed_all(parser, request, 1460), State::kComplete) << name;
    EXPECT_EQ(parser.request().message, message) << name;
  }
}

}  // namespace
}  // namespace sw::proto::spamd
