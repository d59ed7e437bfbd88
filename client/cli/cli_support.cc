#include "client/cli/cli_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>

#include <simdjson.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/claude_client.h"
#include "common/codec/json_mapping.h"
#include "common/errors/error_details.h"

namespace claude::cli {
namespace {

// Calls `decode` with the JSON text of each element of the array `json`, which must hold
// objects only.
absl::Status ForEachObject(absl::string_view json,
                           const std::function<absl::Status(absl::string_view object)>& decode) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (auto error = parser.parse(json.data(), json.size()).get(document)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::array array;
  if (document.get_array().get(array)) return absl::InvalidArgumentError("expected a JSON array");
  size_t index = 0;
  for (simdjson::dom::element element : array) {
    if (!element.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("[", index, "]: expected object"));
    }
    const std::string text = simdjson::to_string(element);
    if (absl::Status status = decode(text); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("[", index, "].", status.message()));
    }
    ++index;
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::vector<T>> ParseArray(absl::string_view json) {
  std::vector<T> out;
  absl::Status status = ForEachObject(json, [&out](absl::string_view object) {
    return JsonToMessage(object, &out.emplace_back());
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return absl::DataLossError(absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

absl::StatusOr<std::string> ImageMediaType(absl::string_view bytes) {
  if (absl::StartsWith(bytes, absl::string_view("\x89PNG\r\n\x1a\n", 8))) return std::string("image/png");
  if (absl::StartsWith(bytes, "\xff\xd8\xff")) return std::string("image/jpeg");
  if (absl::StartsWith(bytes, "GIF87a") || absl::StartsWith(bytes, "GIF89a")) return std::string("image/gif");
  if (bytes.size() >= 12 && absl::StartsWith(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP") {
    return std::string("image/webp");
  }
  return absl::InvalidArgumentError("not a PNG, JPEG, GIF or WEBP image");
}

absl::StatusOr<v1::ContentBlock> ImageBlockFromBytes(std::string bytes) {
  absl::StatusOr<std::string> media_type = ImageMediaType(bytes);
  if (!media_type.ok()) return media_type.status();
  v1::ContentBlock block;
  v1::Base64ImageSource* source = block.mutable_image()->mutable_source()->mutable_base64();
  source->set_media_type(*std::move(media_type));
  source->set_data(std::move(bytes));
  return block;
}

absl::StatusOr<std::vector<v1::MessageParam>> ParseMessagesJson(absl::string_view json) {
  return ParseArray<v1::MessageParam>(json);
}

absl::StatusOr<std::vector<v1::Tool>> ParseToolsJson(absl::string_view json) {
  return ParseArray<v1::Tool>(json);
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates, and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

int ExitCodeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return kExitRetryLater;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kUnimplemented:
      return kExitFixRequest;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    default:
      return kExitFailed;
  }
}

std::string ErrorJson(const absl::Status& status) {
  std::string out = "{\"error\":{\"code\":";
  AppendJsonString(absl::StatusCodeToString(status.code()), &out);
  out += ",\"message\":";
  AppendJsonString(status.message(), &out);
  absl::StrAppend(&out, ",\"exit_code\":", ExitCodeFor(status.code()));
  if (std::optional<ErrorDetails> details = ErrorDetailsOf(status)) {
    out += ",\"details\":{\"reason\":";
    AppendJsonString(details->reason, &out);
    out += ",\"domain\":";
    AppendJsonString(details->domain, &out);
    if (!details->request_id.empty()) {
      out += ",\"request_id\":";
      AppendJsonString(details->request_id, &out);
    }
    if (details->http_status != 0) absl::StrAppend(&out, ",\"http_status\":", details->http_status);
    if (details->retry_delay) {
      absl::StrAppend(&out, ",\"retry_delay_seconds\":", absl::ToDoubleSeconds(*details->retry_delay));
    }
    if (!details->field_violations.empty()) {
      out += ",\"field_violations\":[";
      for (size_t i = 0; i < details->field_violations.size(); ++i) {
        out += i == 0 ? "{\"field\":" : ",{\"field\":";
        AppendJsonString(details->field_violations[i].first, &out);
        out += ",\"description\":";
        AppendJsonString(details->field_violations[i].second, &out);
        out += "}";
      }
      out += "]";
    }
    out += "}";
  }
  out += "}}";
  return out;
}

std::string OneLine(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace claude::cli
