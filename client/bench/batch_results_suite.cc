#include "client/bench/batch_results_suite.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "claude/v1/message_batches.grpc.pb.h"
#include "client/bench/child_process.h"
#include "client/bench/suite.h"
#include "common/curl/curl_handles.h"

namespace claude {
namespace bench {
namespace {

// fake-anthropic numbers its batches from 1; the synthetic one is its first.
constexpr char kBatchId[] = "msgbatch_fake_1";

// fake-anthropic serving a synthetic batch of `results` results, and a server in front of it.
absl::Status StartSyntheticBatch(const SuiteBinaries& binaries, int64_t results, int result_bytes,
                                 SuiteProcesses* p) {
  return p->Start(binaries, {absl::StrCat("--synthetic_batch_results=", results),
                             absl::StrCat("--synthetic_result_bytes=", result_bytes)});
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

size_t CountLines(char* data, size_t size, size_t n, void* lines) {
  *static_cast<int64_t*>(lines) += std::count(data, data + size * n, '\n');
  return size * n;
}

// Lines of the results file fetched straight from the fake, or the failure.
absl::StatusOr<int64_t> DirectLines(const std::string& url) {
  CurlEasy handle(curl_easy_init());
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  int64_t lines = 0;
  for (absl::Status s : {SetOption(handle.get(), CURLOPT_URL, url.c_str()),
                         SetOption(handle.get(), CURLOPT_WRITEFUNCTION, &CountLines),
                         SetOption(handle.get(), CURLOPT_WRITEDATA, &lines)}) {
    if (!s.ok()) return s;
  }
  if (CURLcode code = curl_easy_perform(handle.get()); code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("direct GET of ", url, ": ", curl_easy_strerror(code)));
  }
  return lines;
}

// Reads the synthetic batch's results through the server; `read_bytes_per_s` 0: as fast as
// possible. Returns the results read and the stream's status.
std::pair<int64_t, grpc::Status> ReadThroughServer(int port, double read_bytes_per_s) {
  auto stub = v1::MessageBatches::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  v1::StreamMessageBatchResultsRequest request;
  request.set_message_batch_id(kBatchId);
  auto reader = stub->StreamMessageBatchResults(&context, request);
  v1::MessageBatchResult result;
  int64_t results = 0;
  ReadPacer pacer(read_bytes_per_s);
  while (reader->Read(&result)) {
    ++results;
    pacer.Read(static_cast<int64_t>(result.ByteSizeLong()));
  }
  return {results, reader->Finish()};
}

}  // namespace

absl::StatusOr<BatchResultsResult> RunBatchResultsSuite(const SuiteBinaries& binaries,
                                                        const BatchResultsOptions& options) {
  BatchResultsResult out;
  {
    SuiteProcesses p;
    if (absl::Status s =
            StartSyntheticBatch(binaries, options.throughput_results, options.result_bytes, &p);
        !s.ok()) {
      return s;
    }
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<int64_t> direct = DirectLines(absl::StrCat(p.upstream, "/v1/messages/batches/", kBatchId, "/results"));
    if (!direct.ok()) return direct.status();
    out.direct_results_per_s = static_cast<double>(*direct) / Seconds(start);
    start = std::chrono::steady_clock::now();
    auto [results, status] = ReadThroughServer(p.port, 0);
    out.frontend_results_per_s = static_cast<double>(results) / Seconds(start);
    if (!status.ok() || results != options.throughput_results) {
      out.status = absl::StrCat("throughput stream: ", results, " results, ", status.error_code(), " ",
                                status.error_message());
      return out;
    }
  }
  // A line is the result's text plus about 300 bytes of JSON around it.
  const int64_t paced = std::max<int64_t>(1, (options.megabytes << 20) / (options.result_bytes + 300));
  SuiteProcesses p;
  if (absl::Status s = StartSyntheticBatch(binaries, paced, options.result_bytes, &p); !s.ok()) {
    return s;
  }
  PeakRssSampler peak(p.server);
  out.baseline_kb = peak.baseline_kb();
  const auto start = std::chrono::steady_clock::now();
  auto [results, status] = ReadThroughServer(p.port, options.read_bytes_per_s);
  out.paced_seconds = Seconds(start);
  out.paced_results = results;
  out.peak_kb = peak.Stop();
  out.growth_mb = static_cast<double>(out.peak_kb - out.baseline_kb) / 1024.0;
  out.status = status.ok() && results == paced
                   ? "OK"
                   : absl::StrCat("paced stream: ", results, " of ", paced, " results, ", status.error_code(), " ",
                                  status.error_message());
  return out;
}

namespace {

// --suite=batch_results: its own fresh processes, nothing else (not part of "all": its paced
// reader takes a gigabyte at 10 MB/s, nearly two minutes).
class BatchResultsSuite : public MeasurementSuite<BatchResultsResult> {
 public:
  SuiteStage stage() const override { return SuiteStage::kAlone; }

  std::string Failure() const override { return result().status == "OK" ? "" : result().status; }

  std::string Json(const SuiteContext& /*context*/) const override {
    const BatchResultsResult& r = result();
    return absl::StrFormat(
        "{\"frontend_results_per_s\":%.0f,\"direct_results_per_s\":%.0f,\"paced_results\":%lld,"
        "\"paced_seconds\":%.1f,\"baseline_kb\":%lld,\"peak_kb\":%lld,\"growth_mb\":%.1f,"
        "\"status\":\"%s\"}",
        r.frontend_results_per_s, r.direct_results_per_s, static_cast<long long>(r.paced_results),
        r.paced_seconds, static_cast<long long>(r.baseline_kb), static_cast<long long>(r.peak_kb),
        r.growth_mb, absl::CHexEscape(r.status));
  }

  void PrintText(const SuiteContext& context) const override {
    const BatchResultsOptions& options = context.config.batch_results;
    const BatchResultsResult& r = result();
    std::printf(
        "batch_results: %lld results of %d bytes: front-end %.0f results/s, direct %.0f results/s "
        "(%.2fx)\n"
        "batch_results: %lld MiB read at %.0f MB/s in %.0f s (%lld results): server RSS %lld kB -> "
        "peak "
        "%lld kB, growth %.1f MB\nbatch_results %s\n",
        static_cast<long long>(options.throughput_results), options.result_bytes,
        r.frontend_results_per_s, r.direct_results_per_s,
        r.direct_results_per_s > 0 ? r.frontend_results_per_s / r.direct_results_per_s : 0,
        static_cast<long long>(options.megabytes), options.read_bytes_per_s / 1e6, r.paced_seconds,
        static_cast<long long>(r.paced_results), static_cast<long long>(r.baseline_kb),
        static_cast<long long>(r.peak_kb), r.growth_mb, r.status.c_str());
  }

 private:
  absl::StatusOr<BatchResultsResult> Measure(const BenchConfig& config) const override {
    return RunBatchResultsSuite(config.binaries, config.batch_results);
  }
};

}  // namespace

std::unique_ptr<Suite> MakeBatchResultsSuite() { return std::make_unique<BatchResultsSuite>(); }

}  // namespace bench
}  // namespace claude
