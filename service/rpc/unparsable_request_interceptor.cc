#include "service/rpc/unparsable_request_interceptor.h"

#include <string>

#include <google/protobuf/descriptor.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "service/observability/protobuf_log.h"

namespace claude {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The request message's name of `method` ("/claude.v1.Messages/CreateMessage"), or "" if unknown.
std::string RequestTypeOf(absl::string_view method) {
  const std::string dotted = absl::StrReplaceAll(absl::StripPrefix(method, "/"), {{"/", "."}});
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted);
  return descriptor == nullptr ? "" : descriptor->input_type()->full_name();
}

class UnparsableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  UnparsableRequestInterceptor(std::string method, const CallObservers* observers)
      : method_(std::move(method)), request_type_(RequestTypeOf(method_)), observers_(observers) {
    record_.method = std::string(absl::StripPrefix(method_, "/"));
    record_.start_time = absl::Now();
    record_.started = CallRecord::Clock::now();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      // Parsed on this thread just now: protobuf's reason, if it logged one, is still here.
      unparsable_ = true;
      reason_ = TakeProtobufLogOfThisThread();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && unparsable_) {
      std::string message = absl::StrCat("request does not parse as ", request_type_);
      if (reason_.empty()) {
        absl::StrAppend(&message, " (malformed bytes, a string that is not UTF-8, or nesting deeper than ",
                        "protobuf's 100 levels)");
      } else {
        absl::StrAppend(&message, ": ", reason_);
      }
      const grpc::Status refused(grpc::StatusCode::INVALID_ARGUMENT, message);
      methods->ModifySendStatus(refused);
      if (observers_ != nullptr) {
        observers_->Start(record_);
        record_.Finish(refused);
        observers_->End(record_);
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const std::string request_type_;
  const CallObservers* const observers_;
  CallRecord record_;
  bool unparsable_ = false;
  std::string reason_;
};

}  // namespace

grpc::experimental::Interceptor* UnparsableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  if (!absl::StartsWith(info->method(), "/claude.v1.")) return nullptr;
  return new UnparsableRequestInterceptor(info->method(), observers_);
}

}  // namespace claude
