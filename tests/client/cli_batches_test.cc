// `claude-grpc-cli batches ...`, the real binary, against a real server in the test process
// (ServerHarness) in front of fake-anthropic's batch state machine: what each subcommand prints
// on stdout (the API's JSON, one object a line), the progress of `wait` on stderr, and the exit
// status and single stderr line of each failure.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "claude/v1/message_batches.pb.h"
#include "client/cli/cli_support.h"
#include "common/codec/json_mapping.h"
#include "tests/client/cli_testing.h"
#include "tests/fake_upstream/fake_batches.h"
#include "tests/testing/scratch_file.h"
#include "tests/testing/server_harness.h"
#include "tests/testing/subprocess.h"

namespace claude::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRequests[] =
    R"({"custom_id":"first","params":{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"one"}]}})"
    "\n"
    R"({"custom_id":"second","params":{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"two"}]}})"
    "\n\n"  // blank lines are skipped
    R"({"custom_id":"third","params":{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"error"}]}})"
    "\n";

class CliBatchesTest : public ::testing::Test {
 protected:
  ProcessResult Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {absl::StrCat("--target=127.0.0.1:", h_.port()), "batches"});
    return RunCli(args, stdin_text);
  }
  // Runs `args`, expects exit 0, and parses stdout's one line as a T.
  template <typename T>
  T RunFor(const std::vector<std::string>& args) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = OutputLines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out;
    T message;
    if (lines.size() == 1) {
      absl::Status parsed = JsonToMessage(lines[0], &message);
      EXPECT_TRUE(parsed.ok()) << parsed << ": " << lines[0];
    }
    return message;
  }
  // Creates the batch of kRequests; returns its id.
  std::string CreateBatch() {
    const v1::MessageBatch batch = RunFor<v1::MessageBatch>(
        {"create", "--file=" + WriteScratchFile("requests.jsonl", kRequests)});
    EXPECT_THAT(batch.id(), StartsWith("msgbatch_"));
    return batch.id();
  }
  // The results JSONL of `id` (after `after`, when given), parsed line by line.
  std::vector<v1::MessageBatchResult> Results(const std::string& id,
                                              const std::string& after = "") {
    std::vector<std::string> args = {"results", id};
    if (!after.empty()) args.push_back("--after=" + after);
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::vector<v1::MessageBatchResult> results;
    for (const std::string& line : OutputLines(r.out)) {
      v1::MessageBatchResult result;
      absl::Status parsed = JsonToMessage(line, &result);
      EXPECT_TRUE(parsed.ok()) << parsed << ": " << line;
      results.push_back(result);
    }
    return results;
  }

  ServerHarness h_;
};

// A failed call or usage error: `code`, one line on stderr naming `needle`, nothing on stdout.
void ExpectFailure(const ProcessResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr(needle));
}

TEST_F(CliBatchesTest, CreateGetListCancelWaitResultsDelete) {
  h_.upstream().batches().set_processing_time(absl::Hours(1));
  h_.upstream().batches().set_cancel_time(absl::Hours(1));
  const std::string id = CreateBatch();
  // The requests reached the upstream as the API's JSON, blank line skipped.
  EXPECT_THAT(h_.upstream().requests().back().body, HasSubstr(R"("custom_id":"third")"));

  v1::MessageBatch got = RunFor<v1::MessageBatch>({"get", id});
  EXPECT_EQ(got.id(), id);
  EXPECT_EQ(got.processing_status(), v1::PROCESSING_STATUS_IN_PROGRESS);
  EXPECT_EQ(got.request_counts().processing(), 3);

  ProcessResult listed = Run({"list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(OutputLines(listed.out).size(), 1u) << listed.out;
  EXPECT_THAT(listed.out, HasSubstr(id));

  ExpectFailure(Run({"results", id}), cli::kExitFixRequest, "FAILED_PRECONDITION");

  v1::MessageBatch canceling = RunFor<v1::MessageBatch>({"cancel", id});
  EXPECT_EQ(canceling.processing_status(), v1::PROCESSING_STATUS_CANCELING);

  h_.upstream().batches().set_cancel_time(absl::ZeroDuration());
  ProcessResult waited = Run({"wait", id, "--poll_interval=10ms"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  ASSERT_EQ(OutputLines(waited.err).size(), 1u) << waited.err;
  EXPECT_EQ(
      waited.err,
      absl::StrCat(id, ": ended, 3 of 3 done (0 succeeded, 0 errored, 3 canceled, 0 expired)\n"));
  v1::MessageBatch ended;
  ASSERT_TRUE(JsonToMessage(OutputLines(waited.out).at(0), &ended).ok()) << waited.out;
  EXPECT_EQ(ended.processing_status(), v1::PROCESSING_STATUS_ENDED);

  const std::vector<v1::MessageBatchResult> results = Results(id);
  ASSERT_EQ(results.size(), 3u);
  for (const v1::MessageBatchResult& r : results)
    EXPECT_TRUE(r.result().has_canceled()) << r.custom_id();

  v1::DeleteMessageBatchResponse deleted = RunFor<v1::DeleteMessageBatchResponse>({"delete", id});
  EXPECT_EQ(deleted.id(), id);
  EXPECT_EQ(deleted.type(), "message_batch_deleted");
  ExpectFailure(Run({"get", id}), cli::kExitFixRequest, "NOT_FOUND");
  ExpectFailure(Run({"delete", id}), cli::kExitFixRequest, "NOT_FOUND");
  ExpectFailure(Run({"cancel", id}), cli::kExitFixRequest, "NOT_FOUND");
}

TEST_F(CliBatchesTest, WaitPrintsProgressOnStderrUntilTheBatchEnds) {
  h_.upstream().batches().set_processing_time(Scaled(absl::Milliseconds(600)));
  const std::string id = CreateBatch();
  ProcessResult r = Run({"wait", id, "--poll_interval=50ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> progress = OutputLines(r.err);
  ASSERT_GE(progress.size(), 2u) << r.err;
  EXPECT_EQ(progress.front(),
            absl::StrCat(
                id, ": in_progress, 0 of 3 done (0 succeeded, 0 errored, 0 canceled, 0 expired)"));
  EXPECT_EQ(
      progress.back(),
      absl::StrCat(id, ": ended, 3 of 3 done (2 succeeded, 1 errored, 0 canceled, 0 expired)"));
  for (size_t i = 0; i + 1 < progress.size(); ++i)
    EXPECT_THAT(progress[i], HasSubstr(": in_progress, ")) << i;
  ASSERT_EQ(OutputLines(r.out).size(), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr(R"("processing_status":"ended")"));
}

TEST_F(CliBatchesTest, ResultsAreJsonlOfEveryKindAndResumeAfterACustomId) {
  const std::string id = CreateBatch();  // processing_time 0: ended at once
  const std::vector<v1::MessageBatchResult> results = Results(id);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].custom_id(), "first");
  ASSERT_TRUE(results[0].result().has_succeeded());
  EXPECT_THAT(results[0].result().succeeded().message().content(0).text().text(), HasSubstr("one"));
  EXPECT_EQ(results[1].custom_id(), "second");
  EXPECT_EQ(results[2].custom_id(), "third");
  ASSERT_TRUE(results[2].result().has_errored());
  EXPECT_EQ(results[2].result().errored().error().error().type(), "invalid_request_error");

  const std::vector<v1::MessageBatchResult> resumed = Results(id, "first");
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(resumed[0].custom_id(), "second");
  EXPECT_EQ(resumed[1].custom_id(), "third");
}

TEST_F(CliBatchesTest, CreateReadsTheRequestsFromStdin) {
  ProcessResult r = Run({"create", "--file=-"}, kRequests);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("id":"msgbatch_)"));
  EXPECT_EQ(h_.upstream().request_count(), 1);
}

TEST_F(CliBatchesTest, UsageErrorsExitTwoAndSendNothing) {
  ExpectFailure(Run({}), cli::kExitUsage, "a subcommand is required");
  ExpectFailure(Run({"frobnicate"}), cli::kExitUsage, "unknown subcommand \"frobnicate\"");
  ExpectFailure(Run({"create"}), cli::kExitUsage, "create needs --file");
  ExpectFailure(Run({"create", "--file=/nonexistent/requests.jsonl"}), cli::kExitUsage,
                "/nonexistent/requests.jsonl");
  ExpectFailure(Run({"create", "--file=" + WriteScratchFile("empty.jsonl", "\n\n")}),
                cli::kExitUsage, "no requests");
  ExpectFailure(Run({"create", "--file=" + WriteScratchFile("bad.jsonl", std::string(kRequests) +
                                                                             "{not json\n")}),
                cli::kExitUsage, "line 5");
  ExpectFailure(Run({"get"}), cli::kExitUsage, "get takes one batch ID");
  ExpectFailure(Run({"results", "a", "b"}), cli::kExitUsage, "results takes one batch ID");
  ExpectFailure(Run({"list", "extra"}), cli::kExitUsage, "list takes no arguments");
  EXPECT_EQ(h_.upstream().request_count(), 0);
}

TEST_F(CliBatchesTest, RefusedCallsExitWithTheirCodesClass) {
  // The server's validation: the bad custom_id, named with its index.
  const std::string bad_id =
      absl::StrReplaceAll(kRequests, {{R"("custom_id":"second")", R"("custom_id":"no spaces")"}});
  ExpectFailure(Run({"create", "--file=" + WriteScratchFile("bad_id.jsonl", bad_id)}),
                cli::kExitFixRequest, "requests[1].custom_id");
  ExpectFailure(Run({"get", "msgbatch_unknown"}), cli::kExitFixRequest, "NOT_FOUND");
  ExpectFailure(Run({"results", "msgbatch_unknown"}), cli::kExitFixRequest, "NOT_FOUND");
  ExpectFailure(Run({"wait", "msgbatch_unknown", "--poll_interval=10ms"}), cli::kExitFixRequest,
                "NOT_FOUND");
  EXPECT_EQ(h_.upstream().request_count(), 3) << "the invalid batch never reached the upstream";
}

// A batch of 3 costs 4 of the caller's requests per minute: with 3 allowed, the create is
// refused RESOURCE_EXHAUSTED (exit 3, retry later) and nothing reaches the upstream.
TEST(CliBatchesLimitTest, ABatchOverTheCallersRequestsPerMinuteExitsThree) {
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.callers.limits.requests_per_minute = 3; };
  ServerHarness h(options);
  ProcessResult r = RunCli({absl::StrCat("--target=127.0.0.1:", h.port()), "batches", "create",
                            "--file=" + WriteScratchFile("limited.jsonl", kRequests)});
  ExpectFailure(r, cli::kExitRetryLater, "RESOURCE_EXHAUSTED");
  EXPECT_THAT(r.err, HasSubstr("can never fit"));
  EXPECT_EQ(h.upstream().request_count(), 0);
}

}  // namespace
}  // namespace claude::testing
