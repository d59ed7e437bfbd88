// Test helpers: JSON documents compared as documents, and the shared fixtures.
#ifndef TESTS_TESTING_JSON_TESTING_H_
#define TESTS_TESTING_JSON_TESTING_H_

#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <gtest/gtest.h>

namespace claude::testing {

// Whether two JSON texts hold equal documents: objects compared regardless of member order,
// numbers by value. The failure message shows both documents and the first difference.
::testing::AssertionResult JsonEqual(const std::string& expected, const std::string& actual);

// The text of tests/fixtures/<name>.
std::string ReadFixture(const std::string& name);

// tests/fixtures/<name>.sse as the API documents it: tool_use.sse with the ", " fragment its
// copy lacks (see tests/fixtures/README.md); the others as they are.
std::string DocumentedTranscript(const std::string& name);

// Ways to cut `body` for replay: whole, one byte at a time, in 7- and 64-byte pieces, and in
// `random_cuts` random splits (pieces of 1..40 bytes; seeded, so runs repeat). The pieces of
// each way concatenate to `body`.
std::vector<std::vector<std::string>> Chunkings(const std::string& body, int random_cuts = 50);

// The data payloads of an SSE body, in order.
std::vector<std::string> SseDataOf(const std::string& body);

// The paths inside `message` where something landed outside the modelled fields: a non-empty
// extra_fields or a set `unknown` union member. Empty when the proto modelled everything.
std::vector<std::string> UnmodelledPaths(const google::protobuf::Message& message);

}  // namespace claude::testing

#endif  // TESTS_TESTING_JSON_TESTING_H_
