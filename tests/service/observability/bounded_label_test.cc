// Label values that callers control, bounded: a value seen before is itself, a new one is itself
// while there is room, and every other one is "other", from any number of threads at once.
#include "service/observability/bounded_label.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace claude {
namespace {

using ::testing::ElementsAre;

TEST(BoundedLabelTest, KnownValuesStayAndNewOnesBeyondTheBoundAreOther) {
  BoundedLabel label(2);
  EXPECT_EQ(label.Get("claude-sonnet-4-5"), "claude-sonnet-4-5");
  EXPECT_EQ(label.Get("claude-haiku-4-5"), "claude-haiku-4-5");
  EXPECT_EQ(label.Get("attacker-chosen-1"), "other");
  EXPECT_EQ(label.Get("attacker-chosen-2"), "other");
  EXPECT_EQ(label.Get("claude-sonnet-4-5"), "claude-sonnet-4-5") << "seen before the bound";
  EXPECT_EQ(label.Get("claude-haiku-4-5"), "claude-haiku-4-5");
  EXPECT_THAT((std::vector<std::string>{label.Get(""), BoundedLabel(0).Get("x")}),
              ElementsAre("other", "other"));
}

TEST(BoundedLabelTest, ManyThreadsAtOnceNeverPassTheBound) {
  constexpr size_t kBound = 10;
  BoundedLabel label(kBound);
  std::vector<std::set<std::string>> seen(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&label, &seen, t] {
      for (int i = 0; i < 200; ++i)
        seen[t].insert(label.Get(absl::StrCat("model-", (i * 7 + t) % 50)));
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> all;
  for (const std::set<std::string>& values : seen) all.insert(values.begin(), values.end());
  all.erase("other");
  EXPECT_EQ(all.size(), kBound)
      << "exactly the first ten distinct values, whichever thread saw them";
  for (const std::string& value : all) EXPECT_EQ(label.Get(value), value) << "kept for good";
}

}  // namespace
}  // namespace claude
