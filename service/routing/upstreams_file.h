// The upstreams file (--upstreams_file): the named upstreams the server may call (base URL,
// dialect, credentials, timeouts, connection limit, model map) and the routes from a model name
// to an ordered list of them. YAML, with a typed schema: a key the schema does not know, a value
// of the wrong type or out of range, a reference to an unknown upstream are errors naming the
// file, the line and the key ("upstreams.yaml:14: upstreams[1].auth.type: ...").
//
//   upstreams:
//     - name: bedrock-east
//       dialect: bedrock            # messages | chat_completions | vertex | bedrock
//       region: us-east-1           # bedrock, vertex: where the endpoint is
//       base_url: http://127.0.0.1:9000   # optional for vertex and bedrock (empty: the region's
//                                         # public endpoint); required for the others
//       auth: {type: aws_sigv4}     # access key, secret, session token from AWS_* variables, or
//                                   # access_key_id_file / secret_access_key_file /
//                                   # session_token_file / credentials_file
//       connect_timeout: 5s         # optional; the server's flags otherwise
//       timeout: 10m
//       max_connections: 100        # per host; 0 = unlimited
//       models:                     # the caller's model name -> the upstream's model id
//         claude-sonnet-4-5: anthropic.claude-sonnet-4-5-20250929-v1:0
//     - name: vertex-us
//       dialect: vertex
//       project: my-project
//       region: us-east5
//       auth: {type: google_token, token_file: /var/run/secrets/google/token}
//     - name: anthropic
//       dialect: messages
//       base_url: https://api.anthropic.com
//       auth: {type: x-api-key, key_files: [/secrets/key-a, /secrets/key-b]}   # or bearer
//   routes:
//     - model: claude-sonnet-4-5     # exact, or a prefix ending in "*" ("claude-*", "*")
//       upstreams:                   # in order; entries sharing a rank spread calls by weight
//         - {upstream: bedrock-east, rank: 1, weight: 3}
//         - {upstream: vertex-us, rank: 1, weight: 1}
//         - anthropic                # a name alone: the next rank, weight 1
//   batches: anthropic              # optional: the messages upstream that serves claude.v1.
//                                    # MessageBatches (all its RPCs); default: the first
//                                    # messages upstream; none: those RPCs are UNIMPLEMENTED
//
// An entry's rank defaults to the previous entry's rank + 1 (the first: 1), so a plain list is
// an ordered failover; ranks never decrease along the list.
#ifndef SERVICE_ROUTING_UPSTREAMS_FILE_H_
#define SERVICE_ROUTING_UPSTREAMS_FILE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace claude {

enum class UpstreamAuthType {
  kNone,         // no credentials (a local fake, a gateway that needs none)
  kXApiKey,      // x-api-key: <key>, keys from key_files, used in turn
  kBearer,       // authorization: Bearer <key>, same pool
  kGoogleToken,  // authorization: Bearer <token>, from a file a token-refreshing sidecar writes
  kAwsSigV4,     // AWS Signature Version 4
};

// Where AWS credentials come from. All empty: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN.
struct AwsCredentialPaths {
  std::string access_key_id_file;
  std::string secret_access_key_file;
  std::string session_token_file;  // optional
  std::string credentials_file;    // the shared credentials file (INI, [default] profile)
};

struct UpstreamConfig {
  std::string name;
  std::string dialect;   // "messages", "chat_completions", "vertex", "bedrock"
  // scheme://host[:port][/prefix], no trailing '/'; empty for vertex and bedrock without one:
  // the region's public endpoint (VertexEndpoint, BedrockEndpoint in their dialects' headers).
  std::string base_url;
  std::string region;    // vertex, bedrock
  std::string project;   // vertex
  UpstreamAuthType auth = UpstreamAuthType::kNone;
  std::vector<std::string> key_files;  // x-api-key, bearer
  std::string token_file;              // google_token
  AwsCredentialPaths aws;              // aws_sigv4
  // Zero: the server's flag applies.
  absl::Duration connect_timeout = absl::ZeroDuration();
  absl::Duration timeout = absl::ZeroDuration();
  long max_connections = 0;  // per host; 0 = unlimited
  // The caller's model name -> the upstream's model id; a name not listed is sent as is.
  std::vector<std::pair<std::string, std::string>> models;
  int line = 0;  // where it is defined, for messages

  // The upstream's id for the caller's `model`.
  const std::string& UpstreamModel(const std::string& model) const;
};

struct RouteTarget {
  size_t upstream = 0;  // index into UpstreamsConfig::upstreams
  int rank = 1;
  int weight = 1;
};

struct RouteConfig {
  std::string model;  // as written: "claude-sonnet-4-5", "claude-*", "*"
  std::vector<RouteTarget> targets;  // in file order; ranks non-decreasing
  int line = 0;
};

struct UpstreamsConfig {
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  // The upstream (index into `upstreams`, always of dialect "messages") that serves every
  // Message Batches RPC: a batch lives on the upstream that created it, so these RPCs are
  // never routed by model nor failed over. nullopt: no messages upstream.
  std::optional<size_t> batches;
};

// Parses the text of an upstreams file; `file_name` prefixes every error message.
// INVALID_ARGUMENT "<file_name>:<line>: <key path>: <what is wrong>".
absl::StatusOr<UpstreamsConfig> ParseUpstreamsFile(absl::string_view text,
                                                   absl::string_view file_name);

// Reads and parses the file at `path` (at most 1 MiB).
absl::StatusOr<UpstreamsConfig> LoadUpstreamsFile(const std::string& path);

}  // namespace claude

#endif  // SERVICE_ROUTING_UPSTREAMS_FILE_H_
