// What the tests of claude-grpc-cli (the real binary, CLAUDE_GRPC_CLI_BINARY) share: running it,
// pointing it at a ServerHarness, and the shape of its failures.
#ifndef TESTS_CLIENT_CLI_TESTING_H_
#define TESTS_CLIENT_CLI_TESTING_H_

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"

namespace claude::testing {

// Runs the binary with `args`, `stdin_text` on its stdin; stdout and stderr are captured.
inline ProcessResult RunCli(const std::vector<std::string>& args,
                            const std::string& stdin_text = "") {
  return RunProcess(CLAUDE_GRPC_CLI_BINARY, args, stdin_text);
}

inline std::string TargetFlag(const ServerHarness& h) {
  return absl::StrCat("--target=127.0.0.1:", h.port());
}

// Usage and call errors: exactly one line on stderr, nothing on stdout.
inline void ExpectOneErrorLine(const ProcessResult& r) {
  EXPECT_EQ(OutputLines(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "\n")) << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("claude-grpc-cli: "));
  EXPECT_EQ(r.out, "");
}

}  // namespace claude::testing

#endif  // TESTS_CLIENT_CLI_TESTING_H_
