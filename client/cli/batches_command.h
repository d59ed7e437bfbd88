// `claude-grpc-cli batches ...`: the MessageBatches service from the shell.
//
//   batches create --file=requests.jsonl   one {"custom_id", "params"} per line (the API's JSON);
//                                          prints the batch
//   batches get|cancel ID                  prints the batch
//   batches delete ID                      prints the deletion
//   batches list                           every batch, newest first, one JSON object per line
//   batches results ID [--after=CUSTOM_ID] the results as JSONL (the API's own lines)
//   batches wait ID                        polls until the batch has ended, a progress line on
//                                          stderr each time; then prints the batch
// Everything printed on stdout is the API's JSON, one object per line, so it pipes into jq.
#ifndef CLIENT_CLI_BATCHES_COMMAND_H_
#define CLIENT_CLI_BATCHES_COMMAND_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claude/v1/message_batches.pb.h"
#include "client/claude_client.h"

namespace claude::cli {

struct BatchesFlags {
  std::string file;                           // create: the JSONL file ("-": stdin)
  std::string after;                          // results: resume after this custom_id
  absl::Duration poll_interval = absl::Seconds(5);  // wait
};

// A JSONL file of batch requests: one MessageBatchRequest per non-empty line. Errors name the
// line ("line 3: params.messages: ...").
absl::StatusOr<v1::CreateMessageBatchRequest> ParseBatchRequestsJsonl(absl::string_view jsonl);

// The progress line of `wait`: "msgbatch_1: in_progress, 2 of 5 done (2 succeeded, 0 errored,
// 0 canceled, 0 expired)".
std::string BatchProgressLine(const v1::MessageBatch& batch);

// Runs `batches ARGS...` (ARGS without "batches"). Returns the exit status: 0 success, a usage
// error kExitUsage, a failed call ExitCodeFor its code (cli_support.h); errors with one line on
// `err`.
int RunBatches(Client& client, const std::vector<std::string>& args, const BatchesFlags& flags, FILE* out,
               FILE* err);

}  // namespace claude::cli

#endif  // CLIENT_CLI_BATCHES_COMMAND_H_
