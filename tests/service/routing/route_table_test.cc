#include "service/routing/route_table.h"

#include <map>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

using ::testing::ElementsAre;

RouteConfig Route(std::string model, std::vector<RouteTarget> targets) {
  RouteConfig route;
  route.model = std::move(model);
  route.targets = std::move(targets);
  return route;
}

RouteTable Table() {
  return RouteTable({Route("claude-sonnet-4-5", {{0, 1, 1}}), Route("claude-*", {{1, 1, 1}}),
                     Route("claude-opus-*", {{2, 1, 1}, {0, 2, 1}}), Route("*", {{3, 1, 1}})});
}

TEST(RouteTableTest, ExactBeatsPrefixAndTheLongestPrefixWins) {
  const RouteTable table = Table();
  EXPECT_EQ((*table.Find("claude-sonnet-4-5"))->model, "claude-sonnet-4-5");
  EXPECT_EQ((*table.Find("claude-sonnet-4-5-20250929"))->model, "claude-*");
  EXPECT_EQ((*table.Find("claude-opus-4-1"))->model, "claude-opus-*");
  EXPECT_EQ((*table.Find("gpt"))->model, "*");
  EXPECT_EQ((*table.Find(""))->model, "*");
}

TEST(RouteTableTest, AModelNoRouteMatchesIsNotFoundNamingIt) {
  const RouteTable table({Route("claude-*", {{0, 1, 1}})});
  absl::StatusOr<const RouteConfig*> route = table.Find("gpt-4o");
  EXPECT_EQ(route.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(route.status().message()), ::testing::HasSubstr("\"gpt-4o\""));
}

TEST(RouteTableTest, ModelsOfListsExactRoutesOfOneUpstream) {
  const RouteTable table = Table();
  EXPECT_THAT(table.ModelsOf(0), ElementsAre("claude-sonnet-4-5"));
  EXPECT_TRUE(table.ModelsOf(3).empty());  // only a prefix route
}

TEST(AttemptOrderTest, RanksComeInOrder) {
  const RouteConfig route = Route("m", {{4, 1, 1}, {2, 2, 1}, {7, 3, 1}});
  EXPECT_THAT(AttemptOrder(route, [] { return 0.0; }), ElementsAre(4, 2, 7));
  EXPECT_THAT(AttemptOrder(route, [] { return 0.999; }), ElementsAre(4, 2, 7));
}

TEST(AttemptOrderTest, TheFirstRankIsDrawnByWeight) {
  // Weights 3 and 1: draws below 0.75 pick upstream 0 first, the rest upstream 1.
  const RouteConfig route = Route("m", {{0, 1, 3}, {1, 1, 1}, {2, 2, 1}});
  EXPECT_THAT(AttemptOrder(route, [] { return 0.0; }), ElementsAre(0, 1, 2));
  EXPECT_THAT(AttemptOrder(route, [] { return 0.74; }), ElementsAre(0, 1, 2));
  EXPECT_THAT(AttemptOrder(route, [] { return 0.76; }), ElementsAre(1, 0, 2));
  EXPECT_THAT(AttemptOrder(route, [] { return 0.9999999; }), ElementsAre(1, 0, 2));
}

TEST(AttemptOrderTest, SpreadsFirstAttemptsInProportionToWeights) {
  const RouteConfig route = Route("m", {{0, 1, 3}, {1, 1, 1}});
  std::map<size_t, int> first;
  const int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = (i + 0.5) / kDraws;  // an even sweep of [0, 1)
    ++first[AttemptOrder(route, [u] { return u; })[0]];
  }
  EXPECT_EQ(first[0], 3000);
  EXPECT_EQ(first[1], 1000);
}

}  // namespace
}  // namespace claude
