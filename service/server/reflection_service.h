// gRPC server reflection, answered from the process's generated descriptor pool: every service
// the server registers (claude.v1.*, grpc.health.v1.Health, the reflection services themselves)
// is generated code linked into the binary, so its file and the files it imports are there.
// gRPC 1.51 ships only grpc.reflection.v1alpha and resolves only what its own plugin saw;
// this one implementation serves v1alpha and v1 (v1alpha's proto reuses v1's messages).
#ifndef SERVICE_SERVER_REFLECTION_SERVICE_H_
#define SERVICE_SERVER_REFLECTION_SERVICE_H_

#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_set.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace claude {

// Answers one reflection request; `sent_files` holds the files this stream already sent (a
// file is sent once per stream, as clients expect) and grows with the answer's.
grpc::reflection::v1::ServerReflectionResponse AnswerReflectionRequest(
    const grpc::reflection::v1::ServerReflectionRequest& request, const std::vector<std::string>& services,
    absl::flat_hash_set<std::string>* sent_files);

// The one stream both services answer with (their messages are the same types).
using ReflectionReactor = grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest,
                                                  grpc::reflection::v1::ServerReflectionResponse>;
ReflectionReactor* NewReflectionReactor(const std::vector<std::string>* services);

// grpc.reflection.v1.ServerReflection, or v1alpha's: `Service` is either generated service.
template <typename Service>
class ReflectionService final : public Service::CallbackService {
 public:
  // `services`: the fully qualified names list_services answers.
  explicit ReflectionService(std::vector<std::string> services) : services_(std::move(services)) {}
  ReflectionReactor* ServerReflectionInfo(grpc::CallbackServerContext* /*context*/) override {
    return NewReflectionReactor(&services_);
  }

 private:
  const std::vector<std::string> services_;
};

using ReflectionServiceV1 = ReflectionService<grpc::reflection::v1::ServerReflection>;
using ReflectionServiceV1Alpha = ReflectionService<grpc::reflection::v1alpha::ServerReflection>;

}  // namespace claude

#endif  // SERVICE_SERVER_REFLECTION_SERVICE_H_
