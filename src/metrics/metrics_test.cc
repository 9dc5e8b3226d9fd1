// Prometheus output of the watch daemon: every family present with its value, per-actor-type
// totals and trailing-minute rates, holds and containment events; and TypeRates' window.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace sw::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsTest, RendersEveryFamilyWithItsValue) {
  WatchMetrics m;
  m.lines = 1234;
  m.holds_active = 3;
  m.containment_events = 5;
  m.frozen = 42;
  m.active_actors = 17;
  m.lag_seconds = 2;
  m.messages_by_type[size_t(detect::ActorType::Script)] = 300;
  m.messages_by_type[size_t(detect::ActorType::AuthAccount)] = 7;
  m.messages_last_minute[size_t(detect::ActorType::Script)] = 60;
  m.messages_last_minute[size_t(detect::ActorType::Sender)] = 2;
  std::string out = render_prometheus(m);
  EXPECT_TRUE(has_line(out, "spamwarden_log_lines_total 1234")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_holds_active 3")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_containment_events_total 5")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_frozen_messages_total 42")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_active_actors 17")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_log_lag_seconds 2")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"script\"} 300")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"auth_account\"} 7")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_total{actor_type=\"client_ip\"} 0")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"script\"} 60")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"sender\"} 2")) << out;
  EXPECT_TRUE(has_line(out, "spamwarden_messages_last_minute{actor_type=\"local_user\"} 0")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_holds_active gauge")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_containment_events_total counter")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE spamwarden_messages_last_minute gauge")) << out;
  // One sample line per actor type for each labelled family.
  size_t n = 0;
  for (size_t at = out.find("\nspamwarden_messages_total{"); at != std::string::npos;
       at = out.find("\nspamwarden_messages_total{", at + 1))
    ++n;
  EXPECT_EQ(n, detect::kActorTypes);
}

TEST(MetricsTest, TypeRatesCountTheTrailingMinute) {
  TypeRates r;
  TypeRates::Counts c{};
  EXPECT_EQ(r.last_minute()[0], 0u);
  r.sample(1000, c);
  EXPECT_EQ(r.last_minute()[0], 0u);  // one sample: no rate yet
  for (int s = 1; s <= 120; ++s) {     // 10 script messages a second for two minutes
    c[size_t(detect::ActorType::Script)] += 10;
    if (s % 2 == 0) c[size_t(detect::ActorType::ClientIp)] += 1;
    r.sample(1000 + s, c);
  }
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Script)], 600u);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::ClientIp)], 30u);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Sender)], 0u);
  // Quiet for a while: the rate falls to zero once the busy samples leave the window.
  for (int s = 121; s <= 200; ++s) r.sample(1000 + s, c);
  EXPECT_EQ(r.last_minute()[size_t(detect::ActorType::Script)], 0u);
}

TEST(MetricsTest, TypeRatesStayBoundedWithFastSamples) {
  TypeRates r;
  TypeRates::Counts c{};
  for (int i = 0; i < 10000; ++i) {
    c[0] += 1;
    r.sample(5000, c);  // many samples within one second
  }
  EXPECT_LE(r.last_minute()[0], TypeRates::kMaxSamples);
  EXPECT_GT(r.last_minute()[0], 0u);
}

}  // namespace
}  // namespace sw::metrics
