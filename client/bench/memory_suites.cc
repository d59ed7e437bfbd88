#include "client/bench/memory_suites.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "claude/v1/messages.grpc.pb.h"
#include "client/bench/child_process.h"
#include "client/bench/grpc_load.h"

namespace claude {
namespace bench {

absl::Status SuiteProcesses::Start(const SuiteBinaries& binaries,
                                   const std::vector<std::string>& fake_flags) {
  absl::StatusOr<std::string> url = StartFake(&fake, binaries.fake, fake_flags);
  if (!url.ok()) return url.status();
  upstream = *url;
  absl::StatusOr<int> server_port =
      StartServer(&server, binaries.server, *url, binaries.server_flags);
  if (!server_port.ok()) return server_port.status();
  port = *server_port;
  return absl::OkStatus();
}

ReadPacer::ReadPacer(double bytes_per_s)
    : bytes_per_s_(bytes_per_s), start_(std::chrono::steady_clock::now()) {}

double ReadPacer::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ReadPacer::Read(int64_t bytes) {
  if (bytes_per_s_ <= 0) return;
  bytes_ += bytes;
  // Sleeps only when more than 5 ms ahead, so that a fast reader does not sleep per message.
  const double ahead_s = static_cast<double>(bytes_) / bytes_per_s_ - seconds();
  if (ahead_s > 0.005) std::this_thread::sleep_for(std::chrono::duration<double>(ahead_s));
}

namespace {

void Pause(absl::Duration d) { std::this_thread::sleep_for(absl::ToChronoNanoseconds(d)); }

// Streams held open until cancelled. Reactors are owned here and destroyed only after every
// one of them is done, so cancelling never races a deletion.
class StreamPool {
 public:
  ~StreamPool() { CancelAllAndWait(); }

  void Open(v1::Messages::Stub* stub, const v1::CreateMessageRequest& request) {
    auto stream = std::make_unique<HeldStream>(this);
    HeldStream* s = stream.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      streams_.push_back(std::move(stream));
    }
    stub->async()->StreamMessage(&s->context, &request, s);
    s->StartRead(&s->event);
    s->StartCall();
  }

  // Waits until `n` streams have received their first event, or one failed, or the timeout.
  bool WaitOpen(int n, absl::Duration timeout, std::string* error) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool ok = changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
      return open_ >= n || !first_error_.empty();
    });
    if (!first_error_.empty()) {
      *error = first_error_;
      return false;
    }
    if (!ok) *error = absl::StrCat("only ", open_, " of ", n, " streams open after ", absl::FormatDuration(timeout));
    return ok;
  }

  void CancelAllAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto& s : streams_) s->context.TryCancel();
    changed_.wait(lock, [&] { return done_ == static_cast<int>(streams_.size()); });
    streams_.clear();
    done_ = 0;
    open_ = 0;
  }

 private:
  class HeldStream : public grpc::ClientReadReactor<v1::MessageStreamEvent> {
   public:
    explicit HeldStream(StreamPool* pool) : pool_(pool) {}
    void OnReadDone(bool ok) override {
      if (!ok) return;
      if (!got_first_) {
        got_first_ = true;
        pool_->Opened();
      }
      StartRead(&event);
    }
    void OnDone(const grpc::Status& status) override { pool_->Done(status); }

    grpc::ClientContext context;
    v1::MessageStreamEvent event;

   private:
    StreamPool* pool_;
    bool got_first_ = false;
  };

  void Opened() {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
    changed_.notify_all();
  }
  void Done(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    if (status.error_code() != grpc::StatusCode::CANCELLED && first_error_.empty()) {
      first_error_ = absl::StrCat("a stream ended with ", CallError(status));
    }
    changed_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<HeldStream>> streams_;
  int open_ = 0;
  int done_ = 0;
  std::string first_error_;
};

}  // namespace

absl::StatusOr<MemoryResult> RunMemorySuite(const SuiteBinaries& binaries,
                                            const v1::CreateMessageRequest& request,
                                            const MemoryOptions& options) {
  MemoryResult result;
  result.fd_limit = RaiseFileLimit();
  // Streams that last far longer than the suite, one small event per drip interval.
  SuiteProcesses p;
  if (absl::Status s = p.Start(
          binaries, {"--generate_deltas=1000000", "--delta_bytes=16",
                     absl::StrCat("--chunk_delay_ms=", absl::ToInt64Milliseconds(options.drip))});
      !s.ok()) {
    return s;
  }
  Stubs stubs = MakeStubs(absl::StrCat("127.0.0.1:", p.port), options.channels);
  std::string error;
  {
    // Warm-up: the first streams grow pools (threads, arenas, connection caches) once.
    StreamPool warmup;
    for (int i = 0; i < 64; ++i) warmup.Open(stubs[i % stubs.size()].get(), request);
    if (!warmup.WaitOpen(64, options.open_timeout, &error)) return absl::UnavailableError(error);
  }
  Pause(absl::Milliseconds(500));
  result.baseline_kb = p.server.StatusKb("VmRSS");

  StreamPool pool;
  int opened = 0;
  for (int level : options.levels) {
    for (; opened < level; ++opened) pool.Open(stubs[opened % stubs.size()].get(), request);
    if (!pool.WaitOpen(level, options.open_timeout, &error)) {
      result.stopped_by = absl::StrCat(level, " streams: ", error);
      break;
    }
    // Every stream has its first event; let a couple of drips go by so the steady state (an
    // event in flight now and then on each stream) is what is measured.
    Pause(std::max(absl::Seconds(1), 2 * options.drip));
    MemoryLevel m;
    m.streams = level;
    m.rss_kb = p.server.StatusKb("VmRSS");
    m.kb_per_stream = static_cast<double>(m.rss_kb - result.baseline_kb) / level;
    result.levels.push_back(m);
  }
  pool.CancelAllAndWait();
  return result;
}

absl::StatusOr<SlowReaderResult> RunSlowReaderSuite(const SuiteBinaries& binaries,
                                                    const v1::CreateMessageRequest& request,
                                                    const SlowReaderOptions& options) {
  const int64_t deltas = (options.megabytes << 20) / options.delta_bytes;
  SuiteProcesses p;
  if (absl::Status s = p.Start(binaries, {absl::StrCat("--generate_deltas=", deltas),
                                          absl::StrCat("--delta_bytes=", options.delta_bytes)});
      !s.ok()) {
    return s;
  }
  Stubs stubs = MakeStubs(absl::StrCat("127.0.0.1:", p.port), 1);
  {
    // Warm-up: a little of a stream, read fast, then cancelled.
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::MessageStreamEvent>> reader =
        stubs[0]->StreamMessage(&context, request);
    v1::MessageStreamEvent event;
    for (int i = 0; i < 2000 && reader->Read(&event); ++i) {
    }
    context.TryCancel();
    while (reader->Read(&event)) {
    }
    reader->Finish();
  }
  Pause(absl::Milliseconds(500));
  SlowReaderResult result;
  PeakRssSampler peak(p.server);
  result.baseline_kb = peak.baseline_kb();
  ReadPacer pacer(options.read_bytes_per_s);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  std::unique_ptr<grpc::ClientReader<v1::MessageStreamEvent>> reader =
      stubs[0]->StreamMessage(&context, request);
  v1::MessageStreamEvent event;
  while (reader->Read(&event)) {
    ++result.events;
    int64_t text_bytes = 0;
    if (event.has_content_block_delta()) {
      text_bytes =
          static_cast<int64_t>(event.content_block_delta().delta().text_delta().text().size());
    }
    result.text_bytes += text_bytes;
    pacer.Read(text_bytes);
  }
  const grpc::Status status = reader->Finish();
  result.seconds = pacer.seconds();
  result.peak_kb = peak.Stop();
  result.growth_mb = static_cast<double>(result.peak_kb - result.baseline_kb) / 1024.0;
  result.status = status.ok() ? "OK" : CallError(status);
  return result;
}

}  // namespace bench
}  // namespace claude
