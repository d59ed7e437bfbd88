// The upstreams file as the server runs it: a Router built from it, and kept fresh: looked at
// no more than once a second, rebuilt when the file is replaced, and a change that does not
// parse (or a file gone for a while) leaving the running Router in place, the refusal counted
// and logged as one JSON line of the server log.
#include "service/server/upstreams.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/observability/server_log.h"
#include "tests/testing/captured_lines.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::claude::testing::JsonField;
using ::claude::testing::ParsedLogLine;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// An upstreams file with `names` as messages upstreams, all serving one route.
std::string UpstreamsFile(const std::vector<std::string>& names) {
  std::string text = "upstreams:\n";
  for (const std::string& name : names) {
    absl::StrAppend(&text, "  - name: ", name,
                    "\n    dialect: messages\n    base_url: http://127.0.0.1:1\n");
  }
  absl::StrAppend(&text, "routes:\n  - model: claude-sonnet-4-5\n    upstreams:\n");
  for (const std::string& name : names) absl::StrAppend(&text, "      - {upstream: ", name, "}\n");
  return text;
}

std::vector<std::string> NamesOf(const Router& router) {
  std::vector<std::string> names;
  for (size_t i = 0; i < router.size(); ++i) names.push_back(router.name(i));
  return names;
}

class UpstreamsFileRoutersTest : public ::testing::Test {
 protected:
  void SetUp() override { SetServerLogSinkForTesting(log_); }
  void TearDown() override { SetServerLogSinkForTesting(nullptr); }
  std::unique_ptr<UpstreamsFileRouters> Loaded(const std::string& text) {
    EXPECT_TRUE(dir_.Replace("upstreams.yaml", text));
    absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> routers =
        UpstreamsFileRouters::Load(path_, {});
    EXPECT_TRUE(routers.ok()) << routers.status();
    return routers.ok() ? *std::move(routers) : nullptr;
  }

  const testing::ScratchDirectory dir_;
  const std::string path_ = dir_.File("upstreams.yaml");
  std::shared_ptr<testing::CapturedLines> log_ = std::make_shared<testing::CapturedLines>();
};

TEST_F(UpstreamsFileRoutersTest, LoadBuildsTheRouterOfTheFile) {
  std::unique_ptr<UpstreamsFileRouters> routers = Loaded(UpstreamsFile({"primary", "backup"}));
  ASSERT_NE(routers, nullptr);
  std::shared_ptr<const Router> router = routers->Current(absl::Now());
  ASSERT_NE(router, nullptr);
  EXPECT_THAT(NamesOf(*router), ElementsAre("primary", "backup"));
  ASSERT_THAT(router->routes().routes(), SizeIs(1));
  EXPECT_EQ(router->routes().routes()[0].model, "claude-sonnet-4-5");
  EXPECT_EQ(routers->reload_failures(), 0);
}

TEST_F(UpstreamsFileRoutersTest, LoadRefusesAMissingOrBrokenFileNamingIt) {
  absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> missing =
      UpstreamsFileRouters::Load(path_, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(path_));
  ASSERT_TRUE(
      dir_.Replace("upstreams.yaml", "upstreams:\n  - name: primary\n    dialect: nonsense\n"));
  absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> broken =
      UpstreamsFileRouters::Load(path_, {});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(broken.status().message()), StartsWith(path_ + ":"));
}

TEST_F(UpstreamsFileRoutersTest, AReplacedFileIsSeenAtMostOnceASecond) {
  std::unique_ptr<UpstreamsFileRouters> routers = Loaded(UpstreamsFile({"primary"}));
  ASSERT_NE(routers, nullptr);
  const absl::Time t = absl::Now();
  const std::shared_ptr<const Router> first = routers->Current(t);
  ASSERT_TRUE(dir_.Replace("upstreams.yaml", UpstreamsFile({"primary", "backup"})));
  EXPECT_EQ(routers->Current(t + absl::Milliseconds(500)), first) << "looked at a second ago";
  const std::shared_ptr<const Router> second = routers->Current(t + absl::Seconds(2));
  ASSERT_NE(second, first);
  EXPECT_THAT(NamesOf(*second), ElementsAre("primary", "backup"));
  EXPECT_EQ(routers->Current(t + absl::Seconds(4)), second) << "unchanged: the same Router";
  EXPECT_THAT(NamesOf(*first), ElementsAre("primary")) << "calls holding the old one keep it";
  ASSERT_THAT(log_->lines(), SizeIs(1));
  EXPECT_THAT(log_->lines()[0], HasSubstr("\"event\":\"config_reloaded\""));
}

TEST_F(UpstreamsFileRoutersTest, ABrokenChangeKeepsTheRunningRouterAndIsCountedAndLogged) {
  std::unique_ptr<UpstreamsFileRouters> routers = Loaded(UpstreamsFile({"primary"}));
  ASSERT_NE(routers, nullptr);
  const absl::Time t = absl::Now();
  const std::shared_ptr<const Router> running = routers->Current(t);
  ASSERT_TRUE(dir_.Replace("upstreams.yaml", "upstreams: [not, a, list, of, upstreams\n"));
  EXPECT_EQ(routers->Current(t + absl::Seconds(2)), running);
  EXPECT_EQ(routers->reload_failures(), 1);
  EXPECT_EQ(routers->Current(t + absl::Seconds(4)), running);
  EXPECT_EQ(routers->reload_failures(), 1) << "the same broken version is refused once";

  const std::vector<std::string> lines = log_->lines();
  ASSERT_THAT(lines, SizeIs(1));
  const google::protobuf::Struct line = ParsedLogLine(lines[0]);
  EXPECT_EQ(JsonField(line, "severity").string_value(), "ERROR");
  EXPECT_EQ(JsonField(line, "event").string_value(), "config_reload_failed");
  EXPECT_EQ(JsonField(line, "file").string_value(), path_);
  EXPECT_THAT(JsonField(line, "message").string_value(),
              HasSubstr("the running upstreams stay in force"));
}

TEST_F(UpstreamsFileRoutersTest, AFileGoneForAWhileKeepsTheRunningRouter) {
  std::unique_ptr<UpstreamsFileRouters> routers = Loaded(UpstreamsFile({"primary"}));
  ASSERT_NE(routers, nullptr);
  const absl::Time t = absl::Now();
  const std::shared_ptr<const Router> running = routers->Current(t);
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  EXPECT_EQ(routers->Current(t + absl::Seconds(2)), running);
  EXPECT_EQ(routers->reload_failures(), 0) << "a file being replaced is not a refusal";
  EXPECT_THAT(log_->lines(), IsEmpty());
}

TEST(BuildRouterTest, OneRoutedUpstreamPerUpstreamInFileOrder) {
  absl::StatusOr<UpstreamsConfig> config =
      ParseUpstreamsFile(UpstreamsFile({"a", "b", "c"}), "up.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::unique_ptr<Router>> router = BuildRouter(*config, {});
  ASSERT_TRUE(router.ok()) << router.status();
  EXPECT_THAT(NamesOf(**router), ElementsAre("a", "b", "c"));
}

}  // namespace
}  // namespace claude
