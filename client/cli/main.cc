// claude-grpc-cli: talk to Claude through a claude-grpc server from the shell.
//
//   claude-grpc-cli "What is the capital of France?"
//   echo "Summarize this" | claude-grpc-cli --stream --system="Be brief"
//   claude-grpc-cli --json --image=chart.png "What does this chart show?"
//   claude-grpc-cli count-tokens "How many tokens is this?"
//   claude-grpc-cli models
//   claude-grpc-cli batches create --file=requests.jsonl       # and get|list|cancel|delete|results|wait
//   printf %s "$TOKEN" | claude-grpc-cli hash-token     # a callers-file digest
//
// Exit status (see --help): 0 success; 2 usage; 3 retry later; 4 fix the request; 5 auth; 1 any
// other failure. A failure prints one line on stderr ("claude-grpc-cli: RESOURCE_EXHAUSTED:
// upstream HTTP 429 ..."), and with --json also a JSON error object on stdout.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/claude_client.h"
#include "client/cli/batches_command.h"
#include "client/cli/cli_support.h"
#include "common/codec/json_mapping.h"
#include "common/program_info/help_flags.h"
#include "common/security/token_digest.h"

ABSL_FLAG(std::string, target, "localhost:50051",
          "The claude-grpc server (a gRPC target: HOST:PORT, dns:///NAME:PORT, unix:PATH).");
ABSL_FLAG(std::string, model, "claude-sonnet-4-5", "The model.");
ABSL_FLAG(int64_t, max_tokens, 1024, "Most tokens to generate.");
ABSL_FLAG(std::string, system, "", "The system prompt.");
ABSL_FLAG(std::optional<double>, temperature, std::nullopt, "Randomness, 0.0 to 1.0 (default: the API's).");
ABSL_FLAG(bool, stream, false,
          "Print the reply as it arrives; thinking goes to stderr. With --json, only the final "
          "message is printed.");
ABSL_FLAG(std::string, caller, "",
          "usage: the caller whose usage to show (default: the one CLAUDE_GRPC_TOKEN names; another "
          "caller's needs an admin token).");
ABSL_FLAG(bool, json, false, "Print the final message as the API's JSON instead of its text.");
ABSL_FLAG(bool, events, false, "Print every stream event as the API's JSON, one per line (streams).");
ABSL_FLAG(std::vector<std::string>, image, {},
          "An image file (PNG, JPEG, GIF or WEBP) to send before the prompt; repeat the flag for "
          "several images.");
ABSL_FLAG(std::string, tools, "", "A JSON file holding an array of tools in the API's shape.");
ABSL_FLAG(int64_t, thinking_budget, 0, "Turn on extended thinking with this token budget (0: off).");
ABSL_FLAG(std::string, messages, "",
          "A JSON file holding the conversation so far: an array of messages in the API's shape. "
          "The prompt, if given, is appended as a last user turn.");
ABSL_FLAG(absl::Duration, deadline, absl::Minutes(10), "Deadline of the call (e.g. 30s, 10m, inf).");
ABSL_FLAG(bool, tls, false, "Connect with TLS (implied by the other --tls_* flags).");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the CAs that may sign the server's certificate (default: the system's).");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate chain, for servers that require mutual TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "The name the server's certificate must hold, when it is not the --target's host.");
ABSL_FLAG(std::string, file, "", "batches create: the JSONL file of requests, one {\"custom_id\", \"params\"} per line (- for stdin).");
ABSL_FLAG(std::string, after, "", "batches results: resume after the result with this custom_id.");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(5), "batches wait: time between two polls.");
ABSL_FLAG(std::vector<std::string>, beta, {},
          "Beta features, sent as anthropic-beta metadata (comma-separated).");

namespace {

using claude::Client;
using claude::ClientOptions;

constexpr char kProgram[] = "claude-grpc-cli";

// Usage errors: one line, exit 2.
[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "%s: %s (see --help)\n", kProgram, claude::cli::OneLine(message).c_str());
  std::exit(claude::cli::kExitUsage);
}

// A failed call: one line naming the gRPC code on stderr (and with --json, the error as a JSON
// object on stdout); the exit status says what to do about it.
int CallFailed(const absl::Status& status) {
  std::fprintf(stderr, "%s: %s: %s\n", kProgram, absl::StatusCodeToString(status.code()).c_str(),
               claude::cli::OneLine(status.message()).c_str());
  if (absl::GetFlag(FLAGS_json)) {
    const std::string json = claude::cli::ErrorJson(status) + "\n";
    std::fwrite(json.data(), 1, json.size(), stdout);
  }
  const int code = claude::cli::ExitCodeFor(status.code());
  return code == claude::cli::kExitOk ? claude::cli::kExitFailed : code;
}

void Print(absl::string_view text, FILE* out = stdout) {
  std::fwrite(text.data(), 1, text.size(), out);
}

// Flags that absl::ParseCommandLine itself handles (help, flag files...); `takes_value`: whether
// it has a value (which may be the next argument).
bool IsBuiltinFlag(absl::string_view name, bool* takes_value) {
  for (absl::string_view builtin : {"help", "helpfull", "helpshort", "helppackage", "version", "only_check_args"}) {
    if (name == builtin) {
      *takes_value = false;
      return true;
    }
  }
  for (absl::string_view builtin : {"flagfile", "fromenv", "tryfromenv", "undefok", "helpon", "helpmatch"}) {
    if (name == builtin) {
      *takes_value = true;
      return true;
    }
  }
  return false;
}

// absl's parser exits with status 1 on an unknown flag or a bad value, and keeps only the last
// of repeated flags. This pass runs first, with absl's syntax (--name=value, --name value for
// non-boolean flags, --name and --noname for booleans, -- ends the flags): it turns those errors
// into usage errors (exit 2), and collects every --image. It returns the arguments left for
// absl::ParseCommandLine.
std::vector<char*> PreParse(int argc, char** argv, std::vector<std::string>* images) {
  std::vector<char*> kept = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") {
      for (; i < argc; ++i) kept.push_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {  // positional ("-" included)
      kept.push_back(argv[i]);
      continue;
    }
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t eq = body.find('=');
    const bool has_value = eq != absl::string_view::npos;
    const absl::string_view name = body.substr(0, eq);
    absl::string_view value = has_value ? body.substr(eq + 1) : absl::string_view();
    const bool takes_next = !has_value && i + 1 < argc;

    if (name == "image") {
      if (!has_value && !takes_next) UsageError("missing a value for --image");
      images->emplace_back(has_value ? value : absl::string_view(argv[++i]));
      continue;
    }
    if (bool takes_value = false; IsBuiltinFlag(name, &takes_value)) {
      kept.push_back(argv[i]);
      if (takes_value && !has_value) {
        if (!takes_next) UsageError(absl::StrCat("missing a value for --", name));
        kept.push_back(argv[++i]);
      }
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no") && !has_value) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        kept.push_back(argv[i]);
        continue;
      }
    }
    if (flag == nullptr || flag->IsRetired()) UsageError(absl::StrCat("unknown flag --", name));
    kept.push_back(argv[i]);
    if (flag->IsOfType<bool>() && !has_value) continue;
    if (!has_value) {
      if (!takes_next) UsageError(absl::StrCat("missing a value for --", name));
      kept.push_back(argv[++i]);
      value = argv[i];
    }
    // Setting it here is harmless: absl::ParseCommandLine sets the same value again.
    if (std::string error; !flag->ParseFrom(value, &error)) {
      UsageError(absl::StrCat("bad value for --", name, ": ", error));
    }
  }
  return kept;
}

std::string ReadStdin() {
  std::string contents;
  char buffer[64 * 1024];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) contents.append(buffer, n);
  return contents;
}

// The request pieces shared by messages and count-tokens, from the flags and the prompt.
struct Conversation {
  std::vector<claude::v1::MessageParam> messages;
  std::vector<claude::v1::Tool> tools;
};

Conversation BuildConversation(const std::vector<std::string>& prompt_args,
                               const std::vector<std::string>& images) {
  Conversation conversation;
  const std::string messages_file = absl::GetFlag(FLAGS_messages);
  if (!messages_file.empty()) {
    absl::StatusOr<std::string> json = claude::cli::ReadFile(messages_file);
    if (!json.ok()) UsageError(absl::StrCat("--messages: ", json.status().message()));
    absl::StatusOr<std::vector<claude::v1::MessageParam>> messages = claude::cli::ParseMessagesJson(*json);
    if (!messages.ok()) UsageError(absl::StrCat("--messages=", messages_file, ": ", messages.status().message()));
    conversation.messages = *std::move(messages);
  }
  const std::string tools_file = absl::GetFlag(FLAGS_tools);
  if (!tools_file.empty()) {
    absl::StatusOr<std::string> json = claude::cli::ReadFile(tools_file);
    if (!json.ok()) UsageError(absl::StrCat("--tools: ", json.status().message()));
    absl::StatusOr<std::vector<claude::v1::Tool>> tools = claude::cli::ParseToolsJson(*json);
    if (!tools.ok()) UsageError(absl::StrCat("--tools=", tools_file, ": ", tools.status().message()));
    conversation.tools = *std::move(tools);
  }

  // The prompt: the arguments, else stdin (unless a conversation file gives the turns).
  std::string prompt;
  if (!prompt_args.empty()) {
    prompt = absl::StrJoin(prompt_args, " ");
  } else if (messages_file.empty()) {
    if (isatty(STDIN_FILENO) == 1) std::fprintf(stderr, "(reading the prompt from stdin; end it with Ctrl-D)\n");
    prompt = ReadStdin();
    absl::StripTrailingAsciiWhitespace(&prompt);
  }
  if (!claude::cli::IsValidUtf8(prompt)) UsageError("the prompt is not valid UTF-8");
  if (prompt.empty() && messages_file.empty()) {
    UsageError("no prompt: give it as an argument or on stdin");
  }

  std::vector<claude::v1::ContentBlock> blocks;
  for (const std::string& path : images) {
    absl::StatusOr<std::string> bytes = claude::cli::ReadFile(path);
    if (!bytes.ok()) UsageError(absl::StrCat("--image: ", bytes.status().message()));
    absl::StatusOr<claude::v1::ContentBlock> block = claude::cli::ImageBlockFromBytes(*std::move(bytes));
    if (!block.ok()) UsageError(absl::StrCat("--image=", path, ": ", block.status().message()));
    blocks.push_back(*std::move(block));
  }
  if (!prompt.empty() || !blocks.empty()) {
    claude::v1::MessageParam& turn = conversation.messages.emplace_back();
    turn.set_role(claude::v1::ROLE_USER);
    if (blocks.empty()) {
      turn.set_content_text(prompt);
    } else {
      for (claude::v1::ContentBlock& block : blocks) *turn.mutable_content_blocks()->add_blocks() = std::move(block);
      if (!prompt.empty()) turn.mutable_content_blocks()->add_blocks()->mutable_text()->set_text(prompt);
    }
  }
  return conversation;
}

// Fills what CreateMessageRequest and CountTokensRequest share.
template <typename Request>
void FillCommon(Conversation conversation, Request* request) {
  request->set_model(absl::GetFlag(FLAGS_model));
  for (auto& message : conversation.messages) *request->add_messages() = std::move(message);
  for (auto& tool : conversation.tools) *request->add_tools() = std::move(tool);
  if (const std::string system = absl::GetFlag(FLAGS_system); !system.empty()) {
    request->set_system_text(system);
  }
  if (const int64_t budget = absl::GetFlag(FLAGS_thinking_budget); budget > 0) {
    request->mutable_thinking()->mutable_enabled()->set_budget_tokens(budget);
  }
}

// The text of every text block, in order.
std::string TextOf(const claude::v1::Message& message) {
  std::string text;
  for (const claude::v1::ContentBlock& block : message.content()) {
    if (block.has_text()) text += block.text().text();
  }
  return text;
}

int RunMessages(Client& client, const claude::v1::CreateMessageRequest& request) {
  const bool json = absl::GetFlag(FLAGS_json);
  if (absl::GetFlag(FLAGS_events)) {
    std::unique_ptr<Client::EventStream> stream = client.OpenStream(request);
    claude::v1::MessageStreamEvent event;
    std::string line;
    while (stream->Next(&event)) {
      line.clear();
      claude::MessageToJson(event, &line);
      line += '\n';
      Print(line);
      std::fflush(stdout);
    }
    absl::Status status = stream->Finish();
    return status.ok() ? 0 : CallFailed(status);
  }

  absl::StatusOr<claude::v1::Message> message;
  bool text_open = false;  // text printed to stdout without a line break after it
  if (absl::GetFlag(FLAGS_stream) && json) {
    message = client.StreamMessage(request, nullptr);
  } else if (absl::GetFlag(FLAGS_stream)) {
    const bool dim = isatty(STDERR_FILENO) == 1;
    bool thinking_open = false;  // thinking printed to stderr without a line break after it
    message = client.StreamText(
        request,
        [&](absl::string_view text) {
          if (thinking_open) {
            Print("\n", stderr);
            thinking_open = false;
          }
          Print(text);
          std::fflush(stdout);
          if (!text.empty()) text_open = text.back() != '\n';
        },
        [&](absl::string_view thinking) {
          if (dim) Print("\x1b[2m", stderr);
          Print(thinking, stderr);
          if (dim) Print("\x1b[0m", stderr);
          std::fflush(stderr);
          if (!thinking.empty()) thinking_open = thinking.back() != '\n';
        });
    if (thinking_open) Print("\n", stderr);
  } else {
    message = client.CreateMessage(request);
  }
  if (!message.ok()) {
    if (text_open) Print("\n");
    std::fflush(stdout);
    return CallFailed(message.status());
  }
  if (json) {
    Print(claude::MessageToJsonString(*message) + "\n");
  } else if (absl::GetFlag(FLAGS_stream)) {
    if (text_open) Print("\n");
  } else if (std::string text = TextOf(*message); !text.empty()) {
    if (text.back() != '\n') text += '\n';
    Print(text);
  }
  return 0;
}

int RunCountTokens(Client& client, const claude::v1::CountTokensRequest& request) {
  absl::StatusOr<claude::v1::CountTokensResponse> response = client.CountTokens(request);
  if (!response.ok()) return CallFailed(response.status());
  Print(claude::MessageToJsonString(*response) + "\n");
  return 0;
}

int RunModels(Client& client) {
  // Every page, merged into one response.
  claude::v1::ListModelsResponse all;
  claude::v1::ListModelsRequest request;
  request.set_limit(1000);
  while (true) {
    absl::StatusOr<claude::v1::ListModelsResponse> page = client.ListModels(request);
    if (!page.ok()) return CallFailed(page.status());
    if (all.data_size() == 0 && page->has_first_id()) all.set_first_id(page->first_id());
    if (page->has_last_id()) all.set_last_id(page->last_id());
    for (claude::v1::ModelInfo& model : *page->mutable_data()) *all.add_data() = std::move(model);
    if (!page->has_more() || !page->has_last_id() || page->data_size() == 0) break;
    request.set_after_id(page->last_id());
  }
  if (absl::GetFlag(FLAGS_json)) {
    Print(claude::MessageToJsonString(all) + "\n");
  } else {
    for (const claude::v1::ModelInfo& model : all.data()) {
      Print(absl::StrCat(model.id(), "\t", model.display_name(), "\n"));
    }
  }
  return 0;
}

// One line per count, with its limit ("unlimited" for 0).
std::string FormatCallerUsage(const claude::v1::CallerUsage& u) {
  const auto limit = [](auto value) { return value > 0 ? absl::StrCat(value) : std::string("unlimited"); };
  const auto dollars = [](double value) { return absl::StrFormat("$%.6f", value); };
  const auto dollar_limit = [&](double value) { return value > 0 ? dollars(value) : std::string("unlimited"); };
  return absl::StrCat(
      "caller               ", u.caller().empty() ? "(anonymous)" : u.caller(), "\n",
      "counted              ", u.shared() ? "in Redis, by every replica" : "by this replica only", "\n",
      "requests this minute ", u.requests_this_minute(), " of ", limit(u.requests_per_minute_limit()), "\n",
      "tokens this minute   ", u.tokens_this_minute(), " of ", limit(u.tokens_per_minute_limit()), "\n",
      "tokens today         ", u.tokens_today(), " of ", limit(u.tokens_per_day_limit()), "\n",
      "tokens this month    ", u.tokens_this_month(), " of ", limit(u.tokens_per_month_limit()), "\n",
      "USD today            ", dollars(u.usd_today()), " of ", dollar_limit(u.usd_per_day_limit()), "\n",
      "USD this month       ", dollars(u.usd_this_month()), " of ", dollar_limit(u.usd_per_month_limit()), "\n",
      "concurrent streams   limit ", limit(u.concurrent_streams_limit()), "\n");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "Talks to Claude through a claude-grpc server.\n\n"
      "  ", kProgram, " [flags] [PROMPT...]           create a message (PROMPT, else stdin)\n"
      "  ", kProgram, " count-tokens [flags] [PROMPT]  count the prompt's input tokens\n"
      "  ", kProgram, " models [--json]                list the models\n"
      "  ", kProgram, " batches create --file=F.jsonl  create a message batch (one {custom_id, params} a line)\n"
      "  ", kProgram, " batches get|cancel|delete ID   a batch; prints its JSON\n"
      "  ", kProgram, " batches list                   every batch, one JSON object a line\n"
      "  ", kProgram, " batches results ID [--after=C] the results as JSONL\n"
      "  ", kProgram, " batches wait ID                poll until ended (progress on stderr)\n"
      "  ", kProgram, " health [SERVICE]               the server's health; exit 0 when SERVING\n"
      "  ", kProgram, " usage [--caller NAME]          a caller's counts against its limits and budgets\n"
      "  ", kProgram, " hash-token                     a token (stdin) as the server's callers file lists it\n\n"
      "Environment: CLAUDE_GRPC_TOKEN, sent as \"authorization: Bearer <token>\".\n\n"
      "Exit status:\n"
      "  0  success\n"
      "  1  any other failure (INTERNAL, UNKNOWN, CANCELLED, DATA_LOSS); health: NOT_SERVING\n"
      "  2  usage error (the command line)\n"
      "  3  retry later: UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED\n"
      "  4  fix the request: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE,\n"
      "     ALREADY_EXISTS, UNIMPLEMENTED\n"
      "  5  auth: UNAUTHENTICATED, PERMISSION_DENIED (the caller's token or certificate)\n"
      "A failure prints \"", kProgram, ": <GRPC_CODE>: <message>\" on stderr; with --json also\n"
      "{\"error\":{\"code\",\"message\",\"exit_code\",\"details\"}} on stdout."));
  claude::HandleHelpAndVersion(argc, argv, kProgram, "cli/main.cc");
  claude::ShowFlagsOfFile("cli/main.cc");
  std::vector<std::string> images;
  std::vector<char*> kept = PreParse(argc, argv, &images);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(kept.size()), kept.data());
  std::vector<std::string> args(positional.begin() + 1, positional.end());

  enum class Command { kMessages, kCountTokens, kModels, kHealth, kHashToken, kUsage, kBatches } command =
      Command::kMessages;
  std::string health_service;
  if (!args.empty() && args[0] == "count-tokens") {
    command = Command::kCountTokens;
    args.erase(args.begin());
  } else if (!args.empty() && args[0] == "models") {
    command = Command::kModels;
    args.erase(args.begin());
    if (!args.empty()) UsageError(absl::StrCat("models takes no arguments, got \"", args[0], "\""));
  } else if (!args.empty() && args[0] == "batches") {
    command = Command::kBatches;
    args.erase(args.begin());
    if (absl::GetFlag(FLAGS_poll_interval) <= absl::ZeroDuration()) UsageError("--poll_interval must be positive");
  } else if (!args.empty() && args[0] == "hash-token") {
    // The token comes on stdin, never as an argument (ps and shell history would keep it).
    if (args.size() > 1) UsageError("hash-token reads the token from stdin and takes no arguments");
    const std::string token(absl::StripAsciiWhitespace(ReadStdin()));
    if (token.empty()) UsageError("hash-token: no token on stdin");
    Print(claude::FormatTokenDigest(claude::DigestToken(token)) + "\n");
    return 0;
  } else if (!args.empty() && args[0] == "usage") {
    command = Command::kUsage;
    if (args.size() > 1) UsageError("usage takes no arguments; name a caller with --caller");
    args.clear();
  } else if (!args.empty() && args[0] == "health") {
    command = Command::kHealth;
    if (args.size() > 2) UsageError("health takes at most one SERVICE");
    if (args.size() == 2) health_service = args[1];
    args.clear();
  }

  if (absl::GetFlag(FLAGS_target).empty()) UsageError("--target is empty");
  if (absl::GetFlag(FLAGS_model).empty()) UsageError("--model is empty");
  if (absl::GetFlag(FLAGS_max_tokens) < 1) UsageError("--max_tokens must be at least 1");
  if (const std::optional<double> t = absl::GetFlag(FLAGS_temperature); t.has_value() && !(*t >= 0 && *t <= 1)) {
    UsageError("--temperature must be between 0 and 1");
  }
  if (absl::GetFlag(FLAGS_thinking_budget) < 0) UsageError("--thinking_budget must not be negative");
  if (absl::GetFlag(FLAGS_deadline) <= absl::ZeroDuration()) UsageError("--deadline must be positive");
  if (!claude::cli::IsValidUtf8(absl::GetFlag(FLAGS_system))) UsageError("--system is not valid UTF-8");
  if (absl::GetFlag(FLAGS_events) && absl::GetFlag(FLAGS_json)) {
    UsageError("--events and --json cannot be combined");
  }

  ClientOptions options;
  options.default_deadline = absl::GetFlag(FLAGS_deadline);
  const std::vector<std::string> betas = absl::GetFlag(FLAGS_beta);
  if (!betas.empty()) options.metadata.emplace_back("anthropic-beta", absl::StrJoin(betas, ","));
  if (const char* token = std::getenv("CLAUDE_GRPC_TOKEN"); token != nullptr && *token != '\0') {
    options.caller_token = token;
  }

  const bool tls = absl::GetFlag(FLAGS_tls) || !absl::GetFlag(FLAGS_tls_ca).empty() ||
                   !absl::GetFlag(FLAGS_tls_cert).empty() || !absl::GetFlag(FLAGS_tls_key).empty() ||
                   !absl::GetFlag(FLAGS_tls_server_name).empty();
  if (tls) {
    claude::ClientTlsOptions& t = options.tls.emplace();
    t.ca_file = absl::GetFlag(FLAGS_tls_ca);
    t.cert_file = absl::GetFlag(FLAGS_tls_cert);
    t.key_file = absl::GetFlag(FLAGS_tls_key);
    t.server_name = absl::GetFlag(FLAGS_tls_server_name);
    if (auto credentials = claude::TlsChannelCredentials(t); !credentials.ok()) {
      UsageError(std::string(credentials.status().message()));
    }
  }

  int exit_code = 0;
  switch (command) {
    case Command::kModels: {
      Client client(absl::GetFlag(FLAGS_target), options);
      exit_code = RunModels(client);
      break;
    }
    case Command::kHashToken:
      break;  // answered above
    case Command::kBatches: {
      claude::cli::BatchesFlags flags;
      flags.file = absl::GetFlag(FLAGS_file);
      flags.after = absl::GetFlag(FLAGS_after);
      flags.poll_interval = absl::GetFlag(FLAGS_poll_interval);
      Client client(absl::GetFlag(FLAGS_target), options);
      exit_code = claude::cli::RunBatches(client, args, flags, stdout, stderr);
      break;
    }
    case Command::kUsage: {
      Client client(absl::GetFlag(FLAGS_target), options);
      absl::StatusOr<claude::v1::CallerUsage> usage = client.GetCallerUsage(absl::GetFlag(FLAGS_caller));
      if (!usage.ok()) {
        exit_code = CallFailed(usage.status());
        break;
      }
      Print(FormatCallerUsage(*usage));
      break;
    }
    case Command::kHealth: {
      Client client(absl::GetFlag(FLAGS_target), options);
      absl::StatusOr<std::string> health = client.CheckHealth(health_service);
      if (!health.ok()) {
        exit_code = CallFailed(health.status());
        break;
      }
      Print(*health + "\n");
      exit_code = *health == "SERVING" ? 0 : 1;
      break;
    }
    case Command::kCountTokens: {
      claude::v1::CountTokensRequest request;
      FillCommon(BuildConversation(args, images), &request);
      Client client(absl::GetFlag(FLAGS_target), options);
      exit_code = RunCountTokens(client, request);
      break;
    }
    case Command::kMessages: {
      claude::v1::CreateMessageRequest request;
      FillCommon(BuildConversation(args, images), &request);
      request.set_max_tokens(absl::GetFlag(FLAGS_max_tokens));
      if (const std::optional<double> t = absl::GetFlag(FLAGS_temperature); t.has_value()) {
        request.set_temperature(*t);
      }
      Client client(absl::GetFlag(FLAGS_target), options);
      exit_code = RunMessages(client, request);
      break;
    }
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "%s: cannot write the output: %s\n", kProgram, std::strerror(errno));
    return 1;
  }
  return exit_code;
}
