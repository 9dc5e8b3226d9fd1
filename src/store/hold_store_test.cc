#include "base/temp_dir.h"
#include "store/hold_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace sw::store {
namespace {

const detect::ActorRef kUser{detect::ActorType::LocalUser, "userx1"};

TEST(HoldStore, HoldsSurviveReopenAndReleaseEndsThem) {
  TempDir d;
  std::string error;
  {
    auto s = HoldStore::open(store_path(d.path), &error);
    ASSERT_TRUE(s) << error;
    EXPECT_TRUE(s->add_hold(HoldRecord{.actor = kUser,
                                       .reason = "21 messages in 10s",
                                       .related_user = "",
                                       .incident = "",
                                       .since = 100,
                                       .frozen = 0,
                                       .active = true,
                                       .released_at = 0,
                                       .release_note = ""},
                            &error));
    EXPECT_FALSE(s->add_hold(HoldRecord{.actor = kUser,
                                        .reason = "again",
                                        .related_user = "",
                                        .incident = "",
                                        .since = 101,
                                        .frozen = 0,
                                        .active = true,
                                        .released_at = 0,
                                        .release_note = ""},
                             &error));  // one active hold per actor
    EXPECT_TRUE(s->set_frozen(kUser, 7, &error));
  }
  auto s = HoldStore::open(store_path(d.path), &error);
  ASSERT_TRUE(s) << error;
  auto holds = s->active_holds(&error);
  ASSERT_TRUE(holds);
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].reason, "21 messages in 10s");
  EXPECT_EQ((*holds)[0].frozen, 7);
  EXPECT_TRUE(s->release(kUser, 200, "thaw", &error));
  EXPECT_FALSE(s->release(kUser, 201, "thaw", &error));
  EXPECT_TRUE(s->active_holds(&error)->empty());
  // Held again later: a new active row.
  EXPECT_TRUE(s->add_hold(HoldRecord{.actor = kUser,
                                     .reason = "again",
                                     .related_user = "",
                                     .incident = "",
                                     .since = 300,
                                     .frozen = 0,
                                     .active = true,
                                     .released_at = 0,
                                     .release_note = ""},
                          &error));
}

TEST(HoldStore, EventsComeBackNewestFirst) {
  TempDir d;
  std::string error;
  auto s = HoldStore::open(store_path(d.path), &error);
  ASSERT_TRUE(s);
  s->add_event(EventRecord{1, "hold", "local_user:a", "x"}, &error);
  s->add_event(EventRecord{2, "release", "local_user:a", "y"}, &error);
  auto events = s->recent_events(10, &error);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, "release");
}

TEST(HoldStore, UnwritableLocationIsAnErrorNotACrash) {
  std::string error;
  EXPECT_FALSE(HoldStore::open("/nonexistent-dir/x/spamwarden.db", &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

}  // namespace
}  // namespace sw::store
