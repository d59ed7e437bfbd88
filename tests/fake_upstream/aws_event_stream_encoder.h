// Writes AWS event-stream messages (the framing service/upstream/aws_event_stream.h decodes), with
// real CRCs, for fake-anthropic's Bedrock endpoints and the decoder's tests.
#ifndef TESTS_FAKE_UPSTREAM_AWS_EVENT_STREAM_ENCODER_H_
#define TESTS_FAKE_UPSTREAM_AWS_EVENT_STREAM_ENCODER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace claude {
namespace testing {

// One message whose headers are all strings (type 7), as Bedrock sends them.
std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& string_headers,
    absl::string_view payload);

// Bedrock's frame for one Messages API stream event: `:event-type chunk`, payload
// {"bytes":"<base64 of event_json>"}.
std::string BedrockChunkFrame(absl::string_view event_json);

// Bedrock's frame for an exception in the stream: `:message-type exception`,
// `:exception-type <type>`, payload {"message":"<message>"}.
std::string BedrockExceptionFrame(absl::string_view exception_type, absl::string_view message);

}  // namespace testing
}  // namespace claude

#endif  // TESTS_FAKE_UPSTREAM_AWS_EVENT_STREAM_ENCODER_H_
