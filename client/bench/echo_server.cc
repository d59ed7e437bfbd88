#include "client/bench/echo_server.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "claude/v1/messages.grpc.pb.h"
#include "client/bench/bench_requests.h"

namespace claude {
namespace bench {
namespace {

// Message ids of the echo replies; any thread may answer.
std::atomic<int64_t> echo_ids{0};

void FillEchoMessage(const v1::CreateMessageRequest& request, bool with_content,
                     v1::Message* message) {
  const std::string text = "Echo: " + LastUserText(request);
  message->set_id(absl::StrCat("msg_bench_", ++echo_ids));
  message->set_type("message");
  message->set_role(v1::ROLE_ASSISTANT);
  message->set_model(request.model());
  const int64_t output_tokens = static_cast<int64_t>(WordPieces(text).size());
  if (with_content) {
    message->add_content()->mutable_text()->set_text(text);
    message->set_stop_reason(v1::STOP_REASON_END_TURN);
  }
  message->mutable_usage()->set_input_tokens(
      static_cast<int64_t>(WordPieces(LastUserText(request)).size()));
  message->mutable_usage()->set_output_tokens(with_content ? output_tokens : 1);
}

// Writes the events fake-anthropic's echo stream carries, one write in flight.
class EchoWriter : public grpc::ServerWriteReactor<v1::MessageStreamEvent> {
 public:
  explicit EchoWriter(const v1::CreateMessageRequest& request) {
    FillEchoMessage(request, false,
                    events_.emplace_back().mutable_message_start()->mutable_message());
    events_.emplace_back().mutable_content_block_start()->mutable_content_block()->mutable_text();
    const std::vector<std::string> pieces = WordPieces("Echo: " + LastUserText(request));
    for (const std::string& piece : pieces) {
      events_.emplace_back()
          .mutable_content_block_delta()
          ->mutable_delta()
          ->mutable_text_delta()
          ->set_text(piece);
    }
    events_.emplace_back().mutable_content_block_stop();
    v1::MessageDeltaEvent* delta = events_.emplace_back().mutable_message_delta();
    delta->mutable_delta()->set_stop_reason(v1::STOP_REASON_END_TURN);
    delta->mutable_usage()->set_output_tokens(static_cast<int64_t>(pieces.size()));
    events_.emplace_back().mutable_message_stop();
    NextWrite();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    NextWrite();
  }
  void OnDone() override { delete this; }

 private:
  void NextWrite() {
    if (next_ < events_.size()) {
      StartWrite(&events_[next_++]);
    } else {
      Finish(grpc::Status::OK);
    }
  }

  std::vector<v1::MessageStreamEvent> events_;
  size_t next_ = 0;
};

class EchoService final : public v1::Messages::CallbackService {
 public:
  grpc::ServerUnaryReactor* CreateMessage(grpc::CallbackServerContext* context,
                                          const v1::CreateMessageRequest* request,
                                          v1::Message* reply) override {
    FillEchoMessage(*request, true, reply);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerWriteReactor<v1::MessageStreamEvent>* StreamMessage(
      grpc::CallbackServerContext* /*context*/, const v1::CreateMessageRequest* request) override {
    return new EchoWriter(*request);
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start() {
  std::unique_ptr<EchoServer> echo(new EchoServer);
  echo->service_ = std::make_unique<EchoService>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &echo->port_);
  builder.RegisterService(echo->service_.get());
  echo->server_ = builder.BuildAndStart();
  if (echo->server_ == nullptr || echo->port_ == 0) {
    return absl::UnavailableError("cannot start the in-process echo server");
  }
  return echo;
}

EchoServer::~EchoServer() { Shutdown(); }

void EchoServer::Shutdown() {
  if (server_ == nullptr || shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace bench
}  // namespace claude
