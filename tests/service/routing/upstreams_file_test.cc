#include "service/routing/upstreams_file.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kFull[] = R"(# every dialect and auth type
upstreams:
  - name: bedrock-east
    dialect: bedrock
    region: us-east-1
    auth: {type: aws_sigv4, access_key_id_file: /s/id, secret_access_key_file: /s/secret, session_token_file: /s/token}
    connect_timeout: 5s
    timeout: 10m
    max_connections: 100
    models:
      claude-sonnet-4-5: "anthropic.claude-sonnet-4-5-20250929-v1:0"
  - name: vertex-us
    dialect: vertex
    project: my-project
    region: us-east5
    auth: {type: google_token, token_file: /var/run/google/token}
  - name: anthropic
    dialect: messages
    base_url: https://api.anthropic.com/
    auth:
      type: x-api-key
      key_files: [/s/key-a, /s/key-b]
  - name: gateway
    dialect: chat_completions
    base_url: http://127.0.0.1:8080/v1
    auth: {type: bearer, key_files: [/s/gw]}
routes:
  - model: claude-sonnet-4-5
    upstreams:
      - {upstream: bedrock-east, rank: 1, weight: 3}
      - {upstream: vertex-us, rank: 1, weight: 1}
      - anthropic
  - model: "claude-*"
    upstreams: [anthropic, gateway]
)";

TEST(UpstreamsFileTest, ParsesEveryDialectAndAuthType) {
  absl::StatusOr<UpstreamsConfig> config = ParseUpstreamsFile(kFull, "up.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->upstreams.size(), 4u);

  const UpstreamConfig& bedrock = config->upstreams[0];
  EXPECT_EQ(bedrock.name, "bedrock-east");
  EXPECT_EQ(bedrock.dialect, "bedrock");
  EXPECT_EQ(bedrock.base_url, "");  // the region's public endpoint
  EXPECT_EQ(bedrock.auth, UpstreamAuthType::kAwsSigV4);
  EXPECT_EQ(bedrock.aws.access_key_id_file, "/s/id");
  EXPECT_EQ(bedrock.aws.session_token_file, "/s/token");
  EXPECT_EQ(bedrock.connect_timeout, absl::Seconds(5));
  EXPECT_EQ(bedrock.timeout, absl::Minutes(10));
  EXPECT_EQ(bedrock.max_connections, 100);
  EXPECT_EQ(bedrock.UpstreamModel("claude-sonnet-4-5"), "anthropic.claude-sonnet-4-5-20250929-v1:0");
  EXPECT_EQ(bedrock.UpstreamModel("claude-haiku-4-5"), "claude-haiku-4-5");
  EXPECT_EQ(bedrock.line, 3);

  const UpstreamConfig& vertex = config->upstreams[1];
  EXPECT_EQ(vertex.base_url, "");
  EXPECT_EQ(vertex.project, "my-project");
  EXPECT_EQ(vertex.auth, UpstreamAuthType::kGoogleToken);
  EXPECT_EQ(vertex.token_file, "/var/run/google/token");

  const UpstreamConfig& anthropic = config->upstreams[2];
  EXPECT_EQ(anthropic.base_url, "https://api.anthropic.com");  // trailing '/' dropped
  EXPECT_EQ(anthropic.auth, UpstreamAuthType::kXApiKey);
  EXPECT_THAT(anthropic.key_files, ElementsAre("/s/key-a", "/s/key-b"));
  EXPECT_EQ(config->upstreams[3].auth, UpstreamAuthType::kBearer);

  ASSERT_EQ(config->routes.size(), 2u);
  const RouteConfig& route = config->routes[0];
  EXPECT_EQ(route.model, "claude-sonnet-4-5");
  ASSERT_EQ(route.targets.size(), 3u);
  EXPECT_EQ(route.targets[0].upstream, 0u);
  EXPECT_EQ(route.targets[0].rank, 1);
  EXPECT_EQ(route.targets[0].weight, 3);
  EXPECT_EQ(route.targets[1].upstream, 1u);
  EXPECT_EQ(route.targets[1].rank, 1);
  EXPECT_EQ(route.targets[2].upstream, 2u);
  EXPECT_EQ(route.targets[2].rank, 2);  // a name alone: the next rank
  EXPECT_EQ(route.targets[2].weight, 1);
  EXPECT_EQ(config->routes[1].targets[0].rank, 1);
  EXPECT_EQ(config->routes[1].targets[1].rank, 2);
}

// Message Batches go to one messages upstream: the first by default, or the one named.
TEST(UpstreamsFileTest, BatchesGoToAMessagesUpstream) {
  absl::StatusOr<UpstreamsConfig> config = ParseUpstreamsFile(kFull, "up.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->batches, std::optional<size_t>(2)) << "the first messages upstream: anthropic";

  const std::string two = absl::StrReplaceAll(
      kFull, {{"  - name: gateway\n",
               "  - name: anthropic-eu\n    dialect: messages\n    base_url: http://eu\n"
               "  - name: gateway\n"},
              {"routes:\n", "batches: anthropic-eu\nroutes:\n"}});
  config = ParseUpstreamsFile(two, "up.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->upstreams.size(), 5u);
  EXPECT_EQ(config->batches, std::optional<size_t>(3));

  config = ParseUpstreamsFile(
      "upstreams:\n  - {name: gw, dialect: chat_completions, base_url: http://gw}\n"
      "routes:\n  - {model: \"*\", upstreams: [gw]}\n",
      "up.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->batches, std::nullopt) << "no messages upstream: batches are unimplemented";
}

struct BadCase {
  std::string name;
  std::string from;  // replaced in kFull...
  std::string to;    // ...by this
  std::string expected;  // the error message holds this
};

class UpstreamsFileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(UpstreamsFileErrorTest, NamesTheLineAndTheKey) {
  const BadCase& c = GetParam();
  const std::string text = absl::StrReplaceAll(kFull, {{c.from, c.to}});
  ASSERT_NE(text, kFull) << "the case changes nothing";
  absl::StatusOr<UpstreamsConfig> config = ParseUpstreamsFile(text, "up.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UpstreamsFileErrorTest,
    ::testing::Values(
        BadCase{"UnknownTopLevelKey", "routes:\n", "rutes:\n",
                "up.yaml:27: (top level).rutes: unknown key"},
        BadCase{"UnknownUpstreamKey", "    max_connections: 100", "    max_conections: 100",
                "up.yaml:9: upstreams[0].max_conections: unknown key"},
        BadCase{"UnknownAuthKey", "token_file: /var", "tokenfile: /var",
                "up.yaml:16: upstreams[1].auth.tokenfile: unknown key"},
        BadCase{"UnknownDialect", "dialect: chat_completions", "dialect: openai",
                "up.yaml:24: upstreams[3].dialect: unknown dialect \"openai\""},
        BadCase{"UnknownAuthType", "type: bearer", "type: basic",
                "upstreams[3].auth.type: unknown auth type \"basic\""},
        BadCase{"AuthThatDoesNotFit", "type: google_token, token_file: /var/run/google/token",
                "type: x-api-key, key_files: [/k]",
                "upstreams[1].auth.type: does not fit dialect vertex"},
        BadCase{"MissingProject", "    project: my-project\n", "",
                "up.yaml:12: upstreams[1].project: missing"},
        BadCase{"MissingRegion", "    region: us-east-1\n", "", "upstreams[0].region: missing"},
        BadCase{"MissingBaseUrl", "    base_url: https://api.anthropic.com/\n", "",
                "upstreams[2].base_url: missing"},
        BadCase{"BadUrl", "http://127.0.0.1:8080/v1", "ftp://x",
                "up.yaml:25: upstreams[3].base_url: must start"},
        BadCase{"UrlWithUser", "http://127.0.0.1:8080/v1", "http://u:p@host",
                "upstreams[3].base_url: must be"},
        BadCase{"BadDuration", "connect_timeout: 5s", "connect_timeout: five",
                "up.yaml:7: upstreams[0].connect_timeout"},
        BadCase{"NegativeDuration", "timeout: 10m", "timeout: -1s",
                "upstreams[0].timeout: must be positive"},
        BadCase{"BadInteger", "max_connections: 100", "max_connections: lots",
                "upstreams[0].max_connections: expected an integer"},
        BadCase{"EmptyKeyFiles", "key_files: [/s/gw]", "key_files: []",
                "upstreams[3].auth.key_files: must not be empty"},
        BadCase{"DuplicateUpstream", "name: gateway", "name: anthropic",
                "up.yaml:23: upstreams[3].name: upstream \"anthropic\" defined twice"},
        BadCase{"BadName", "name: gateway", "name: \"gate way\"", "upstreams[3].name: names are"},
        BadCase{"UnknownUpstreamInRoute", "upstreams: [anthropic, gateway]",
                "upstreams: [anthropic, nowhere]",
                "up.yaml:34: routes[1].upstreams[1]: unknown upstream \"nowhere\""},
        BadCase{"UpstreamTwiceInRoute", "upstreams: [anthropic, gateway]",
                "upstreams: [anthropic, anthropic]",
                "routes[1].upstreams[1]: upstream \"anthropic\" listed twice"},
        BadCase{"DecreasingRank", "{upstream: vertex-us, rank: 1, weight: 1}\n      - anthropic",
                "{upstream: vertex-us, rank: 2, weight: 1}\n      - {upstream: anthropic, rank: 1}",
                "up.yaml:32: routes[0].upstreams[2].rank: ranks never decrease"},
        BadCase{"ZeroWeight", "rank: 1, weight: 3", "rank: 1, weight: 0",
                "routes[0].upstreams[0].weight: must be between 1 and"},
        BadCase{"StarInside", "model: \"claude-*\"", "model: \"cl*ude\"",
                "routes[1].model: \"*\" may only end"},
        BadCase{"DuplicateRoute", "model: \"claude-*\"", "model: claude-sonnet-4-5",
                "routes[1].model: a route for"},
        BadCase{"EmptyRouteList", "upstreams: [anthropic, gateway]", "upstreams: []",
                "routes[1].upstreams: must not be empty"},
        BadCase{"ControlCharacter", "token_file: /var/run/google/token",
                "token_file: \"/var/\\x01\"",
                "upstreams[1].auth.token_file: holds control characters"},
        BadCase{"HalfAwsFiles", "secret_access_key_file: /s/secret, ", "",
                "upstreams[0].auth: access_key_id_file and secret_access_key_file go together"},
        BadCase{"ModelTwice", "      claude-sonnet-4-5: \"anthropic",
                "      claude-x: a\n      claude-x: b\n      claude-sonnet-4-5: \"anthropic",
                "upstreams[0].models.claude-x: listed twice"},
        BadCase{"BatchesOnAnUnknownUpstream", "routes:\n", "batches: nowhere\nroutes:\n",
                "up.yaml:27: batches: unknown upstream \"nowhere\""},
        BadCase{"BatchesOnAnotherDialect", "routes:\n", "batches: vertex-us\nroutes:\n",
                "up.yaml:27: batches: upstream \"vertex-us\" has dialect vertex; Message Batches "
                "are a Messages "
                "API feature: name a messages upstream"},
        BadCase{"YamlSyntax", "  - model: claude-sonnet-4-5\n", "  - model: [claude\n",
                "up.yaml:"}),
    [](const ::testing::TestParamInfo<BadCase>& param) { return param.param.name; });

TEST(UpstreamsFileTest, RefusesNonMappingsAndEmptyFiles) {
  for (const char* text : {"", "[1, 2]", "just text", "upstreams: {}\nroutes: []"}) {
    absl::StatusOr<UpstreamsConfig> config = ParseUpstreamsFile(text, "f.yaml");
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(config.status().message()), ::testing::StartsWith("f.yaml:")) << text;
  }
}

TEST(UpstreamsFileTest, RefusesAnOversizedFile) {
  const std::string text = absl::StrCat(kFull, "# ", std::string(1 << 20, 'x'), "\n");
  EXPECT_THAT(std::string(ParseUpstreamsFile(text, "f.yaml").status().message()), HasSubstr("larger than"));
}

TEST(UpstreamsFileTest, LoadsAFileAndNamesAMissingOne) {
  const ::claude::testing::ScratchFile file;
  file.Write(kFull);
  absl::StatusOr<UpstreamsConfig> config = LoadUpstreamsFile(file.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->upstreams.size(), 4u);
  file.Remove();
  EXPECT_THAT(std::string(LoadUpstreamsFile(file.path()).status().message()),
              HasSubstr(file.path() + ": cannot read"));
}

// The file deploy/components/upstreams ships (and README.md shows) is one the server takes.
TEST(UpstreamsFileTest, TheShippedDeployFileParses) {
  const std::string path =
      std::string(CLAUDE_SOURCE_DIR) + "/deploy/components/upstreams/upstreams.yaml";
  absl::StatusOr<UpstreamsConfig> config = LoadUpstreamsFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->upstreams.size(), 3u);
  EXPECT_EQ(config->upstreams[0].dialect, "messages");  // the Anthropic API first
  EXPECT_EQ(config->upstreams[1].dialect, "bedrock");
  EXPECT_EQ(config->upstreams[2].dialect, "vertex");
  ASSERT_FALSE(config->routes.empty());
  EXPECT_EQ(config->routes[0].targets.front().upstream, 0u);
}

}  // namespace
}  // namespace claude
