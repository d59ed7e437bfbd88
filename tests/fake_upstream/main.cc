// fake-anthropic: serves the Messages API (and OpenAI's Chat Completions API, for the
// chat_completions dialect, and Vertex AI's and Bedrock's forms of the Messages API) on a
// loopback port for the quickstart and the load generator.
// Echo mode by default; --replay serves one SSE transcript to every request, and
// --generate_deltas a lazily generated text stream of any length (the bench's memory and
// slow-reader suites).
//
//   fake-anthropic --listen=127.0.0.1:8080
//   fake-anthropic --listen=127.0.0.1:0 --replay=tests/fixtures/text_basic.sse --chunk_size=16
//   fake-anthropic --listen=127.0.0.1:0 --generate_deltas=1000 --delta_bytes=64 --chunk_delay_ms=500
//   fake-anthropic --listen=127.0.0.1:0 --synthetic_batch_results=100000 --synthetic_result_bytes=1024
//
// The Message Batches API is always served (tests/fake_upstream/fake_batches.h).
//
// Prints "fake-anthropic listening on http://HOST:PORT" once listening; exits 0 on SIGINT or
// SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "tests/fake_upstream/fake_batches.h"

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/program_info/help_flags.h"
#include "tests/fake_upstream/fake_anthropic.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "HOST:PORT to listen on; port 0 picks a free port ([::1]:PORT for IPv6)");
ABSL_FLAG(std::string, replay, "",
          "An SSE transcript (e.g. tests/fixtures/text_basic.sse) served to every request "
          "instead of echo mode");
ABSL_FLAG(int, chunk_size, 0, "With --replay: bytes per HTTP chunk; 0 sends it in one piece");
ABSL_FLAG(int, chunk_delay_ms, 0,
          "With --replay: milliseconds between chunks; with --generate_deltas: between events");
ABSL_FLAG(int64_t, generate_deltas, 0,
          "Serve every request a generated text stream of this many deltas instead of echo mode");
ABSL_FLAG(int, delta_bytes, 64, "With --generate_deltas: bytes of text per delta");
ABSL_FLAG(std::string, google_token, "",
          "The Vertex AI endpoints require `authorization: Bearer <this>` (default: not checked)");
ABSL_FLAG(std::string, aws_access_key_id, "",
          "With --aws_secret_access_key: the Bedrock endpoints verify SigV4 signatures made with "
          "this key (default: not checked)");
ABSL_FLAG(std::string, aws_secret_access_key, "", "The secret of --aws_access_key_id");
ABSL_FLAG(std::string, aws_region, "us-east-1", "The region Bedrock signatures must name");
ABSL_FLAG(absl::Duration, batch_processing_time, absl::ZeroDuration(),
          "How long a created message batch stays in_progress (and a canceled one canceling)");
ABSL_FLAG(int64_t, synthetic_batch_results, 0,
          "Create an ended message batch of this many generated results at start, and print "
          "\"synthetic batch ID\" (the bench's batch_results suite)");
ABSL_FLAG(int, synthetic_result_bytes, 1024, "With --synthetic_batch_results: bytes of text per result");
ABSL_FLAG(int, fail_status, 0,
          "Answer every request with this HTTP status (400-599) and an API-shaped error body "
          "(529: overloaded_error), e.g. the first upstream of a failover run; 0: never");
ABSL_FLAG(std::string, upstream_api, "messages",
          "The API whose model list GET /v1/models answers with: messages or chat_completions "
          "(both POST APIs are always served)");

namespace {

// Splits "HOST:PORT" or "[V6HOST]:PORT".
bool ParseListen(absl::string_view listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || !absl::SimpleAtoi(listen.substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return false;
  }
  *host = std::string(h);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves Claude's HTTP Messages API on a loopback port, for tests and load runs.\n"
      "Usage: fake-anthropic [--listen=HOST:PORT] [--replay=FILE.sse [--chunk_size=N] "
      "[--chunk_delay_ms=N]] [--generate_deltas=N [--delta_bytes=N] [--chunk_delay_ms=N]]");
  claude::ShowFlagsOfFile("fake_upstream/main.cc");
  absl::ParseCommandLine(argc, argv);

  std::string host;
  int port = 0;
  if (!ParseListen(absl::GetFlag(FLAGS_listen), &host, &port)) {
    std::fprintf(stderr, "fake-anthropic: --listen must be HOST:PORT, got \"%s\"\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 2;
  }
  const int chunk_size = absl::GetFlag(FLAGS_chunk_size);
  const int chunk_delay_ms = absl::GetFlag(FLAGS_chunk_delay_ms);
  const int64_t generate_deltas = absl::GetFlag(FLAGS_generate_deltas);
  const int delta_bytes = absl::GetFlag(FLAGS_delta_bytes);
  if (chunk_size < 0 || chunk_delay_ms < 0 || generate_deltas < 0 || delta_bytes < 1) {
    std::fprintf(stderr, "fake-anthropic: --chunk_size, --chunk_delay_ms and --generate_deltas "
                         "must be >= 0, --delta_bytes >= 1\n");
    return 2;
  }
  const std::string upstream_api = absl::GetFlag(FLAGS_upstream_api);
  if (upstream_api != "messages" && upstream_api != "chat_completions") {
    std::fprintf(stderr, "fake-anthropic: --upstream_api must be messages or chat_completions\n");
    return 2;
  }
  const int fail_status = absl::GetFlag(FLAGS_fail_status);
  if (fail_status != 0 && (fail_status < 400 || fail_status > 599)) {
    std::fprintf(stderr, "fake-anthropic: --fail_status must be 0 or 400 to 599\n");
    return 2;
  }
  if (generate_deltas > 0 && !absl::GetFlag(FLAGS_replay).empty()) {
    std::fprintf(stderr, "fake-anthropic: --replay and --generate_deltas exclude each other\n");
    return 2;
  }
  std::string transcript;
  const std::string replay = absl::GetFlag(FLAGS_replay);
  if (!replay.empty()) {
    std::ifstream in(replay, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fake-anthropic: cannot read --replay file %s\n", replay.c_str());
      return 2;
    }
    transcript.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // SIGINT and SIGTERM are taken with sigwait below; blocked before the server thread starts so
  // that it inherits the mask and the signals come to this thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<claude::testing::FakeAnthropic>> fake =
      claude::testing::FakeAnthropic::Start(host, port);
  if (!fake.ok()) {
    std::fprintf(stderr, "fake-anthropic: %s\n", fake.status().ToString().c_str());
    return 1;
  }
  claude::testing::FakeCloudCredentials cloud;
  cloud.google_token = absl::GetFlag(FLAGS_google_token);
  cloud.aws_access_key_id = absl::GetFlag(FLAGS_aws_access_key_id);
  cloud.aws_secret_access_key = absl::GetFlag(FLAGS_aws_secret_access_key);
  cloud.aws_region = absl::GetFlag(FLAGS_aws_region);
  (*fake)->SetCloudCredentials(std::move(cloud));
  (*fake)->set_chat_completions_models(upstream_api == "chat_completions");
  // Nobody reads the recorded requests of the binary; keep its memory flat under load.
  (*fake)->set_record_requests(false);
  if (!replay.empty()) {
    (*fake)->SetDefaultReply(claude::testing::SseReply(std::move(transcript),
                                                       static_cast<size_t>(chunk_size),
                                                       absl::Milliseconds(chunk_delay_ms)));
  } else if (generate_deltas > 0) {
    (*fake)->SetDefaultReply(claude::testing::GeneratedSseReply(
        generate_deltas, static_cast<size_t>(delta_bytes), absl::Milliseconds(chunk_delay_ms)));
  }
  if (fail_status != 0) {
    (*fake)->SetDefaultReply(claude::testing::JsonReply(
        fail_status,
        claude::testing::ApiErrorBody(fail_status == 529 ? "overloaded_error" : "api_error",
                                      "failing as told (--fail_status)", 0)));
  }
  (*fake)->batches().set_processing_time(absl::GetFlag(FLAGS_batch_processing_time));
  (*fake)->batches().set_cancel_time(absl::GetFlag(FLAGS_batch_processing_time));
  if (const int64_t results = absl::GetFlag(FLAGS_synthetic_batch_results); results > 0) {
    const int result_bytes = std::max(1, absl::GetFlag(FLAGS_synthetic_result_bytes));
    std::printf("synthetic batch %s\n",
                (*fake)->batches().AddSyntheticBatch(results, static_cast<size_t>(result_bytes)).c_str());
  }
  std::printf("fake-anthropic listening on %s\n", (*fake)->base_url().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fake->reset();
  return 0;
}
