#include "client/cli/batches_command.h"

#include <iostream>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/cli/cli_support.h"
#include "common/codec/json_mapping.h"

namespace claude::cli {
namespace {

constexpr char kProgram[] = "claude-grpc-cli";

int Usage(FILE* err, absl::string_view message) {
  std::fprintf(err, "%s: batches: %s (see --help)\n", kProgram, OneLine(message).c_str());
  return kExitUsage;
}

int Failed(FILE* err, const absl::Status& status) {
  std::fprintf(err, "%s: %s: %s\n", kProgram, absl::StatusCodeToString(status.code()).c_str(),
               OneLine(status.message()).c_str());
  const int code = ExitCodeFor(status.code());
  return code == kExitOk ? kExitFailed : code;
}

void PrintJson(const google::protobuf::Message& message, FILE* out) {
  std::string line = MessageToJsonString(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out);
}

// Prints the batch or the failure.
int PrintBatch(const absl::StatusOr<v1::MessageBatch>& batch, FILE* out, FILE* err) {
  if (!batch.ok()) return Failed(err, batch.status());
  PrintJson(*batch, out);
  return 0;
}

}  // namespace

absl::StatusOr<v1::CreateMessageBatchRequest> ParseBatchRequestsJsonl(absl::string_view jsonl) {
  v1::CreateMessageBatchRequest request;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == absl::string_view::npos) continue;
    if (absl::Status s = JsonToMessage(line, request.add_requests()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", s.message()));
    }
  }
  if (request.requests().empty()) return absl::InvalidArgumentError("no requests in the file");
  return request;
}

std::string BatchProgressLine(const v1::MessageBatch& batch) {
  const v1::RequestCounts& c = batch.request_counts();
  const int64_t done = c.succeeded() + c.errored() + c.canceled() + c.expired();
  std::string name = "unknown";
  switch (batch.processing_status()) {
    case v1::PROCESSING_STATUS_IN_PROGRESS: name = "in_progress"; break;
    case v1::PROCESSING_STATUS_CANCELING: name = "canceling"; break;
    case v1::PROCESSING_STATUS_ENDED: name = "ended"; break;
    default:
      if (!batch.processing_status_raw().empty()) name = batch.processing_status_raw();
  }
  return absl::StrCat(batch.id(), ": ", name, ", ", done, " of ", done + c.processing(), " done (", c.succeeded(),
                      " succeeded, ", c.errored(), " errored, ", c.canceled(), " canceled, ", c.expired(),
                      " expired)");
}

int RunBatches(Client& client, const std::vector<std::string>& args, const BatchesFlags& flags, FILE* out,
               FILE* err) {
  if (args.empty()) return Usage(err, "a subcommand is required: create, get, list, cancel, delete, results, wait");
  const std::string& sub = args[0];
  if (sub == "create") {
    if (args.size() != 1) return Usage(err, "create takes no arguments; give the requests with --file");
    if (flags.file.empty()) return Usage(err, "create needs --file=REQUESTS.jsonl");
    std::string text;
    if (flags.file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      absl::StatusOr<std::string> read = ReadFile(flags.file);
      if (!read.ok()) return Usage(err, read.status().message());
      text = *std::move(read);
    }
    absl::StatusOr<v1::CreateMessageBatchRequest> request = ParseBatchRequestsJsonl(text);
    if (!request.ok()) return Usage(err, absl::StrCat("--file=", flags.file, ": ", request.status().message()));
    return PrintBatch(client.CreateMessageBatch(*request), out, err);
  }
  if (sub == "list") {
    if (args.size() != 1) return Usage(err, "list takes no arguments");
    v1::ListMessageBatchesRequest request;
    request.set_limit(1000);
    while (true) {
      absl::StatusOr<v1::ListMessageBatchesResponse> page = client.ListMessageBatches(request);
      if (!page.ok()) return Failed(err, page.status());
      for (const v1::MessageBatch& batch : page->data()) PrintJson(batch, out);
      if (!page->has_more() || !page->has_last_id() || page->data_size() == 0) return 0;
      request.set_after_id(page->last_id());
    }
  }
  if (sub != "get" && sub != "cancel" && sub != "delete" && sub != "results" && sub != "wait") {
    return Usage(err, absl::StrCat("unknown subcommand \"", sub, "\""));
  }
  if (args.size() != 2 || args[1].empty()) return Usage(err, absl::StrCat(sub, " takes one batch ID"));
  const std::string& id = args[1];
  if (sub == "get") return PrintBatch(client.GetMessageBatch(id), out, err);
  if (sub == "cancel") return PrintBatch(client.CancelMessageBatch(id), out, err);
  if (sub == "delete") {
    if (absl::Status s = client.DeleteMessageBatch(id); !s.ok()) return Failed(err, s);
    v1::DeleteMessageBatchResponse deleted;
    deleted.set_id(id);
    deleted.set_type("message_batch_deleted");
    PrintJson(deleted, out);
    return 0;
  }
  if (sub == "results") {
    std::optional<std::string> after;
    if (!flags.after.empty()) after = flags.after;
    std::string last;
    absl::Status status = client.StreamMessageBatchResults(id, after, [&](const v1::MessageBatchResult& result) {
      PrintJson(result, out);
      last = result.custom_id();
    });
    if (!status.ok()) {
      std::fflush(out);
      if (!last.empty()) {
        std::fprintf(err, "%s: resume with --after=%s\n", kProgram, last.c_str());
      }
      return Failed(err, status);
    }
    return 0;
  }
  // wait
  while (true) {
    absl::StatusOr<v1::MessageBatch> batch = client.GetMessageBatch(id);
    if (!batch.ok()) return Failed(err, batch.status());
    std::fprintf(err, "%s\n", BatchProgressLine(*batch).c_str());
    std::fflush(err);
    if (batch->processing_status() == v1::PROCESSING_STATUS_ENDED) return PrintBatch(*batch, out, err);
    absl::SleepFor(flags.poll_interval);
  }
}

}  // namespace claude::cli
