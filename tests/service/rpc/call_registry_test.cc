// The registry of calls in flight, with real calls over a mock transport and a mock caller
// side: it lists calls until they leave, refuses new ones once closed, cancels every live call
// at once (each RPC ends with the given status, each transfer is aborted) and skips the calls
// that are gone, and a waiter sees it empty.
#include "service/rpc/call_registry.h"

#include <memory>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/mock_call_environment.h"

namespace claude::testing {
namespace {

using ::testing::_;
using ::testing::AllOf;
using ::testing::Property;

class CallRegistryTest : public ::testing::Test {
 protected:
  // A streamed call whose first attempt has started (transfer id: its position, from 1).
  std::shared_ptr<StreamCall> StartedCall(MockCallerSide* caller) {
    v1::CreateMessageRequest request;
    request.set_model("claude-test");
    request.set_max_tokens(16);
    auto call =
        std::make_shared<StreamCall>(calls_.env, *calls_.dialect().CreateMessage(request, true, {}),
                                     absl::InfiniteFuture(), caller);
    CallRecord record;
    record.method = kStreamMessageMethod;
    call->Begin(record);
    return call;
  }

  MockCallEnvironment calls_;
  CallRegistry registry_;
};

TEST_F(CallRegistryTest, ListsCallsUntilTheyLeave) {
  MockCallerSide caller;
  auto first = StartedCall(&caller);
  auto second = StartedCall(&caller);
  EXPECT_EQ(registry_.size(), 0);
  EXPECT_TRUE(registry_.Add(first));
  EXPECT_TRUE(registry_.Add(second));
  EXPECT_EQ(registry_.size(), 2);
  registry_.Remove(first.get());
  EXPECT_EQ(registry_.size(), 1);
  registry_.Remove(first.get());  // twice: no harm
  EXPECT_EQ(registry_.size(), 1);
  registry_.Remove(second.get());
  EXPECT_EQ(registry_.size(), 0);
  EXPECT_CALL(caller, SendStatus).Times(2);  // the calls end as the test ends
  first->Cancel();
  second->Cancel();
}

TEST_F(CallRegistryTest, AClosedRegistryRefusesNewCalls) {
  MockCallerSide caller;
  auto listed = StartedCall(&caller);
  ASSERT_TRUE(registry_.Add(listed));
  registry_.Close();
  auto late = StartedCall(&caller);
  EXPECT_FALSE(registry_.Add(late)) << "the server is draining: the call must not start";
  EXPECT_EQ(registry_.size(), 1) << "calls already listed stay";
  EXPECT_CALL(caller, SendStatus).Times(2);
  listed->Cancel();
  late->Cancel();
}

TEST_F(CallRegistryTest, CancelAllEndsEveryLiveCallWithTheStatusAndAbortsItsTransfer) {
  MockCallerSide first_caller;
  MockCallerSide second_caller;
  auto first = StartedCall(&first_caller);
  auto second = StartedCall(&second_caller);
  ASSERT_TRUE(registry_.Add(first));
  ASSERT_TRUE(registry_.Add(second));
  const auto stopping = AllOf(Property(&grpc::Status::error_code, grpc::StatusCode::UNAVAILABLE),
                              Property(&grpc::Status::error_message, "the server is stopping"));
  EXPECT_CALL(first_caller, SendStatus(stopping, _)).Times(1);
  EXPECT_CALL(second_caller, SendStatus(stopping, _)).Times(1);
  EXPECT_CALL(calls_.transport, Cancel(1)).Times(1);
  EXPECT_CALL(calls_.transport, Cancel(2)).Times(1);
  registry_.CancelAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
}

TEST_F(CallRegistryTest, CancelAllSkipsCallsThatAreGone) {
  MockCallerSide caller;
  auto gone = StartedCall(&caller);
  ASSERT_TRUE(registry_.Add(gone));
  EXPECT_CALL(caller, SendStatus).Times(1);
  gone->Cancel();
  gone->Detach();
  const std::weak_ptr<StreamCall> watch = gone;
  gone.reset();
  calls_.transfers.clear();  // the transport let go of it too
  ASSERT_TRUE(watch.expired()) << "the registry holds its calls weakly, never alive";
  EXPECT_EQ(registry_.size(), 1) << "listed until its reactor removes it";
  EXPECT_CALL(caller, SendStatus).Times(0);
  registry_.CancelAll(grpc::Status::CANCELLED);  // nothing to reach; no crash (ASan)
}

TEST_F(CallRegistryTest, WaitEmptyReturnsWhenTheLastCallLeaves) {
  EXPECT_TRUE(registry_.WaitEmpty(absl::ZeroDuration())) << "empty from the start";
  MockCallerSide caller;
  auto call = StartedCall(&caller);
  ASSERT_TRUE(registry_.Add(call));
  EXPECT_FALSE(registry_.WaitEmpty(absl::Milliseconds(1)));
  std::thread leaving([&] { registry_.Remove(call.get()); });
  EXPECT_TRUE(registry_.WaitEmpty(absl::Seconds(60)));
  leaving.join();
  EXPECT_CALL(caller, SendStatus).Times(1);
  call->Cancel();
}

}  // namespace
}  // namespace claude::testing
