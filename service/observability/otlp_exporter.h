// One span per RPC, exported over OTLP/HTTP with JSON encoding (POST <endpoint>/v1/traces) to an
// OpenTelemetry collector (--otlp_endpoint). Spans wait in a bounded queue; a batch is sent
// through the upstream Transport, so the POST runs on the curl loop like every other request
// (no credentials: the request has no signer). At most one export is in flight: while one is, or
// while the collector is slow or down, spans queue up to the bound, and past it they are dropped
// and counted (dropped_spans()). Nothing blocks an RPC.
#ifndef SERVICE_OBSERVABILITY_OTLP_EXPORTER_H_
#define SERVICE_OBSERVABILITY_OTLP_EXPORTER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/rpc/call_record.h"
#include "service/upstream/transport.h"

namespace claude {

struct OtlpExporterOptions {
  // The collector: "http://collector:4318" (/v1/traces is added) or the full traces URL.
  std::string endpoint;
  size_t max_queued_spans = 4096;
  size_t max_batch_spans = 512;
  // A batch is sent at least this often while spans wait.
  absl::Duration flush_interval = absl::Seconds(2);
  absl::Duration export_timeout = absl::Seconds(10);
  // How long Shutdown() waits for the last exports to be answered.
  absl::Duration shutdown_wait = absl::Seconds(2);
};

// The span of `record` as one OTLP JSON Span object (kind SERVER; name = the method; rpc.*,
// gen_ai.* and the token usage as attributes; status ERROR with the message on failure).
std::string FormatOtlpSpan(const CallRecord& record);

class OtlpExporter final : public CallObserver {
 public:
  // `transport` must outlive Shutdown() (or the exporter, without it).
  OtlpExporter(Transport* transport, OtlpExporterOptions options);
  // Shutdown(), if not done.
  ~OtlpExporter() override;
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  void OnCallEnd(const CallRecord& record) override;
  // Stops the flush thread and sends what is queued, waiting up to shutdown_wait for the
  // answers; spans after this are dropped. Call before the transport goes away.
  void Shutdown();

  int64_t dropped_spans() const;
  int64_t exported_spans() const;
  int64_t failed_exports() const;

 private:
  // What the exporter and its exports in flight share (an answer may come after the exporter
  // is gone).
  struct State {
    Mutex mu;
    std::condition_variable wake;
    std::deque<std::string> queue ABSL_GUARDED_BY(mu);
    bool in_flight ABSL_GUARDED_BY(mu) = false;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    int64_t dropped ABSL_GUARDED_BY(mu) = 0;
    int64_t exported ABSL_GUARDED_BY(mu) = 0;
    int64_t failed ABSL_GUARDED_BY(mu) = 0;
  };
  class ExportSink;

  // Sends one batch if none is in flight and spans wait.
  void MaybeExport();
  void Run();

  Transport* const transport_;
  const OtlpExporterOptions options_;
  const std::string url_;
  const std::shared_ptr<State> state_;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_OTLP_EXPORTER_H_
