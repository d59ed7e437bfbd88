// The raw scenario's target: claude.v1.Messages implemented in this process as fake-anthropic's
// echo ("Echo: " plus the prompt, one stream delta per word), so gRPC's own cost is measured
// without any HTTP behind it.
#ifndef CLIENT_BENCH_ECHO_SERVER_H_
#define CLIENT_BENCH_ECHO_SERVER_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace claude {
namespace bench {

class EchoServer {
 public:
  // Listens on a free loopback port.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start();
  ~EchoServer();

  int port() const { return port_; }
  // Stops serving (calls in flight get up to 2 s); idempotent.
  void Shutdown();

 private:
  EchoServer() = default;

  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace bench
}  // namespace claude

#endif  // CLIENT_BENCH_ECHO_SERVER_H_
