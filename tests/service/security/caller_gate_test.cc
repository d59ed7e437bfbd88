// The caller gate without a gRPC call: loading the callers file, finding callers with their
// limits, the status an authentication failure becomes, and usage counted per caller. Admission
// from a call's metadata is covered end to end (tests/integration/security_test.cc).
#include "service/security/caller_gate.h"

#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/security/token_digest.h"
#include "tests/testing/scratch_file.h"

namespace claude {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CallerGateTest : public ::testing::Test {
 protected:
  // A gate over a callers file of `text`, with server-wide defaults of 5 streams and 100
  // requests a minute.
  CallerGate GateOver(const std::string& text) {
    callers_file_.Write(text);
    CallerPolicy policy;
    policy.callers_file = callers_file_.path();
    policy.limits.concurrent_streams = 5;
    policy.limits.requests_per_minute = 100;
    return CallerGate(std::move(policy));
  }
  static std::string Line(const std::string& token, const std::string& rest) {
    return FormatTokenDigest(DigestToken(token)) + " " + rest + "\n";
  }

  testing::ScratchFile callers_file_;
};

TEST_F(CallerGateTest, WithoutACallersFileEveryCallIsTheAnonymousAdmin) {
  CallerPolicy policy;
  policy.limits.concurrent_streams = 7;
  CallerGate gate(policy);
  ASSERT_TRUE(gate.Load().ok());
  EXPECT_FALSE(gate.authenticating());
  std::optional<AuthenticatedCaller> anonymous = gate.Find("");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->name, "");
  EXPECT_TRUE(anonymous->admin);
  EXPECT_EQ(anonymous->limits.concurrent_streams, 7) << "the server-wide limits";
  EXPECT_FALSE(gate.Find("alice").has_value()) << "no names without a callers file";
}

TEST_F(CallerGateTest, FindsCallersWithTheirOwnLimitsOverTheDefaults) {
  CallerGate gate =
      GateOver(Line("token-a", "alice concurrent_streams=2") + Line("token-b", "bob admin"));
  ASSERT_TRUE(gate.Load().ok());
  EXPECT_TRUE(gate.authenticating());
  std::optional<AuthenticatedCaller> alice = gate.Find("alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_FALSE(alice->admin);
  EXPECT_EQ(alice->limits.concurrent_streams, 2);
  EXPECT_EQ(alice->limits.requests_per_minute, 100) << "not overridden: the default";
  std::optional<AuthenticatedCaller> bob = gate.Find("bob");
  ASSERT_TRUE(bob.has_value());
  EXPECT_TRUE(bob->admin);
  EXPECT_FALSE(gate.Find("mallory").has_value());
  EXPECT_FALSE(gate.Find("").has_value()) << "no anonymous caller once callers are named";
}

TEST_F(CallerGateTest, ACallersFileThatDoesNotParseFailsTheLoadNamingTheFile) {
  CallerGate gate = GateOver("not-a-digest alice\n");
  const absl::Status loaded = gate.Load();
  EXPECT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.message(), HasSubstr(callers_file_.path()));
}

TEST_F(CallerGateTest, AMissingCallersFileFailsTheLoad) {
  CallerPolicy policy;
  policy.callers_file = callers_file_.path();  // never written
  CallerGate gate(policy);
  EXPECT_FALSE(gate.Load().ok());
}

TEST(CallerGateStatusTest, AuthenticationFailuresAreUnauthenticatedAndNeverEchoTheToken) {
  const grpc::Status missing = CallerGate::AuthenticationStatus(absl::UnauthenticatedError(
      "missing caller token: send \"authorization: Bearer <token>\" metadata"));
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.error_message(), HasSubstr("missing caller token"));
  EXPECT_FALSE(missing.error_details().empty()) << "google.rpc details with the reason";
  EXPECT_THAT(missing.error_details(), HasSubstr("caller_token_missing"));

  const grpc::Status malformed = CallerGate::AuthenticationStatus(
      absl::UnauthenticatedError("the authorization metadata is not \"Bearer <token>\""));
  EXPECT_THAT(malformed.error_details(), HasSubstr("caller_token_malformed"));

  const grpc::Status unknown =
      CallerGate::AuthenticationStatus(absl::UnauthenticatedError("unknown caller token"));
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(unknown.error_details(), HasSubstr("caller_token_unknown"));
  EXPECT_THAT(unknown.error_details(), Not(HasSubstr("caller_token_missing")));
}

TEST_F(CallerGateTest, RecordedUsageIsReadBackPerCaller) {
  CallerGate gate = GateOver(Line("token-a", "alice") + Line("token-b", "bob"));
  ASSERT_TRUE(gate.Load().ok());
  gate.RecordUsage("alice", 120, 3'000);
  gate.RecordUsage("alice", 30);
  std::optional<absl::StatusOr<CallerUsageCounts>> alice;
  gate.ReadUsage("alice",
                 [&](absl::StatusOr<CallerUsageCounts> counts) { alice = std::move(counts); });
  ASSERT_TRUE(alice.has_value()) << "without a shared store, the answer comes inline";
  ASSERT_TRUE(alice->ok()) << alice->status();
  EXPECT_EQ((*alice)->tokens_this_minute, 150);
  EXPECT_EQ((*alice)->tokens_today, 150);
  EXPECT_EQ((*alice)->usd_micros_today, 3'000);
  std::optional<absl::StatusOr<CallerUsageCounts>> bob;
  gate.ReadUsage("bob", [&](absl::StatusOr<CallerUsageCounts> counts) { bob = std::move(counts); });
  ASSERT_TRUE(bob.has_value() && bob->ok());
  EXPECT_EQ((*bob)->tokens_this_minute, 0) << "another caller's usage is not bob's";
}

}  // namespace
}  // namespace claude
