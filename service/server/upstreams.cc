#include "service/server/upstreams.h"

#include <sys/stat.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/config/api_key_source.h"
#include "service/observability/server_log.h"
#include "service/upstream/api_key_signer.h"
#include "service/upstream/aws_credentials.h"
#include "service/upstream/bedrock_dialect.h"
#include "service/upstream/messages_dialect.h"
#include "service/upstream/model_mapping_dialect.h"
#include "service/upstream/vertex_dialect.h"

namespace claude {
namespace {

absl::Status Unsupported(const UpstreamConfig& upstream, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("upstream \"", upstream.name, "\" (line ", upstream.line, "): ", what));
}

absl::StatusOr<std::shared_ptr<AwsCredentialsSource>> AwsCredentialsOf(const UpstreamConfig& upstream) {
  const AwsCredentialPaths& aws = upstream.aws;
  std::shared_ptr<AwsCredentialsSource> source;
  if (!aws.access_key_id_file.empty()) {
    source = std::make_shared<AwsCredentialFiles>(aws.access_key_id_file, aws.secret_access_key_file,
                                                  aws.session_token_file);
  } else if (!aws.credentials_file.empty()) {
    const char* profile = std::getenv("AWS_PROFILE");
    source = std::make_shared<AwsSharedCredentialsFile>(
        aws.credentials_file, profile != nullptr && *profile != '\0' ? profile : "default");
  } else {
    absl::StatusOr<AwsCredentials> environment = AwsCredentialsFromEnvironment();
    if (!environment.ok()) return Unsupported(upstream, environment.status().message());
    source = std::make_shared<StaticAwsCredentials>(*std::move(environment));
  }
  // Checked now, so a missing file stops the server at start rather than failing every call.
  if (absl::StatusOr<AwsCredentials> now = source->Credentials(); !now.ok()) {
    return Unsupported(upstream, now.status().message());
  }
  return source;
}

// Messages and Chat Completions requests name the model only in their body: the map is applied
// by a decorator over the dialect just created (or its error). (Vertex and Bedrock take it
// themselves: their URLs name the model.)
template <typename CreatedDialect>
absl::StatusOr<std::shared_ptr<const Dialect>> WithModelMap(
    absl::StatusOr<std::unique_ptr<CreatedDialect>> dialect, const UpstreamConfig& upstream) {
  if (!dialect.ok()) return dialect.status();
  if (upstream.models.empty()) return std::shared_ptr<const Dialect>(*std::move(dialect));
  return std::make_shared<ModelMappingDialect>(*std::move(dialect), upstream.models);
}

absl::StatusOr<std::shared_ptr<const Dialect>> DialectOf(const UpstreamConfig& upstream,
                                                         const UpstreamDefaults& defaults) {
  if (upstream.dialect == "messages") {
    MessagesDialectOptions options;
    options.base_url = upstream.base_url;
    options.auth_scheme = upstream.auth == UpstreamAuthType::kBearer ? "bearer" : "x-api-key";
    options.anthropic_version = defaults.anthropic_version;
    options.max_event_bytes = defaults.max_event_bytes;
    // No key here: the router's key pool signs each attempt with one of key_files.
    return WithModelMap(MessagesDialect::Create(std::move(options)), upstream);
  }
  if (upstream.dialect == "chat_completions") {
    ChatCompletionsOptions options;
    options.base_url = upstream.base_url;
    options.auth_scheme = upstream.auth == UpstreamAuthType::kXApiKey ? "x-api-key" : "bearer";
    options.thinking = defaults.chat_thinking;
    options.max_event_bytes = defaults.max_event_bytes;
    // No key here either: the key pool signs.
    return WithModelMap(ChatCompletionsDialect::Create(std::move(options)), upstream);
  }
  if (upstream.dialect == "vertex") {
    VertexDialectOptions options;
    options.base_url = upstream.base_url.empty() ? VertexEndpoint(upstream.region) : upstream.base_url;
    options.project = upstream.project;
    options.region = upstream.region;
    options.models = upstream.models;
    options.max_event_bytes = defaults.max_event_bytes;
    if (upstream.auth == UpstreamAuthType::kGoogleToken) {
      options.signer = std::make_shared<ApiKeySigner>(
          std::make_shared<FileApiKeySource>(upstream.token_file), ApiKeyScheme::kBearer);
    }
    return std::shared_ptr<const Dialect>(std::make_shared<VertexDialect>(std::move(options)));
  }
  if (upstream.dialect == "bedrock") {
    BedrockDialectOptions options;
    options.base_url = upstream.base_url.empty() ? BedrockEndpoint(upstream.region) : upstream.base_url;
    options.models = upstream.models;
    options.max_frame_bytes = defaults.max_event_bytes;
    if (upstream.auth == UpstreamAuthType::kAwsSigV4) {
      absl::StatusOr<std::shared_ptr<AwsCredentialsSource>> credentials = AwsCredentialsOf(upstream);
      if (!credentials.ok()) return credentials.status();
      options.signer = std::make_shared<SigV4RequestSigner>(
          *std::move(credentials), SigV4Options{upstream.region, "bedrock", true});
    }
    return std::shared_ptr<const Dialect>(std::make_shared<BedrockDialect>(std::move(options)));
  }
  return Unsupported(upstream, absl::StrCat("dialect ", upstream.dialect, " is not served yet"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> BuildRouter(const UpstreamsConfig& config,
                                                    const UpstreamDefaults& defaults) {
  std::vector<RoutedUpstream> upstreams;
  for (const UpstreamConfig& upstream : config.upstreams) {
    absl::StatusOr<std::shared_ptr<const Dialect>> dialect = DialectOf(upstream, defaults);
    if (!dialect.ok()) return dialect.status();
    std::vector<std::shared_ptr<RequestSigner>> key_signers;
    const ApiKeyScheme scheme =
        upstream.auth == UpstreamAuthType::kBearer ? ApiKeyScheme::kBearer : ApiKeyScheme::kXApiKey;
    for (const std::string& file : upstream.key_files) {
      key_signers.push_back(std::make_shared<ApiKeySigner>(std::make_shared<FileApiKeySource>(file), scheme));
    }
    RoutedUpstream routed;
    routed.name = upstream.name;
    routed.dialect = *std::move(dialect);
    routed.timeout = upstream.timeout;
    routed.connect_timeout = upstream.connect_timeout;
    routed.max_connections = upstream.max_connections;
    routed.key_signers = std::move(key_signers);
    upstreams.push_back(std::move(routed));
  }
  return std::make_unique<Router>(std::move(upstreams), config.routes, defaults.ejection,
                                  defaults.uniform, config.batches);
}

absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> UpstreamsFileRouters::Load(
    std::string path, UpstreamDefaults defaults) {
  std::unique_ptr<UpstreamsFileRouters> self(new UpstreamsFileRouters(std::move(path), std::move(defaults)));
  const std::optional<FileIdentity> identity = self->Identity();
  absl::StatusOr<std::shared_ptr<const Router>> router = self->Read();
  if (!router.ok()) return router.status();
  MutexLock lock(self->mu_);
  self->router_ = *std::move(router);
  if (identity.has_value()) self->identity_ = *identity;
  return self;
}

std::optional<UpstreamsFileRouters::FileIdentity> UpstreamsFileRouters::Identity() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                      static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
}

absl::StatusOr<std::shared_ptr<const Router>> UpstreamsFileRouters::Read() const {
  absl::StatusOr<UpstreamsConfig> config = LoadUpstreamsFile(path_);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::unique_ptr<Router>> router = BuildRouter(*config, defaults_);
  if (!router.ok()) return absl::InvalidArgumentError(absl::StrCat(path_, ": ", router.status().message()));
  return std::shared_ptr<const Router>(*std::move(router));
}

std::shared_ptr<const Router> UpstreamsFileRouters::Current(absl::Time now) {
  MutexLock lock(mu_);
  if (now - checked_at_ < absl::Seconds(1)) return router_;
  checked_at_ = now;
  const std::optional<FileIdentity> identity = Identity();
  if (!identity.has_value() || *identity == identity_) return router_;  // gone for now: keep it
  identity_ = *identity;
  absl::StatusOr<std::shared_ptr<const Router>> router = Read();
  if (!router.ok()) {
    ++reload_failures_;
    // One JSON line of the server log, as every other reload (config/reloading_file.h).
    LogEvent(Severity::kError,
             absl::StrCat("--upstreams_file ", router.status().message(),
                          "; the running upstreams stay in force"),
             {{"event", "config_reload_failed"}, {"file", path_}});
    return router_;
  }
  router_ = *std::move(router);
  LogEvent(Severity::kInfo, "--upstreams_file changed: the new version is in force",
           {{"event", "config_reloaded"}, {"file", path_}});
  return router_;
}

int64_t UpstreamsFileRouters::reload_failures() const {
  MutexLock lock(mu_);
  return reload_failures_;
}

}  // namespace claude
