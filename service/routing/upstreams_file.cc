#include "service/routing/upstreams_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace claude {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxUpstreams = 1000;
constexpr size_t kMaxRoutes = 10000;
constexpr size_t kMaxTargetsPerRoute = 100;
constexpr size_t kMaxKeyFiles = 100;
constexpr size_t kMaxModelsPerUpstream = 10000;
constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxTextBytes = 4096;
constexpr int kMaxWeight = 1000000;
constexpr int kMaxRank = 100;

constexpr absl::string_view kDialects[] = {"messages", "chat_completions", "vertex", "bedrock"};

// Reads one file's YAML tree into the typed config, remembering the first error. yaml-cpp
// reports through exceptions; they are caught in ParseUpstreamsFile and never leave this file.
class Reader {
 public:
  explicit Reader(absl::string_view file_name) : file_name_(file_name) {}

  absl::Status Error(const YAML::Node& node, absl::string_view key, absl::string_view what) const {
    const int line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    return absl::InvalidArgumentError(absl::StrCat(file_name_, ":", line, ": ", key, ": ", what));
  }

  // Only the keys in `allowed`; a mapping is required.
  absl::Status CheckKeys(const YAML::Node& map, absl::string_view key,
                         std::initializer_list<absl::string_view> allowed) const {
    if (!map.IsMap()) return Error(map, key, "expected a mapping");
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) return Error(entry.first, key, "keys must be plain names");
      const std::string& name = entry.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return Error(entry.first, absl::StrCat(key, ".", name),
                     absl::StrCat("unknown key (known: ", absl::StrJoin(allowed, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  // A scalar of printable characters (no control characters), at most `max_bytes`.
  absl::Status Text(const YAML::Node& node, absl::string_view key, std::string* out,
                    size_t max_bytes = kMaxTextBytes) const {
    if (!node.IsScalar()) return Error(node, key, "expected a string");
    const std::string& value = node.Scalar();
    if (value.empty()) return Error(node, key, "must not be empty");
    if (value.size() > max_bytes) {
      return Error(node, key, absl::StrCat("longer than ", max_bytes, " bytes"));
    }
    for (char c : value) {
      const unsigned char b = static_cast<unsigned char>(c);
      if (b < 0x20 || b == 0x7F) return Error(node, key, "holds control characters");
    }
    *out = value;
    return absl::OkStatus();
  }

  // A name: 1-64 characters of A-Za-z0-9._-
  absl::Status Name(const YAML::Node& node, absl::string_view key, std::string* out) const {
    if (absl::Status s = Text(node, key, out, kMaxNameBytes); !s.ok()) return s;
    for (char c : *out) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
        return Error(node, key, "names are 1-64 characters of A-Za-z0-9._-");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Integer(const YAML::Node& node, absl::string_view key, long min, long max,
                       long* out) const {
    long value = 0;
    if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
      return Error(node, key, "expected an integer");
    }
    if (value < min || value > max) {
      return Error(node, key, absl::StrCat("must be between ", min, " and ", max));
    }
    *out = value;
    return absl::OkStatus();
  }

  absl::Status Duration(const YAML::Node& node, absl::string_view key, absl::Duration* out) const {
    absl::Duration value;
    if (!node.IsScalar() || !absl::ParseDuration(node.Scalar(), &value)) {
      return Error(node, key, "expected a duration such as 10s, 500ms or 15m");
    }
    if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      return Error(node, key, "must be positive and finite");
    }
    *out = value;
    return absl::OkStatus();
  }

  absl::Status Url(const YAML::Node& node, absl::string_view key, std::string* out) const {
    if (absl::Status s = Text(node, key, out); !s.ok()) return s;
    const bool https = absl::StartsWith(*out, "https://");
    if (!https && !absl::StartsWith(*out, "http://")) {
      return Error(node, key, "must start with http:// or https://");
    }
    const absl::string_view rest = absl::string_view(*out).substr(https ? 8 : 7);
    if (rest.empty() || rest[0] == '/' || absl::StrContains(*out, ' ') ||
        absl::StrContains(rest, '@') || absl::StrContains(rest, '?') ||
        absl::StrContains(rest, '#')) {
      return Error(node, key, "must be scheme://host[:port][/path] with no user, query or fragment");
    }
    while (!out->empty() && out->back() == '/') out->pop_back();
    return absl::OkStatus();
  }

  absl::Status List(const YAML::Node& node, absl::string_view key, size_t max) const {
    if (!node.IsSequence()) return Error(node, key, "expected a list");
    if (node.size() == 0) return Error(node, key, "must not be empty");
    if (node.size() > max) return Error(node, key, absl::StrCat("more than ", max, " entries"));
    return absl::OkStatus();
  }

  absl::Status Auth(const YAML::Node& node, const std::string& key, UpstreamConfig* upstream) const {
    if (!node.IsMap()) return Error(node, key, "expected a mapping with a type");
    const YAML::Node type_node = node["type"];
    if (!type_node) return Error(node, key + ".type", "missing (none, x-api-key, bearer, google_token, aws_sigv4)");
    std::string type;
    if (absl::Status s = Text(type_node, key + ".type", &type); !s.ok()) return s;
    if (type == "none") {
      upstream->auth = UpstreamAuthType::kNone;
      return CheckKeys(node, key, {"type"});
    }
    if (type == "x-api-key" || type == "bearer") {
      upstream->auth = type == "bearer" ? UpstreamAuthType::kBearer : UpstreamAuthType::kXApiKey;
      if (absl::Status s = CheckKeys(node, key, {"type", "key_files"}); !s.ok()) return s;
      const YAML::Node files = node["key_files"];
      if (!files) return Error(node, key + ".key_files", "missing (a list of files, one key each)");
      if (absl::Status s = List(files, key + ".key_files", kMaxKeyFiles); !s.ok()) return s;
      for (size_t i = 0; i < files.size(); ++i) {
        std::string path;
        if (absl::Status s = Text(files[i], absl::StrCat(key, ".key_files[", i, "]"), &path); !s.ok()) {
          return s;
        }
        upstream->key_files.push_back(std::move(path));
      }
      return absl::OkStatus();
    }
    if (type == "google_token") {
      upstream->auth = UpstreamAuthType::kGoogleToken;
      if (absl::Status s = CheckKeys(node, key, {"type", "token_file"}); !s.ok()) return s;
      if (!node["token_file"]) return Error(node, key + ".token_file", "missing");
      return Text(node["token_file"], key + ".token_file", &upstream->token_file);
    }
    if (type == "aws_sigv4") {
      upstream->auth = UpstreamAuthType::kAwsSigV4;
      if (absl::Status s = CheckKeys(node, key,
                                     {"type", "access_key_id_file", "secret_access_key_file",
                                      "session_token_file", "credentials_file"});
          !s.ok()) {
        return s;
      }
      AwsCredentialPaths& aws = upstream->aws;
      const std::pair<const char*, std::string*> fields[] = {
          {"access_key_id_file", &aws.access_key_id_file},
          {"secret_access_key_file", &aws.secret_access_key_file},
          {"session_token_file", &aws.session_token_file},
          {"credentials_file", &aws.credentials_file}};
      for (const auto& [name, field] : fields) {
        if (node[name]) {
          if (absl::Status s = Text(node[name], absl::StrCat(key, ".", name), field); !s.ok()) return s;
        }
      }
      if (aws.access_key_id_file.empty() != aws.secret_access_key_file.empty()) {
        return Error(node, key, "access_key_id_file and secret_access_key_file go together");
      }
      if (!aws.credentials_file.empty() && !aws.access_key_id_file.empty()) {
        return Error(node, key, "either credentials_file or the key files, not both");
      }
      if (!aws.session_token_file.empty() && aws.access_key_id_file.empty()) {
        return Error(node, key, "session_token_file needs access_key_id_file and secret_access_key_file");
      }
      return absl::OkStatus();
    }
    return Error(type_node, key + ".type",
                 absl::StrCat("unknown auth type \"", type,
                              "\" (none, x-api-key, bearer, google_token, aws_sigv4)"));
  }

  absl::Status Upstream(const YAML::Node& node, const std::string& key, UpstreamConfig* upstream) const {
    if (absl::Status s = CheckKeys(node, key,
                                   {"name", "dialect", "base_url", "region", "project", "auth",
                                    "connect_timeout", "timeout", "max_connections", "models"});
        !s.ok()) {
      return s;
    }
    upstream->line = node.Mark().line + 1;
    if (!node["name"]) return Error(node, key + ".name", "missing");
    if (absl::Status s = Name(node["name"], key + ".name", &upstream->name); !s.ok()) return s;
    if (!node["dialect"]) return Error(node, key + ".dialect", "missing");
    if (absl::Status s = Text(node["dialect"], key + ".dialect", &upstream->dialect); !s.ok()) return s;
    if (std::find(std::begin(kDialects), std::end(kDialects), upstream->dialect) == std::end(kDialects)) {
      return Error(node["dialect"], key + ".dialect",
                   absl::StrCat("unknown dialect \"", upstream->dialect,
                                "\" (messages, chat_completions, vertex, bedrock)"));
    }
    const bool vertex = upstream->dialect == "vertex";
    const bool bedrock = upstream->dialect == "bedrock";
    if (node["region"]) {
      if (!vertex && !bedrock) return Error(node["region"], key + ".region", "only for vertex and bedrock");
      if (absl::Status s = Name(node["region"], key + ".region", &upstream->region); !s.ok()) return s;
    } else if (vertex || bedrock) {
      return Error(node, key + ".region", absl::StrCat("missing (", upstream->dialect, " needs it)"));
    }
    if (node["project"]) {
      if (!vertex) return Error(node["project"], key + ".project", "only for vertex");
      if (absl::Status s = Name(node["project"], key + ".project", &upstream->project); !s.ok()) return s;
    } else if (vertex) {
      return Error(node, key + ".project", "missing (vertex needs it)");
    }
    if (node["base_url"]) {
      if (absl::Status s = Url(node["base_url"], key + ".base_url", &upstream->base_url); !s.ok()) return s;
    } else if (!vertex && !bedrock) {
      return Error(node, key + ".base_url", absl::StrCat("missing (", upstream->dialect, " needs it)"));
    }
    if (node["auth"]) {
      if (absl::Status s = Auth(node["auth"], key + ".auth", upstream); !s.ok()) return s;
      const UpstreamAuthType a = upstream->auth;
      const bool fits = a == UpstreamAuthType::kNone ||
                        (vertex ? a == UpstreamAuthType::kGoogleToken
                         : bedrock ? a == UpstreamAuthType::kAwsSigV4
                                   : a == UpstreamAuthType::kXApiKey || a == UpstreamAuthType::kBearer);
      if (!fits) {
        return Error(node["auth"], key + ".auth.type",
                     absl::StrCat("does not fit dialect ", upstream->dialect,
                                  vertex ? " (google_token or none)"
                                  : bedrock ? " (aws_sigv4 or none)"
                                            : " (x-api-key, bearer or none)"));
      }
    } else if (vertex || bedrock) {
      upstream->auth = vertex ? UpstreamAuthType::kGoogleToken : UpstreamAuthType::kAwsSigV4;
      if (vertex) return Error(node, key + ".auth", "missing (vertex needs a google_token file)");
    }
    if (node["connect_timeout"]) {
      if (absl::Status s = Duration(node["connect_timeout"], key + ".connect_timeout",
                                    &upstream->connect_timeout);
          !s.ok()) {
        return s;
      }
    }
    if (node["timeout"]) {
      if (absl::Status s = Duration(node["timeout"], key + ".timeout", &upstream->timeout); !s.ok()) {
        return s;
      }
    }
    if (node["max_connections"]) {
      if (absl::Status s = Integer(node["max_connections"], key + ".max_connections", 0, 100000,
                                   &upstream->max_connections);
          !s.ok()) {
        return s;
      }
    }
    if (const YAML::Node models = node["models"]) {
      if (!models.IsMap()) return Error(models, key + ".models", "expected a mapping of model names");
      if (models.size() > kMaxModelsPerUpstream) {
        return Error(models, key + ".models", absl::StrCat("more than ", kMaxModelsPerUpstream, " entries"));
      }
      std::set<std::string> seen;
      for (const auto& entry : models) {
        std::string from, to;
        if (absl::Status s = Text(entry.first, key + ".models", &from, 256); !s.ok()) return s;
        const std::string entry_key = absl::StrCat(key, ".models.", from);
        if (absl::Status s = Text(entry.second, entry_key, &to, 256); !s.ok()) return s;
        if (!seen.insert(from).second) return Error(entry.first, entry_key, "listed twice");
        upstream->models.emplace_back(std::move(from), std::move(to));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Route(const YAML::Node& node, const std::string& key,
                     const std::vector<UpstreamConfig>& upstreams, RouteConfig* route) const {
    if (absl::Status s = CheckKeys(node, key, {"model", "upstreams"}); !s.ok()) return s;
    route->line = node.Mark().line + 1;
    if (!node["model"]) return Error(node, key + ".model", "missing");
    if (absl::Status s = Text(node["model"], key + ".model", &route->model, 256); !s.ok()) return s;
    const size_t star = route->model.find('*');
    if (star != std::string::npos && star != route->model.size() - 1) {
      return Error(node["model"], key + ".model", "\"*\" may only end a model name (a prefix)");
    }
    const YAML::Node list = node["upstreams"];
    if (!list) return Error(node, key + ".upstreams", "missing");
    if (absl::Status s = List(list, key + ".upstreams", kMaxTargetsPerRoute); !s.ok()) return s;
    int previous_rank = 0;
    std::set<size_t> used;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      const std::string entry_key = absl::StrCat(key, ".upstreams[", i, "]");
      std::string name;
      RouteTarget target;
      target.rank = previous_rank + 1;
      if (entry.IsScalar()) {
        if (absl::Status s = Name(entry, entry_key, &name); !s.ok()) return s;
      } else {
        if (absl::Status s = CheckKeys(entry, entry_key, {"upstream", "rank", "weight"}); !s.ok()) return s;
        if (!entry["upstream"]) return Error(entry, entry_key + ".upstream", "missing");
        if (absl::Status s = Name(entry["upstream"], entry_key + ".upstream", &name); !s.ok()) return s;
        long value = 0;
        if (entry["rank"]) {
          if (absl::Status s = Integer(entry["rank"], entry_key + ".rank", 1, kMaxRank, &value); !s.ok()) {
            return s;
          }
          if (value < previous_rank) {
            return Error(entry["rank"], entry_key + ".rank",
                         absl::StrCat("ranks never decrease along the list (the previous entry's is ",
                                      previous_rank, ")"));
          }
          target.rank = static_cast<int>(value);
        }
        if (entry["weight"]) {
          if (absl::Status s = Integer(entry["weight"], entry_key + ".weight", 1, kMaxWeight, &value); !s.ok()) {
            return s;
          }
          target.weight = static_cast<int>(value);
        }
      }
      const auto it = std::find_if(upstreams.begin(), upstreams.end(),
                                   [&](const UpstreamConfig& u) { return u.name == name; });
      if (it == upstreams.end()) {
        return Error(entry, entry_key, absl::StrCat("unknown upstream \"", name, "\""));
      }
      target.upstream = static_cast<size_t>(it - upstreams.begin());
      if (!used.insert(target.upstream).second) {
        return Error(entry, entry_key, absl::StrCat("upstream \"", name, "\" listed twice"));
      }
      previous_rank = target.rank;
      route->targets.push_back(target);
    }
    return absl::OkStatus();
  }

  absl::Status File(const YAML::Node& root, UpstreamsConfig* config) const {
    if (!root.IsMap()) return Error(root, "(top level)", "expected a mapping with upstreams and routes");
    if (absl::Status s = CheckKeys(root, "(top level)", {"upstreams", "routes", "batches"});
        !s.ok())
      return s;
    const YAML::Node upstreams = root["upstreams"];
    if (!upstreams) return Error(root, "upstreams", "missing");
    if (absl::Status s = List(upstreams, "upstreams", kMaxUpstreams); !s.ok()) return s;
    std::set<std::string> names;
    for (size_t i = 0; i < upstreams.size(); ++i) {
      UpstreamConfig upstream;
      const std::string key = absl::StrCat("upstreams[", i, "]");
      if (absl::Status s = Upstream(upstreams[i], key, &upstream); !s.ok()) return s;
      if (!names.insert(upstream.name).second) {
        return Error(upstreams[i]["name"], key + ".name",
                     absl::StrCat("upstream \"", upstream.name, "\" defined twice"));
      }
      config->upstreams.push_back(std::move(upstream));
    }
    const YAML::Node routes = root["routes"];
    if (!routes) return Error(root, "routes", "missing");
    if (absl::Status s = List(routes, "routes", kMaxRoutes); !s.ok()) return s;
    std::set<std::string> models;
    for (size_t i = 0; i < routes.size(); ++i) {
      RouteConfig route;
      const std::string key = absl::StrCat("routes[", i, "]");
      if (absl::Status s = Route(routes[i], key, config->upstreams, &route); !s.ok()) return s;
      if (!models.insert(route.model).second) {
        return Error(routes[i]["model"], key + ".model",
                     absl::StrCat("a route for \"", route.model, "\" exists already"));
      }
      config->routes.push_back(std::move(route));
    }
    return Batches(root, config);
  }

  // Message Batches are a Messages API feature kept by the upstream that created them, so every
  // batch RPC goes to one messages upstream: the one `batches` names, else the first listed.
  absl::Status Batches(const YAML::Node& root, UpstreamsConfig* config) const {
    const auto is_messages = [](const UpstreamConfig& u) { return u.dialect == "messages"; };
    const YAML::Node node = root["batches"];
    if (!node) {
      const auto it = std::find_if(config->upstreams.begin(), config->upstreams.end(), is_messages);
      if (it != config->upstreams.end())
        config->batches = static_cast<size_t>(it - config->upstreams.begin());
      return absl::OkStatus();
    }
    std::string name;
    if (absl::Status s = Name(node, "batches", &name); !s.ok()) return s;
    const auto it = std::find_if(config->upstreams.begin(), config->upstreams.end(),
                                 [&](const UpstreamConfig& u) { return u.name == name; });
    if (it == config->upstreams.end())
      return Error(node, "batches", absl::StrCat("unknown upstream \"", name, "\""));
    if (!is_messages(*it)) {
      return Error(
          node, "batches",
          absl::StrCat("upstream \"", name, "\" has dialect ", it->dialect,
                       "; Message Batches are a Messages API feature: name a messages upstream"));
    }
    config->batches = static_cast<size_t>(it - config->upstreams.begin());
    return absl::OkStatus();
  }

 private:
  const std::string file_name_;
};

}  // namespace

const std::string& UpstreamConfig::UpstreamModel(const std::string& model) const {
  for (const auto& [from, to] : models) {
    if (from == model) return to;
  }
  return model;
}

absl::StatusOr<UpstreamsConfig> ParseUpstreamsFile(absl::string_view text,
                                                   absl::string_view file_name) {
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": larger than ", kMaxFileBytes, " bytes"));
  }
  Reader reader(file_name);
  UpstreamsConfig config;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (absl::Status s = reader.File(root, &config); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.is_null() ? 0 : e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

absl::StatusOr<UpstreamsConfig> LoadUpstreamsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::string text;
  text.resize(kMaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseUpstreamsFile(text, path);
}

}  // namespace claude
