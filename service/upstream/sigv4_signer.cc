#include "service/upstream/sigv4_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/upstream/url_escape.h"

namespace claude {
namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

struct ParsedUrl {
  std::string host;  // as the Host header carries it: host[:port], lower-case
  std::string path;  // "/" when empty
  std::string query;
};

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  absl::string_view rest;
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWithIgnoreCase(url, "http://")) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("SigV4: the URL must be absolute http(s)");
  }
  ParsedUrl parsed;
  const size_t authority_end = rest.find_first_of("/?#");
  const absl::string_view authority = rest.substr(0, authority_end);
  if (authority.empty() || absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError("SigV4: the URL needs a host and no user info");
  }
  parsed.host = absl::AsciiStrToLower(authority);
  absl::string_view target = authority_end == absl::string_view::npos ? "" : rest.substr(authority_end);
  target = target.substr(0, target.find('#'));
  const size_t query_start = target.find('?');
  parsed.path = std::string(target.substr(0, query_start));
  if (parsed.path.empty()) parsed.path = "/";
  if (query_start != absl::string_view::npos) parsed.query = std::string(target.substr(query_start + 1));
  return parsed;
}

// The query's parameters, each decoded and encoded again strictly, sorted by name then value.
std::string CanonicalQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = part.find('=');
    const absl::string_view name = part.substr(0, eq);
    const absl::string_view value = eq == absl::string_view::npos ? "" : part.substr(eq + 1);
    params.emplace_back(UrlEscape(UrlUnescape(name)), UrlEscape(UrlUnescape(value)));
  }
  std::sort(params.begin(), params.end());
  return absl::StrJoin(params, "&", [](std::string* out, const auto& p) {
    absl::StrAppend(out, p.first, "=", p.second);
  });
}

// A header value as SigV4 signs it: trimmed, inner runs of spaces collapsed to one.
std::string CanonicalValue(absl::string_view value) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool HasControlCharacters(absl::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F;
  });
}

}  // namespace

std::string HexSha256(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<SigV4Signature> SignSigV4(const SigV4Request& request,
                                         const AwsCredentials& credentials,
                                         const SigV4Options& options, absl::Time now) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("SigV4: no AWS access key id or secret access key");
  }
  absl::StatusOr<ParsedUrl> url = ParseUrl(request.url);
  if (!url.ok()) return url.status();

  const std::string amz_date = absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = absl::StrCat(date, "/", options.region, "/", options.service, "/aws4_request");

  std::string payload_hash;
  std::vector<std::pair<std::string, std::string>> signed_headers;  // name, canonical value
  if (request.headers != nullptr) {
    for (const auto& [name, value] : *request.headers) {
      if (HasControlCharacters(value) || HasControlCharacters(name)) {
        return absl::InvalidArgumentError(absl::StrCat("SigV4: header ", absl::CHexEscape(name),
                                                       " holds control characters"));
      }
      const std::string lower = absl::AsciiStrToLower(name);
      if (lower == "host" || lower == "authorization" || lower == "x-amz-date") continue;
      if (lower == "x-amz-content-sha256") payload_hash = value;
      signed_headers.emplace_back(lower, CanonicalValue(value));
    }
  }
  const bool had_content_sha256 = !payload_hash.empty();
  if (payload_hash.empty()) payload_hash = HexSha256(request.body);

  SigV4Signature result;
  result.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    result.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  if (options.add_content_sha256 && !had_content_sha256) {
    result.headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  for (const auto& [name, value] : result.headers) signed_headers.emplace_back(name, value);
  signed_headers.emplace_back("host", url->host);
  // Sorted by name; a name given several times signs its values joined by commas, in order.
  std::stable_sort(signed_headers.begin(), signed_headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::vector<absl::string_view> names;
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0 && signed_headers[i].first == signed_headers[i - 1].first) {
      absl::StrAppend(&canonical_headers, ",", signed_headers[i].second);
      continue;
    }
    if (i > 0) canonical_headers += '\n';
    absl::StrAppend(&canonical_headers, signed_headers[i].first, ":", signed_headers[i].second);
    names.push_back(signed_headers[i].first);
  }
  canonical_headers += '\n';
  const std::string signed_names = absl::StrJoin(names, ";");

  result.canonical_request =
      absl::StrCat(request.method, "\n", UrlEscape(url->path, /*keep=*/"/"), "\n",
                   CanonicalQuery(url->query), "\n", canonical_headers, "\n", signed_names, "\n",
                   payload_hash);
  result.string_to_sign = absl::StrCat(kAlgorithm, "\n", amz_date, "\n", scope, "\n",
                                       HexSha256(result.canonical_request));

  const std::string signing_key =
      Hmac(Hmac(Hmac(Hmac(absl::StrCat("AWS4", credentials.secret_access_key), date),
                     options.region),
                options.service),
           "aws4_request");
  const std::string signature = absl::BytesToHexString(Hmac(signing_key, result.string_to_sign));
  result.headers.emplace_back(
      "authorization", absl::StrCat(kAlgorithm, " Credential=", credentials.access_key_id, "/",
                                    scope, ", SignedHeaders=", signed_names,
                                    ", Signature=", signature));
  return result;
}

}  // namespace claude
