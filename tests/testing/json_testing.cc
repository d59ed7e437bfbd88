#include "tests/testing/json_testing.h"

#include <fstream>
#include <random>
#include <sstream>

#include <google/protobuf/reflection.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <simdjson.h>

#include "absl/strings/str_replace.h"
#include "service/sse/sse_parser.h"

namespace claude::testing {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Empty when equal, else where and how the documents first differ.
std::string Diff(element a, element b, const std::string& path) {
  const bool a_num = a.is_number(), b_num = b.is_number();
  if (a_num && b_num) {
    return a.get_double().value_unsafe() == b.get_double().value_unsafe()
               ? ""
               : path + ": numbers differ";
  }
  if (a.type() != b.type()) return path + ": types differ";
  switch (a.type()) {
    case element_type::STRING:
      return a.get_string().value_unsafe() == b.get_string().value_unsafe()
                 ? ""
                 : path + ": strings differ";
    case element_type::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe() ? "" : path + ": booleans differ";
    case element_type::NULL_VALUE:
      return "";
    case element_type::ARRAY: {
      const simdjson::dom::array aa = a.get_array().value_unsafe();
      const simdjson::dom::array ba = b.get_array().value_unsafe();
      if (aa.size() != ba.size()) return path + ": array sizes differ";
      auto bi = ba.begin();
      size_t i = 0;
      for (element item : aa) {
        std::string d = Diff(item, *bi, path + "[" + std::to_string(i++) + "]");
        if (!d.empty()) return d;
        ++bi;
      }
      return "";
    }
    case element_type::OBJECT: {
      const simdjson::dom::object ao = a.get_object().value_unsafe();
      const simdjson::dom::object bo = b.get_object().value_unsafe();
      for (auto [key, value] : ao) {
        element other;
        if (bo.at_key(key).get(other) != simdjson::SUCCESS) {
          return path + "." + std::string(key) + ": missing in actual";
        }
        std::string d = Diff(value, other, path + "." + std::string(key));
        if (!d.empty()) return d;
      }
      for (auto [key, value] : bo) {
        element other;
        if (ao.at_key(key).get(other) != simdjson::SUCCESS) {
          return path + "." + std::string(key) + ": unexpected in actual";
        }
      }
      return "";
    }
    default:
      return path + ": unsupported";
  }
}

void Collect(const google::protobuf::Message& m, const std::string& path,
             std::vector<std::string>* out) {
  const auto* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    const std::string here = path + "." + f->name();
    if (f->name() == "extra_fields" || f->name() == "unknown") {
      out->push_back(here);
      continue;
    }
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->message_type()->file()->package() == "google.protobuf") continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        Collect(r->GetRepeatedMessage(m, f, i), here + "[" + std::to_string(i) + "]", out);
      }
    } else {
      Collect(r->GetMessage(m, f), here, out);
    }
  }
}

}  // namespace

google::protobuf::Struct ParsedJson(const std::string& text) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &parsed);
  EXPECT_TRUE(status.ok()) << status << "\n" << text;
  return parsed;
}

google::protobuf::Struct ParsedLogLine(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  return ParsedJson(line);
}

const google::protobuf::Value& JsonField(const google::protobuf::Struct& object,
                                         const std::string& name) {
  static const google::protobuf::Value* const kMissing = new google::protobuf::Value();
  auto it = object.fields().find(name);
  EXPECT_NE(it, object.fields().end()) << "no member " << name;
  return it == object.fields().end() ? *kMissing : it->second;
}

::testing::AssertionResult JsonEqual(const std::string& expected, const std::string& actual) {
  simdjson::dom::parser pe, pa;
  element e, a;
  if (pe.parse(expected).get(e) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "expected is not JSON: " << expected;
  }
  if (pa.parse(actual).get(a) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "actual is not JSON: " << actual;
  }
  std::string diff = Diff(e, a, "$");
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << diff << "\n expected: " << expected
                                       << "\n   actual: " << actual;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(CLAUDE_FIXTURES_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DocumentedTranscript(const std::string& name) {
  std::string body = ReadFixture(name + ".sse");
  if (name == "tool_use") {
    body = absl::StrReplaceAll(body, {{R"("partial_json":" "})", R"("partial_json":", "})"}});
  }
  return body;
}

std::vector<std::vector<std::string>> Chunkings(const std::string& body, int random_cuts) {
  const auto cut_every = [&](size_t piece) {
    std::vector<std::string> pieces;
    for (size_t at = 0; at < body.size(); at += piece) pieces.push_back(body.substr(at, piece));
    return pieces;
  };
  std::vector<std::vector<std::string>> ways = {{body}, cut_every(1), cut_every(7), cut_every(64)};
  for (int seed = 1; seed <= random_cuts; ++seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::vector<std::string> pieces;
    for (size_t at = 0; at < body.size();) {
      const size_t n = 1 + rng() % 40;  // raw mt19937 output: the same splits everywhere
      pieces.push_back(body.substr(at, n));
      at += n;
    }
    ways.push_back(std::move(pieces));
  }
  return ways;
}

std::vector<std::string> SseDataOf(const std::string& body) {
  std::vector<std::string> data;
  SseParser parser;
  EXPECT_TRUE(parser.Feed(body, [&](const SseEvent& e) {
                      data.emplace_back(e.data);
                      return absl::OkStatus();
                    }).ok());
  return data;
}

std::vector<std::string> UnmodelledPaths(const google::protobuf::Message& message) {
  std::vector<std::string> out;
  Collect(message, "", &out);
  return out;
}

}  // namespace claude::testing
