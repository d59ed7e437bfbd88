#include "service/upstream/connection_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ConnectionSlotsTest, AdmitsUpToTheLimitThenQueuesInArrivalOrder) {
  ConnectionSlots slots;
  EXPECT_TRUE(slots.Acquire("a", 2, 1));
  EXPECT_TRUE(slots.Acquire("a", 2, 2));
  EXPECT_FALSE(slots.Acquire("a", 2, 3));
  EXPECT_FALSE(slots.Acquire("a", 2, 4));
  EXPECT_TRUE(slots.Acquire("b", 1, 5));  // another pool has its own slots
  EXPECT_EQ(slots.in_flight("a"), 2);
  EXPECT_EQ(slots.waiting("a"), 2u);
  EXPECT_THAT(slots.Release("a", 2), ElementsAre(3));
  EXPECT_THAT(slots.Release("a", 1), ElementsAre(4));
  EXPECT_THAT(slots.Release("a", 3), IsEmpty());
  EXPECT_THAT(slots.Release("a", 4), IsEmpty());
  EXPECT_EQ(slots.in_flight("a"), 0);
  EXPECT_EQ(slots.in_flight("b"), 1);
}

TEST(ConnectionSlotsTest, AWaiterThatGivesUpFreesNoSlot) {
  ConnectionSlots slots;
  EXPECT_TRUE(slots.Acquire("a", 1, 1));
  EXPECT_FALSE(slots.Acquire("a", 1, 2));
  EXPECT_FALSE(slots.Acquire("a", 1, 3));
  EXPECT_THAT(slots.Release("a", 2), IsEmpty());  // cancelled while waiting
  EXPECT_EQ(slots.in_flight("a"), 1);
  EXPECT_THAT(slots.Release("a", 1), ElementsAre(3));
}

TEST(ConnectionSlotsTest, ANewArrivalNeverOvertakesTheQueue) {
  ConnectionSlots slots;
  EXPECT_TRUE(slots.Acquire("a", 1, 1));
  EXPECT_FALSE(slots.Acquire("a", 1, 2));
  // A raised limit (a reloaded file) applies at once, but waiters go first.
  EXPECT_FALSE(slots.Acquire("a", 3, 3));
  EXPECT_THAT(slots.Release("a", 1), ElementsAre(2, 3));
  EXPECT_EQ(slots.in_flight("a"), 2);
}

TEST(ConnectionSlotsTest, ALoweredLimitDrainsTheExcessFirst) {
  ConnectionSlots slots;
  EXPECT_TRUE(slots.Acquire("a", 3, 1));
  EXPECT_TRUE(slots.Acquire("a", 3, 2));
  EXPECT_TRUE(slots.Acquire("a", 3, 3));
  EXPECT_FALSE(slots.Acquire("a", 1, 4));
  EXPECT_THAT(slots.Release("a", 1), IsEmpty());
  EXPECT_THAT(slots.Release("a", 2), IsEmpty());
  EXPECT_THAT(slots.Release("a", 3), ElementsAre(4));
}

}  // namespace
}  // namespace claude
