// libFuzzer: `logs --actor` reads main logs that carry what remote clients and local users
// chose to send (addresses, subjects, HELO names). The first byte picks the actor and how
// small the blocks are; the rest is the log. Kept lines must lie inside their block, and the
// story must not depend on where the blocks were cut (the pipeline cuts them anywhere between
// lines).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stats/actor_story.h"

namespace {

using namespace sw::stats;

struct Told {
  ActorStory story;
  std::vector<std::string> lines;
};

Told tell(std::string_view log, const sw::detect::ActorRef& actor, size_t lines_per_block) {
  Told out;
  StoryPrefilter prefilter(actor);
  StoryBuilder builder(actor, INT64_MIN, INT64_MAX, [&](std::string_view l) { out.lines.emplace_back(l); });
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = pos;
    for (size_t n = 0; n < lines_per_block && end < log.size(); ++n) {
      size_t nl = log.find('\n', end);
      end = nl == std::string_view::npos ? log.size() : nl + 1;
    }
    std::string_view block = log.substr(pos, end - pos);
    PrefilteredBlock kept;
    prefilter.run(block, kept);
    for (const auto& line : kept.lines) {
      if (size_t(line.offset) + line.length > block.size()) __builtin_trap();
      bool has_facts = line.flags & (PrefilteredBlock::Line::kCwd | PrefilteredBlock::Line::kLocalArrival);
      if (has_facts && line.facts >= kept.facts.size()) __builtin_trap();
    }
    builder.add(block, kept);
    pos = end;
  }
  out.story = builder.story();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kActors[] = {"auth:a@b.example", "script:/home/u/public_html", "ip:192.0.2.1",
                                        "sender:a@b.example", "user:u"};
  auto actor = sw::detect::parse_actor_ref(kActors[data[0] % 5]);
  if (!actor) __builtin_trap();
  std::string_view log(reinterpret_cast<const char*>(data) + 1, size - 1);
  Told whole = tell(log, *actor, SIZE_MAX);
  Told cut = tell(log, *actor, 1 + data[0] / 5 % 4);
  if (cut.lines != whole.lines || cut.story.message_ids != whole.story.message_ids ||
      cut.story.messages != whole.story.messages || cut.story.delivered != whole.story.delivered ||
      cut.story.bounces_generated != whole.story.bounces_generated)
    __builtin_trap();
  StoryResult result;
  result.story = whole.story;
  (void)story_json(result);
  (void)story_text(result);
  return 0;
}
