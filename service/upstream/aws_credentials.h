// Where the AWS credentials that sign Bedrock requests come from: the usual environment
// variables, three mounted files (key id, secret, optional session token), or the shared
// credentials file (`[default]` profile, or $AWS_PROFILE's). Files are re-read when they change,
// so rotated or refreshed temporary credentials are used without a restart.
#ifndef SERVICE_UPSTREAM_AWS_CREDENTIALS_H_
#define SERVICE_UPSTREAM_AWS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/config/api_key_source.h"
#include "service/upstream/sigv4_signer.h"

namespace claude {

class AwsCredentialsSource {
 public:
  virtual ~AwsCredentialsSource() = default;
  // The current credentials; UNAVAILABLE naming what is missing. Called on the transport's
  // thread, never concurrently.
  virtual absl::StatusOr<AwsCredentials> Credentials() = 0;
};

class StaticAwsCredentials final : public AwsCredentialsSource {
 public:
  explicit StaticAwsCredentials(AwsCredentials credentials) : credentials_(std::move(credentials)) {}
  absl::StatusOr<AwsCredentials> Credentials() override { return credentials_; }

 private:
  const AwsCredentials credentials_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN, read now.
// FAILED_PRECONDITION naming the variable that is missing.
absl::StatusOr<AwsCredentials> AwsCredentialsFromEnvironment();

// Key id, secret and (optional, "" for none) session token, each in a file of its own.
class AwsCredentialFiles final : public AwsCredentialsSource {
 public:
  AwsCredentialFiles(std::string access_key_id_file, std::string secret_access_key_file,
                     std::string session_token_file);
  absl::StatusOr<AwsCredentials> Credentials() override;

 private:
  const std::string access_key_id_path_;
  FileApiKeySource access_key_id_;
  FileApiKeySource secret_access_key_;
  std::unique_ptr<FileApiKeySource> session_token_;  // null: none
};

// The shared credentials file's `profile` section: aws_access_key_id, aws_secret_access_key,
// aws_session_token (optional). Other keys and sections are ignored, as the AWS tools do.
class AwsSharedCredentialsFile final : public AwsCredentialsSource {
 public:
  AwsSharedCredentialsFile(std::string path, std::string profile);
  absl::StatusOr<AwsCredentials> Credentials() override;

 private:
  const std::string path_;
  const std::string profile_;
  FileApiKeySource file_;
  std::string parsed_text_;
  absl::StatusOr<AwsCredentials> parsed_;
};

// Parses the INI text of a shared credentials file for `profile`; FAILED_PRECONDITION naming
// the profile or key that is missing.
absl::StatusOr<AwsCredentials> ParseAwsSharedCredentials(absl::string_view text,
                                                         absl::string_view profile);

}  // namespace claude

#endif  // SERVICE_UPSTREAM_AWS_CREDENTIALS_H_
