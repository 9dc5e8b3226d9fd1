#include "detect/limits.h"

namespace sw::detect {

DetectorLimits default_limits() {
  DetectorLimits d;
  // Messages/recipients per scale. Scripts and local users send one message per sendmail
  // run; SMTP clients may send one message to many recipients, so recipients matter there.
  ActorLimits submitters{.scales = {{10, 20, 100}, {60, 60, 300}, {600, 200, 1000}, {3600, 500, 2500},
                                    {86400, 3000, 15000}},
                         .domains_per_hour = 300};
  for (ActorType t : kAllActorTypes) d.by_type[size_t(t)] = submitters;
  // A sender address may be shared by many legitimate mailboxes' clients (noreply@shop):
  // it gets more headroom than one script or one account.
  d.by_type[size_t(ActorType::Sender)] = ActorLimits{
      .scales = {{10, 40, 200}, {60, 120, 600}, {600, 400, 2000}, {3600, 1000, 5000}, {86400, 6000, 30000}},
      .domains_per_hour = 600};
  return d;
}

const ActorLimits& limits_for(const DetectorLimits& limits, ActorType type, const std::string& key) {
  auto it = limits.per_actor.find({type, key});
  return it != limits.per_actor.end() ? it->second : limits.by_type[size_t(type)];
}

}  // namespace sw::detect
