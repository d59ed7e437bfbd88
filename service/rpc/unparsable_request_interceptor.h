// Requests that do not parse. gRPC parses each request before any handler runs; when that fails
// (a string that is not UTF-8, a Struct nested deeper than protobuf's 100 levels, garbage bytes),
// gRPC 1.51 answers UNIMPLEMENTED with an empty message, no handler runs, and so no RPC record
// is made. This interceptor turns that answer into
//
//   INVALID_ARGUMENT "request does not parse as claude.v1.CreateMessageRequest: <why>"
//
// where <why> is protobuf's own reason when it logged one on the parsing thread (see
// service/observability/protobuf_log.h), and makes the RPC's record like every refused RPC's
// (method, status, latency; no model or caller, since neither could be read).
#ifndef SERVICE_RPC_UNPARSABLE_REQUEST_INTERCEPTOR_H_
#define SERVICE_RPC_UNPARSABLE_REQUEST_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "service/rpc/call_record.h"

namespace claude {

class UnparsableRequestInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `observers` (may be null) get the record of each refused RPC; they outlive the server.
  explicit UnparsableRequestInterceptorFactory(const CallObservers* observers) : observers_(observers) {}

  // An interceptor for claude.v1 methods; none for others (health, reflection).
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  const CallObservers* const observers_;
};

}  // namespace claude

#endif  // SERVICE_RPC_UNPARSABLE_REQUEST_INTERCEPTOR_H_
