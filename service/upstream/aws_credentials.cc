#include "service/upstream/aws_credentials.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace claude {
namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : std::string(absl::StripAsciiWhitespace(value));
}

}  // namespace

absl::StatusOr<AwsCredentials> AwsCredentialsFromEnvironment() {
  AwsCredentials credentials;
  credentials.access_key_id = Environment("AWS_ACCESS_KEY_ID");
  credentials.secret_access_key = Environment("AWS_SECRET_ACCESS_KEY");
  credentials.session_token = Environment("AWS_SESSION_TOKEN");
  if (credentials.access_key_id.empty()) {
    return absl::FailedPreconditionError("AWS_ACCESS_KEY_ID is not set");
  }
  if (credentials.secret_access_key.empty()) {
    return absl::FailedPreconditionError("AWS_SECRET_ACCESS_KEY is not set");
  }
  return credentials;
}

AwsCredentialFiles::AwsCredentialFiles(std::string access_key_id_file,
                                       std::string secret_access_key_file,
                                       std::string session_token_file)
    : access_key_id_path_(access_key_id_file),
      access_key_id_(std::move(access_key_id_file)),
      secret_access_key_(std::move(secret_access_key_file)) {
  if (!session_token_file.empty()) {
    session_token_ = std::make_unique<FileApiKeySource>(std::move(session_token_file));
  }
}

absl::StatusOr<AwsCredentials> AwsCredentialFiles::Credentials() {
  AwsCredentials credentials;
  credentials.access_key_id = access_key_id_.Key();
  credentials.secret_access_key = secret_access_key_.Key();
  if (session_token_ != nullptr) credentials.session_token = session_token_->Key();
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::UnavailableError(absl::StrCat("no AWS credentials readable from ",
                                               access_key_id_path_, " and its secret file"));
  }
  return credentials;
}

absl::StatusOr<AwsCredentials> ParseAwsSharedCredentials(absl::string_view text,
                                                         absl::string_view profile) {
  AwsCredentials credentials;
  bool in_profile = false;
  bool found_profile = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      const absl::string_view name = absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      in_profile = name == profile;
      found_profile = found_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "aws_access_key_id") credentials.access_key_id = value;
    if (key == "aws_secret_access_key") credentials.secret_access_key = value;
    if (key == "aws_session_token") credentials.session_token = value;
  }
  if (!found_profile) {
    return absl::FailedPreconditionError(absl::StrCat("no [", profile, "] profile"));
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "profile [", profile, "] needs aws_access_key_id and aws_secret_access_key"));
  }
  return credentials;
}

AwsSharedCredentialsFile::AwsSharedCredentialsFile(std::string path, std::string profile)
    : path_(path),
      profile_(std::move(profile)),
      file_(std::move(path)),
      parsed_(absl::UnavailableError("not read yet")) {}

absl::StatusOr<AwsCredentials> AwsSharedCredentialsFile::Credentials() {
  std::string text = file_.Key();  // re-read only when the file changed
  if (text.empty()) return absl::UnavailableError(absl::StrCat("cannot read ", path_));
  if (text != parsed_text_) {
    parsed_ = ParseAwsSharedCredentials(text, profile_);
    parsed_text_ = std::move(text);
  }
  if (!parsed_.ok()) {
    return absl::UnavailableError(absl::StrCat(path_, ": ", parsed_.status().message()));
  }
  return parsed_;
}

}  // namespace claude
