// fake-anthropic's echo mode for the cloud providers' endpoints, checked as strictly as the
// providers check them:
//   Vertex AI  POST .../publishers/anthropic/models/M:rawPredict, :streamRawPredict,
//              .../models/count-tokens:rawPredict: the body must carry
//              "anthropic_version":"vertex-2023-10-16" and no "model"; with a Google token set,
//              `authorization: Bearer <it>`; errors in Google's shape;
//   Bedrock    POST /model/M/invoke, /model/M/invoke-with-response-stream: the body must carry
//              "anthropic_version":"bedrock-2023-05-31" and neither "model" nor "stream"; with
//              AWS credentials set, the SigV4 signature and x-amz-content-sha256 are verified;
//              streams as AWS event-stream frames; errors as AWS's, named in x-amzn-errortype.
#ifndef TESTS_FAKE_UPSTREAM_FAKE_CLOUD_ECHO_H_
#define TESTS_FAKE_UPSTREAM_FAKE_CLOUD_ECHO_H_

#include "absl/strings/string_view.h"
#include "tests/fake_upstream/echo_answer.h"
#include "tests/fake_upstream/fake_anthropic.h"

namespace claude::testing {

// `target` is "MODEL:METHOD", what follows .../publishers/anthropic/models/ in the path.
EchoAnswer VertexEcho(const RecordedRequest& request, int n, absl::string_view target,
                      const FakeCloudCredentials& credentials);

// `target` is "MODEL/invoke[-with-response-stream]", what follows /model/ in the path.
EchoAnswer BedrockEcho(const RecordedRequest& request, int n, absl::string_view target,
                       const FakeCloudCredentials& credentials);

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_FAKE_CLOUD_ECHO_H_
