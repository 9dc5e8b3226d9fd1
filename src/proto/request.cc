#include "proto/request.h"

#include <array>

namespace sw::proto {

namespace {
constexpr std::array<const char*, kStages> kStageNames = {"connect", "helo",     "mail",         "rcpt",
                                                          "data",    "not_smtp", "unknown_rcpt", "other"};
constexpr std::array<const char*, kActions> kActionNames = {"dunno", "defer", "reject", "drop", "freeze", "delay"};
}  // namespace

const char* stage_name(Stage stage) { return kStageNames[size_t(stage)]; }

std::optional<Stage> parse_stage(std::string_view name) {
  for (size_t i = 0; i < kStages; ++i)
    if (name == kStageNames[i]) return Stage(i);
  return std::nullopt;
}

const char* action_name(Action action) { return kActionNames[size_t(action)]; }

void Request::clear() {
  stage = Stage::Connect;
  for (std::string* s :
       {&client_ip, &interface_ip, &helo, &sender, &recipient, &auth, &local_user, &uid, &script, &message_id})
    s->clear();
  recipients = 0;
  trusted_host = false;
  helo_is_local_domain = false;
}

void Decision::clear() {
  action = Action::Dunno;
  delay_seconds = 0;
  check.clear();
  actor.clear();
  detail.clear();
}

}  // namespace sw::proto
