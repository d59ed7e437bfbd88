// claude.v1.Models from the upstreams file's routes: the exact model names in file order (prefix
// routes and repeats left out), paged as the API pages them (after_id, before_id, limit with a
// default of 20), an unknown cursor refused naming its field, and GetModel's description.
#include "service/rpc/route_models.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "claude/v1/models.pb.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

RouteTable Routes(const std::vector<std::string>& models) {
  std::vector<RouteConfig> routes;
  for (const std::string& model : models) {
    RouteConfig route;
    route.model = model;
    route.targets = {{0, 1, 1}};
    routes.push_back(std::move(route));
  }
  return RouteTable(std::move(routes));
}

// One page: its ids, or the refusal.
struct Page {
  absl::Status status;
  std::vector<std::string> ids;
  bool has_more = false;
  std::string first_id;
  std::string last_id;
};

Page List(const RouteTable& routes, const v1::ListModelsRequest& request) {
  v1::ListModelsResponse response;
  Page page;
  page.status = ListRouteModels(routes, request, &response);
  for (const v1::ModelInfo& model : response.data()) page.ids.push_back(model.id());
  page.has_more = response.has_more();
  page.first_id = response.first_id();
  page.last_id = response.last_id();
  return page;
}

const RouteTable& FiveModels() {
  static const RouteTable* routes = new RouteTable(
      Routes({"model-a", "claude-*", "model-b", "model-c", "model-a", "*", "model-d", "model-e"}));
  return *routes;
}

TEST(RouteModelsTest, ListsExactRoutesInFileOrderOnce) {
  const Page page = List(FiveModels(), {});
  ASSERT_TRUE(page.status.ok()) << page.status;
  EXPECT_THAT(page.ids, ElementsAre("model-a", "model-b", "model-c", "model-d", "model-e"));
  EXPECT_FALSE(page.has_more);
  EXPECT_EQ(page.first_id, "model-a");
  EXPECT_EQ(page.last_id, "model-e");
}

TEST(RouteModelsTest, EachModelIsDescribedByItsName) {
  v1::ListModelsResponse response;
  ASSERT_TRUE(ListRouteModels(FiveModels(), {}, &response).ok());
  const v1::ModelInfo& first = response.data(0);
  EXPECT_EQ(first.id(), "model-a");
  EXPECT_EQ(first.type(), "model");
  EXPECT_EQ(first.display_name(), "model-a");
}

TEST(RouteModelsTest, TheDefaultPageIsTwenty) {
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) names.push_back(absl::StrCat("model-", 100 + i));
  const Page page = List(Routes(names), {});
  EXPECT_EQ(page.ids.size(), 20u);
  EXPECT_TRUE(page.has_more);
  EXPECT_EQ(page.last_id, "model-119");
}

TEST(RouteModelsTest, PagesForwardWithAfterId) {
  v1::ListModelsRequest request;
  request.set_limit(2);
  Page page = List(FiveModels(), request);
  EXPECT_THAT(page.ids, ElementsAre("model-a", "model-b"));
  EXPECT_TRUE(page.has_more);
  request.set_after_id(page.last_id);
  page = List(FiveModels(), request);
  EXPECT_THAT(page.ids, ElementsAre("model-c", "model-d"));
  EXPECT_TRUE(page.has_more);
  request.set_after_id(page.last_id);
  page = List(FiveModels(), request);
  EXPECT_THAT(page.ids, ElementsAre("model-e"));
  EXPECT_FALSE(page.has_more);
  request.set_after_id("model-e");
  page = List(FiveModels(), request);
  ASSERT_TRUE(page.status.ok()) << page.status;
  EXPECT_THAT(page.ids, IsEmpty());
  EXPECT_FALSE(page.has_more);
  EXPECT_EQ(page.first_id, "");
  EXPECT_EQ(page.last_id, "");
}

TEST(RouteModelsTest, PagesBackwardWithBeforeId) {
  v1::ListModelsRequest request;
  request.set_limit(2);
  request.set_before_id("model-e");
  Page page = List(FiveModels(), request);
  EXPECT_THAT(page.ids, ElementsAre("model-c", "model-d"));
  EXPECT_TRUE(page.has_more) << "model-a and model-b come before";
  request.set_before_id(page.first_id);
  page = List(FiveModels(), request);
  EXPECT_THAT(page.ids, ElementsAre("model-a", "model-b"));
  EXPECT_FALSE(page.has_more);
  request.set_before_id("model-a");
  EXPECT_THAT(List(FiveModels(), request).ids, IsEmpty());
}

TEST(RouteModelsTest, AnUnknownCursorIsRefusedNamingItsField) {
  for (const char* unknown : {"claude-*", "model-z", ""}) {
    v1::ListModelsRequest after;
    after.set_after_id(unknown);
    const Page refused_after = List(FiveModels(), after);
    EXPECT_EQ(refused_after.status.code(), absl::StatusCode::kInvalidArgument) << unknown;
    EXPECT_EQ(refused_after.status.message(),
              absl::StrCat("after_id: \"", unknown, "\" is not a model of the server's routes"));
    v1::ListModelsRequest before;
    before.set_before_id(unknown);
    EXPECT_EQ(List(FiveModels(), before).status.message(),
              absl::StrCat("before_id: \"", unknown, "\" is not a model of the server's routes"));
  }
}

TEST(RouteModelsTest, AnyLimitStaysWithinTheModels) {
  v1::ListModelsRequest request;
  for (int64_t limit : {int64_t{0}, int64_t{-5}, int64_t{1}}) {
    request.set_limit(limit);
    EXPECT_THAT(List(FiveModels(), request).ids, ElementsAre("model-a"))
        << "at least one: " << limit;
  }
  request.set_limit(std::numeric_limits<int64_t>::max());
  EXPECT_THAT(List(FiveModels(), request).ids,
              ElementsAreArray({"model-a", "model-b", "model-c", "model-d", "model-e"}));
  request.set_before_id("model-c");
  EXPECT_THAT(List(FiveModels(), request).ids, ElementsAre("model-a", "model-b"));
}

TEST(RouteModelsTest, OnlyPrefixRoutesListNothing) {
  const Page page = List(Routes({"claude-*", "*"}), {});
  ASSERT_TRUE(page.status.ok()) << page.status;
  EXPECT_THAT(page.ids, IsEmpty());
  EXPECT_FALSE(page.has_more);
}

TEST(RouteModelsTest, DescribesExactRoutesOnly) {
  v1::ModelInfo info;
  ASSERT_TRUE(DescribeRouteModel(FiveModels(), "model-c", &info));
  EXPECT_EQ(info.id(), "model-c");
  EXPECT_EQ(info.type(), "model");
  EXPECT_EQ(info.display_name(), "model-c");
  v1::ModelInfo none;
  EXPECT_FALSE(DescribeRouteModel(FiveModels(), "claude-sonnet-4-5", &none))
      << "only a prefix route matches it";
  EXPECT_FALSE(DescribeRouteModel(FiveModels(), "claude-*", &none)) << "a prefix is no model";
  EXPECT_FALSE(DescribeRouteModel(FiveModels(), "*", &none));
  EXPECT_EQ(none.id(), "");
}

}  // namespace
}  // namespace claude
