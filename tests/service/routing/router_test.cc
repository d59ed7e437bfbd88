#include "service/routing/router.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/mock_dialect.h"

namespace claude {
namespace {

using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1000000);

struct Fixture {
  std::shared_ptr<testing::MockDialect> a = std::make_shared<testing::MockDialect>();
  std::shared_ptr<testing::MockDialect> b = std::make_shared<testing::MockDialect>();
  std::shared_ptr<testing::MockDialect> c = std::make_shared<testing::MockDialect>();
  double draw = 0.0;
  std::unique_ptr<Router> router;

  Fixture() {
    RouteConfig weighted;
    weighted.model = "claude-sonnet-4-5";
    weighted.targets = {{0, 1, 3}, {1, 1, 1}, {2, 2, 1}};
    RouteConfig fallback;
    fallback.model = "claude-*";
    fallback.targets = {{2, 1, 1}, {0, 2, 1}};
    EjectionPolicy ejection;
    ejection.consecutive_failures = 1;
    router = std::make_unique<Router>(
        std::vector<RoutedUpstream>{{"a", a, absl::ZeroDuration(), {}},
                                    {"b", b, absl::Seconds(30), {}},
                                    {"c", c, absl::ZeroDuration(), {}}},
        std::vector<RouteConfig>{weighted, fallback}, ejection, [this] { return draw; });
  }

  // The upstream names of a plan, with every dialect building a request.
  std::vector<std::string> Names(absl::string_view model, const Dialect* refusing = nullptr) {
    absl::StatusOr<std::vector<UpstreamTarget>> plan =
        router->Plan(model, kNow, [&](const Dialect& d) -> absl::StatusOr<HttpRequest> {
          if (&d == refusing) return absl::UnimplementedError("not here");
          return HttpRequest{};
        });
    std::vector<std::string> names;
    if (!plan.ok()) return {std::string(plan.status().message())};
    for (const UpstreamTarget& t : *plan) names.push_back(t.upstream);
    return names;
  }
};

TEST(RouterTest, PlansTheRoutesUpstreamsInAttemptOrder) {
  Fixture f;
  f.draw = 0.0;
  EXPECT_THAT(f.Names("claude-sonnet-4-5"), ElementsAre("a", "b", "c"));
  f.draw = 0.9;  // past a's 3/4 of the first rank
  EXPECT_THAT(f.Names("claude-sonnet-4-5"), ElementsAre("b", "a", "c"));
  EXPECT_THAT(f.Names("claude-haiku-4-5"), ElementsAre("c", "a"));
}

TEST(RouterTest, TargetsCarryTheirDialectHealthAndTimeout) {
  Fixture f;
  f.draw = 0.9;
  absl::StatusOr<std::vector<UpstreamTarget>> plan =
      f.router->Plan("claude-sonnet-4-5", kNow, [](const Dialect&) { return HttpRequest{}; });
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ((*plan)[0].dialect, f.b.get());
  EXPECT_EQ((*plan)[0].health, &f.router->health(1));
  EXPECT_EQ((*plan)[0].request.timeout, absl::Seconds(30));
  EXPECT_EQ((*plan)[1].request.timeout, absl::InfiniteDuration());
}

TEST(RouterTest, RequestsCarryTheirUpstreamsConnectTimeoutAndConnectionLimit) {
  auto dialect = std::make_shared<testing::MockDialect>();
  RoutedUpstream limited{"limited", dialect, absl::ZeroDuration(), {}};
  limited.connect_timeout = absl::Milliseconds(250);
  limited.max_connections = 4;
  Router router({limited, {"free", dialect, absl::ZeroDuration(), {}}},
                {RouteConfig{"*", {{0, 1, 1}, {1, 2, 1}}, 0}});
  absl::StatusOr<std::vector<UpstreamTarget>> plan =
      router.Plan("m", kNow, [](const Dialect&) { return HttpRequest{}; });
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].request.connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ((*plan)[0].request.connection_pool, "limited");
  EXPECT_EQ((*plan)[0].request.max_connections, 4);
  EXPECT_EQ((*plan)[1].request.connect_timeout, absl::ZeroDuration());  // the transport's
  EXPECT_EQ((*plan)[1].request.max_connections, 0);
}

// Batch RPCs ignore the routes: one target, the batches upstream, even when it is ejected.
TEST(RouterTest, BatchesGoToTheBatchesUpstreamAlone) {
  Fixture f;
  const auto build = [](const Dialect&) { return HttpRequest{}; };
  absl::StatusOr<std::vector<UpstreamTarget>> plan = f.router->PlanBatches(build);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kUnimplemented)
      << "the fixture names no batches upstream";
  EXPECT_THAT(std::string(plan.status().message()), ::testing::HasSubstr("Messages API feature"));

  Router router(
      std::vector<RoutedUpstream>{{"a", f.a, absl::ZeroDuration(), {}},
                                  {"b", f.b, absl::Seconds(30), {}}},
      {}, EjectionPolicy{}, [] { return 0.0; }, /*batches=*/1);
  for (int i = 0; i < 10; ++i) router.health(1).OnFailure(kNow);  // ejected
  plan = router.PlanBatches(build);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0].upstream, "b");
  EXPECT_EQ((*plan)[0].dialect, f.b.get());
  EXPECT_EQ((*plan)[0].request.timeout, absl::Seconds(30));
  // The dialect's own refusal comes back as is.
  plan = router.PlanBatches([](const Dialect&) -> absl::StatusOr<HttpRequest> {
    return absl::UnimplementedError("no batches here");
  });
  EXPECT_EQ(plan.status().message(), "no batches here");
}

TEST(RouterTest, AModelNoRouteMatchesIsNotFound) {
  Fixture f;
  absl::StatusOr<std::vector<UpstreamTarget>> plan =
      f.router->Plan("gpt-4o", kNow, [](const Dialect&) { return HttpRequest{}; });
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(plan.status().message()), ::testing::HasSubstr("\"gpt-4o\""));
}

TEST(RouterTest, UpstreamsThatRefuseTheRpcAreLeftOut) {
  Fixture f;
  EXPECT_THAT(f.Names("claude-sonnet-4-5", f.a.get()), ElementsAre("b", "c"));
  Router single({{"a", f.a, absl::ZeroDuration(), {}}}, {RouteConfig{"*", {{0, 1, 1}}, 0}});
  absl::StatusOr<std::vector<UpstreamTarget>> plan = single.Plan(
      "m", kNow, [](const Dialect&) -> absl::StatusOr<HttpRequest> { return absl::UnimplementedError("no"); });
  EXPECT_EQ(plan.status(), absl::UnimplementedError("no"));
}

TEST(RouterTest, AnEjectedUpstreamGoesBehindTheFirstThatAdmits) {
  Fixture f;
  f.router->health(0).OnFailure(kNow);  // one failure ejects, in this fixture
  EXPECT_THAT(f.Names("claude-sonnet-4-5"), ElementsAre("b", "a", "c"));
  f.router->health(1).BackOffUntil(kNow + absl::Seconds(5));
  EXPECT_THAT(f.Names("claude-sonnet-4-5"), ElementsAre("c", "a", "b"));
  f.router->health(2).OnFailure(kNow);
  // All unavailable: the plain order, rather than no attempt.
  EXPECT_THAT(f.Names("claude-sonnet-4-5"), ElementsAre("a", "b", "c"));
}

}  // namespace
}  // namespace claude
