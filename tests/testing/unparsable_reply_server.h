// A claude.v1.Messages server whose replies no protobuf parser accepts: each carries a Struct
// nested deeper than the 100 levels protobuf parses (C++ serializes it all the same). It stands
// for a server of another version, or one with the nesting bug of issue 12, so the client's and
// the CLI's handling of replies that do not parse is tested against real gRPC.
//   CreateMessage  a Message whose stop_details nests too deeply; OK status.
//   StreamMessage  message_start, content_block_start, one text delta, then a delta whose
//                  extra_fields nest too deeply, then four more events to message_stop; OK.
#ifndef TESTS_TESTING_UNPARSABLE_REPLY_SERVER_H_
#define TESTS_TESTING_UNPARSABLE_REPLY_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace claude::testing {

class UnparsableReplyServer {
 public:
  UnparsableReplyServer();  // listens on a free loopback port
  ~UnparsableReplyServer();

  // "127.0.0.1:PORT".
  std::string target() const;

  // Events StreamMessage sends before the one that does not parse, and in all.
  static constexpr int kEventsBeforeUnparsable = 3;
  static constexpr int kEvents = 8;

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace claude::testing

#endif  // TESTS_TESTING_UNPARSABLE_REPLY_SERVER_H_
