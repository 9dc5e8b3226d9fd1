#include "metrics/metrics.h"

#include <fmt/format.h>
#include <httplib.h>

namespace sw::metrics {

std::string render_prometheus(const WatchMetrics& m) {
  std::string out;
  auto header = [&](const char* name, const char* help, const char* type) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    header(name, help, "counter");
    out += fmt::format("{} {}\n", name, v);
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    header(name, help, "gauge");
    out += fmt::format("{} {}\n", name, v);
  };
  auto per_type = [&](const char* name, const char* help, const char* type, const auto& values) {
    header(name, help, type);
    for (detect::ActorType t : detect::kAllActorTypes)
      out += fmt::format("{}{{actor_type=\"{}\"}} {}\n", name, detect::actor_type_name(t), values[size_t(t)].load());
  };
  counter("spamwarden_log_lines_total", "Main-log lines read", m.lines);
  counter("spamwarden_log_unparsed_lines_total", "Lines the parser did not recognise", m.unparsed);
  gauge("spamwarden_log_lag_bytes", "Bytes of the main log not yet read", int64_t(m.lag_bytes.load()));
  gauge("spamwarden_log_lag_seconds", "Wall clock minus the time of the last line read", m.lag_seconds);
  counter("spamwarden_log_rotations_total", "Rename rotations followed", m.rotations);
  counter("spamwarden_log_truncations_total", "copytruncate rotations followed", m.truncations);
  per_type("spamwarden_messages_total", "Messages counted per actor type", "counter", m.messages_by_type);
  per_type("spamwarden_messages_last_minute", "Messages counted per actor type in the last 60 s", "gauge",
           m.messages_last_minute);
  gauge("spamwarden_holds_active", "Actors held now", int64_t(m.holds_active.load()));
  counter("spamwarden_containment_events_total", "Holds placed since start", m.containment_events);
  counter("spamwarden_frozen_messages_total", "Queued messages frozen by holds", m.frozen);
  gauge("spamwarden_active_actors", "Actors with live windows", int64_t(m.active_actors.load()));
  counter("spamwarden_alert_failures_total", "Alerts that could not be delivered", m.alerts_failed);
  counter("spamwarden_store_failures_total", "Failed writes to the state store", m.store_failures);
  counter("spamwarden_hold_list_write_failures_total", "Failed hold-list writes", m.list_write_failures);
  return out;
}

void TypeRates::sample(int64_t now_seconds, const Counts& totals) {
  samples_.emplace_back(now_seconds, totals);
  while (samples_.size() > kMaxSamples || (samples_.size() > 1 && samples_.front().first < now_seconds - 60))
    samples_.pop_front();
}

TypeRates::Counts TypeRates::last_minute() const {
  Counts out{};
  if (samples_.size() < 2) return out;
  const Counts& now = samples_.back().second;
  const Counts& then = samples_.front().second;
  for (size_t i = 0; i < out.size(); ++i) out[i] = now[i] >= then[i] ? now[i] - then[i] : 0;
  return out;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
};

MetricsServer::MetricsServer(const WatchMetrics& metrics) : impl_(std::make_unique<Impl>()) {
  impl_->server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_prometheus(metrics), "text/plain; version=0.0.4");
  });
}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool MetricsServer::start(const std::string& listen, std::string* error) {
  std::string host;
  int port = 0;
  if (!parse_loopback_listen(listen, &host, &port, error)) {
    *error = "metrics: " + *error;
    return false;
  }
  if (!impl_->server.bind_to_port(host, port)) {
    *error = "cannot listen on " + listen;
    return false;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return true;
}

}  // namespace sw::metrics
