#include "tests/testing/unparsable_reply_server.h"

#include <vector>

#include <google/protobuf/struct.pb.h>

#include "absl/strings/str_cat.h"
#include "claude/v1/messages.grpc.pb.h"

namespace claude::testing {
namespace {

// A Struct whose JSON nests 40 objects: 120 levels of protobuf messages.
void FillTooDeep(google::protobuf::Struct* root) {
  google::protobuf::Struct* s = root;
  for (int i = 0; i < 40; ++i) s = (*s->mutable_fields())["a"].mutable_struct_value();
}

v1::MessageStreamEvent TextDelta(const std::string& text) {
  v1::MessageStreamEvent event;
  event.mutable_content_block_delta()->mutable_delta()->mutable_text_delta()->set_text(text);
  return event;
}

std::vector<v1::MessageStreamEvent> StreamEvents() {
  std::vector<v1::MessageStreamEvent> events(UnparsableReplyServer::kEvents);
  events[0].mutable_message_start()->mutable_message()->set_id("msg_deep");
  events[1].mutable_content_block_start()->mutable_content_block()->mutable_text();
  events[2] = TextDelta("Hello");
  events[3] = TextDelta(" deep");
  FillTooDeep(events[3].mutable_content_block_delta()->mutable_delta()->mutable_text_delta()->mutable_extra_fields());
  events[4] = TextDelta(" world");
  events[5].mutable_content_block_stop();
  events[6].mutable_message_delta()->mutable_delta()->set_stop_reason(v1::STOP_REASON_END_TURN);
  events[7].mutable_message_stop();
  return events;
}

}  // namespace

class UnparsableReplyServer::Service final : public v1::Messages::CallbackService {
  grpc::ServerUnaryReactor* CreateMessage(grpc::CallbackServerContext* context, const v1::CreateMessageRequest*,
                                          v1::Message* reply) override {
    reply->set_id("msg_deep");
    FillTooDeep(reply->mutable_stop_details());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<v1::MessageStreamEvent>* StreamMessage(grpc::CallbackServerContext*,
                                                                  const v1::CreateMessageRequest*) override {
    class Writer final : public grpc::ServerWriteReactor<v1::MessageStreamEvent> {
     public:
      Writer() : events_(StreamEvents()) { Next(); }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (next_ == events_.size()) {
          Finish(grpc::Status::OK);
          return;
        }
        StartWrite(&events_[next_++]);
      }
      std::vector<v1::MessageStreamEvent> events_;
      size_t next_ = 0;
    };
    return new Writer();
  }
};

UnparsableReplyServer::UnparsableReplyServer() : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
}

UnparsableReplyServer::~UnparsableReplyServer() { server_->Shutdown(); }

std::string UnparsableReplyServer::target() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace claude::testing
