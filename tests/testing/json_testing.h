// Test helpers: JSON documents compared as documents or read member by member, and the shared
// fixtures.
#ifndef TESTS_TESTING_JSON_TESTING_H_
#define TESTS_TESTING_JSON_TESTING_H_

#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

namespace claude::testing {

// Whether two JSON texts hold equal documents: objects compared regardless of member order,
// numbers by value. The failure message shows both documents and the first difference.
::testing::AssertionResult JsonEqual(const std::string& expected, const std::string& actual);

// `text` (an exported payload, a reply body) as a JSON object; a test failure naming the parse
// error when it is not one.
google::protobuf::Struct ParsedJson(const std::string& text);

// One line of a JSON log as its object: also a test failure when `line` holds a line break, since
// a log line split in two is not one record any more.
google::protobuf::Struct ParsedLogLine(const std::string& line);

// The member `name` of `object`. When there is none: a test failure naming it, and an unset
// Value (no kind), so the test reads on; a test of absence asks fields().contains() instead.
const google::protobuf::Value& JsonField(const google::protobuf::Struct& object,
                                         const std::string& name);

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
