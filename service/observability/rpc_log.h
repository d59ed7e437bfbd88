// One structured JSON line per RPC, from its CallRecord. The prompt and the reply's text are
// written only when the records carry them (--log_bodies); the API key and the caller's
// metadata (bearer tokens) are never in a record, so they can never reach a line.
#ifndef SERVICE_OBSERVABILITY_RPC_LOG_H_
#define SERVICE_OBSERVABILITY_RPC_LOG_H_

#include <memory>
#include <string>

#include "service/observability/line_sink.h"
#include "service/rpc/call_record.h"

namespace claude {

// The record as one JSON object on one line (README.md, "Observability", lists the fields).
std::string FormatRpcLogLine(const CallRecord& record);

class RpcLogger final : public CallObserver {
 public:
  explicit RpcLogger(std::shared_ptr<LineSink> sink) : sink_(std::move(sink)) {}
  void OnCallEnd(const CallRecord& record) override { sink_->Write(FormatRpcLogLine(record)); }

 private:
  const std::shared_ptr<LineSink> sink_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_RPC_LOG_H_
