#include "common/codec/json_decoder.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/struct.pb.h>
#include <simdjson.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/codec/json_mapping.h"
#include "common/codec/json_shapes.h"

namespace claude {
namespace json_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

// simdjson speaks std::string_view; Debian's Abseil has a string_view of its own.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The value of the last member named `key`, as everywhere else in this mapping: of duplicated
// keys, the last wins (simdjson's lookup would give the first).
bool LastMember(simdjson::dom::object object, std::string_view key, element* value) {
  bool found = false;
  for (auto [member_key, member_value] : object) {
    if (member_key == key) {
      *value = member_value;
      found = true;
    }
  }
  return found;
}

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

class Decoder {
 public:
  // `max_nesting`: how many levels of messages may be nested below the decoded one.
  explicit Decoder(int max_nesting) : max_nesting_(max_nesting) {}

  absl::Status Object(element json, Message* msg) {
    const Shape* shape_ptr = FindCachedShape(msg->GetDescriptor());
    if (shape_ptr != nullptr) return ObjectWithShape(json, msg, *shape_ptr, false);
    ShapeRef shape(msg->GetDescriptor());
    return ObjectWithShape(json, msg, *shape, false);
  }

 private:
  // The JSON path of the value being decoded, rendered only for error messages.
  struct PathPart {
    absl::string_view key;
    size_t index;
    bool is_index;
  };

  class PathScope {
   public:
    PathScope(std::vector<PathPart>* path, absl::string_view key) : path_(path) {
      path_->push_back({key, 0, false});
    }
    PathScope(std::vector<PathPart>* path, size_t index) : path_(path) {
      path_->push_back({{}, index, true});
    }
    ~PathScope() { path_->pop_back(); }

   private:
    std::vector<PathPart>* path_;
  };

  // Counts `levels` of protobuf message nesting while in scope (see kMaxProtoNesting): every
  // sub-message, and for JSON kept in a Struct, each map entry and Value as well.
  class NestingScope {
   public:
    NestingScope(int* nesting, int levels) : nesting_(nesting), levels_(levels) {
      *nesting_ += levels_;
    }
    ~NestingScope() { *nesting_ -= levels_; }

   private:
    int* nesting_;
    int levels_;
  };

  // Enters `levels` deeper; not OK when that is deeper than protobuf's parsers accept, so a
  // reply is refused here, naming the path, instead of becoming bytes no caller can parse.
  bool TooDeep() const { return nesting_ > max_nesting_; }
  absl::Status TooDeepError() const {
    return Error(absl::StrCat("nested too deeply: protobuf parsers accept at most ",
                              kMaxProtoNesting, " levels of nested messages"));
  }

  std::string PathString() const {
    std::string s;
    for (const PathPart& p : path_) {
      if (p.is_index) {
        absl::StrAppend(&s, "[", p.index, "]");
      } else {
        if (!s.empty()) s.push_back('.');
        s.append(p.key.data(), p.key.size());
      }
    }
    return s.empty() ? "(body)" : s;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(PathString(), ": ", what));
  }
  absl::Status TypeError(absl::string_view expected, element json) const {
    return Error(absl::StrCat("expected ", expected, ", got ", JsonTypeName(json.type())));
  }

  absl::Status Dispatch(element json, Message* msg, const Shape& shape) {
    switch (shape.kind) {
      case Kind::kObject: return ObjectWithShape(json, msg, shape, false);
      case Kind::kTypeUnion: return TypeUnion(json, msg, shape);
      case Kind::kList: {
        if (json.type() != element_type::ARRAY) return TypeError("array", json);
        return Repeated(json.get_array().value_unsafe(), msg, shape.list_field);
      }
      case Kind::kStruct: {
        auto* s = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(msg);
        if (s == nullptr) return Error("unsupported Struct implementation");
        if (json.type() != element_type::OBJECT) return TypeError("object", json);
        return ToStruct(json, s);
      }
      case Kind::kValue: {
        auto* v = google::protobuf::DynamicCastToGenerated<google::protobuf::Value>(msg);
        if (v == nullptr) return Error("unsupported Value implementation");
        return ToValue(json, v);
      }
      case Kind::kListValue: {
        auto* l = google::protobuf::DynamicCastToGenerated<google::protobuf::ListValue>(msg);
        if (l == nullptr) return Error("unsupported ListValue implementation");
        if (json.type() != element_type::ARRAY) return TypeError("array", json);
        return ToList(json, l);
      }
    }
    return Error("unsupported message shape");
  }

  absl::Status MessageValue(element json, Message* msg) {
    const Shape* shape_ptr = FindCachedShape(msg->GetDescriptor());
    if (shape_ptr != nullptr) return Dispatch(json, msg, *shape_ptr);
    ShapeRef shape(msg->GetDescriptor());
    return Dispatch(json, msg, *shape);
  }

  absl::Status TypeUnion(element json, Message* msg, const Shape& shape) {
    if (json.type() != element_type::OBJECT) return TypeError("object", json);
    simdjson::dom::object obj = json.get_object().value_unsafe();
    const FieldDescriptor* member = nullptr;
    element type_json;
    if (LastMember(obj, "type", &type_json)) {
      if (type_json.type() != element_type::STRING) {
        PathScope scope(&path_, "type");
        return TypeError("string", type_json);
      }
      member = UnionMemberForType(shape, Sv(type_json.get_string().value_unsafe()));
    } else {
      member = shape.default_member;
    }
    const Reflection* r = msg->GetReflection();
    NestingScope nested(&nesting_, 1);  // the union's member
    if (TooDeep()) return TooDeepError();
    if (member == nullptr) {
      auto* unknown = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(
          r->MutableMessage(msg, shape.unknown));
      if (unknown == nullptr) return Error("unsupported Struct implementation");
      return ToStruct(json, unknown);
    }
    Message* body = r->MutableMessage(msg, member);
    const Shape* body_shape = FindCachedShape(body->GetDescriptor());
    if (body_shape != nullptr) return ObjectWithShape(json, body, *body_shape, true);
    ShapeRef owned(body->GetDescriptor());
    return ObjectWithShape(json, body, *owned, true);
  }

  // `in_union`: the object's "type" was consumed by the enclosing type union.
  absl::Status ObjectWithShape(element json, Message* msg, const Shape& shape, bool in_union) {
    if (shape.kind != Kind::kObject) return Dispatch(json, msg, shape);
    if (json.type() != element_type::OBJECT) return TypeError("object", json);
    const Reflection* r = msg->GetReflection();
    const simdjson::dom::object object = json.get_object().value_unsafe();
    for (auto [std_key, value] : object) {
      const absl::string_view key = Sv(std_key);
      PathScope scope(&path_, key);
      auto it = shape.member_index.find(key);
      if (it == shape.member_index.end()) {
        if (key == "type" && shape.type_field == nullptr) {
          if (in_union) continue;  // the union read it
          if (!shape.implied_type.empty()) {
            element last = value;  // a duplicated "type": the last one counts
            LastMember(object, "type", &last);
            if (last.type() == element_type::STRING &&
                Sv(last.get_string().value_unsafe()) == shape.implied_type) {
              continue;
            }
            return Error(absl::StrCat("expected \"", shape.implied_type, "\""));
          }
        }
        if (absl::Status s = KeepExtra(key, value, msg, shape); !s.ok()) return s;
        continue;
      }
      const Member& m = shape.members[it->second];
      ForgetEarlier(msg, shape, m, key);
      if (value.type() == element_type::NULL_VALUE) {
        if (absl::Status s = KeepExtra(key, value, msg, shape); !s.ok()) return s;
        continue;
      }
      absl::Status s =
          m.value_union != nullptr ? ValueUnion(value, msg, m.value_union) : Field(value, msg, m);
      if (!s.ok()) return s;
      if (m.field != nullptr && m.field->is_repeated() && r->FieldSize(*msg, m.field) == 0) {
        // An empty array is written back only if remembered: it differs from absence.
        if (absl::Status e = KeepExtra(key, value, msg, shape); !e.ok()) return e;
      }
    }
    return absl::OkStatus();
  }

  // Clears what an earlier occurrence of the same key left, so the last occurrence wins.
  static void ForgetEarlier(Message* msg, const Shape& shape, const Member& m,
                            absl::string_view key) {
    const Reflection* r = msg->GetReflection();
    if (m.value_union != nullptr) {
      if (r->GetOneofFieldDescriptor(*msg, m.value_union) != nullptr)
        r->ClearOneof(msg, m.value_union);
    } else if (m.field->is_repeated() ? r->FieldSize(*msg, m.field) > 0
                                      : r->HasField(*msg, m.field)) {
      r->ClearField(msg, m.field);
      if (m.raw != nullptr) r->ClearField(msg, m.raw);
    } else if (m.raw != nullptr) {
      r->ClearField(msg, m.raw);
    }
    if (shape.extra != nullptr && r->HasField(*msg, shape.extra)) {
      auto* extra = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(
          r->MutableMessage(msg, shape.extra));
      if (extra != nullptr) extra->mutable_fields()->erase(std::string(key));
    }
  }

  absl::Status KeepExtra(absl::string_view key, element value, Message* msg, const Shape& shape) {
    if (shape.extra == nullptr) {
      return Error(absl::StrCat("not a member of ", msg->GetDescriptor()->name()));
    }
    NestingScope nested(&nesting_, 3);  // extra_fields, its map entry, the Value
    if (TooDeep()) return TooDeepError();
    auto* extra = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(
        msg->GetReflection()->MutableMessage(msg, shape.extra));
    if (extra == nullptr) return Error("unsupported Struct implementation");
    return ToValue(value, &(*extra->mutable_fields())[std::string(key)]);
  }

  absl::Status ValueUnion(element value, Message* msg, const OneofDescriptor* oneof) {
    const element_type t = value.type();
    for (int i = 0; i < oneof->field_count(); ++i) {
      const FieldDescriptor* f = oneof->field(i);
      bool fits = false;
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: fits = t == element_type::STRING; break;
        case FieldDescriptor::CPPTYPE_BOOL: fits = t == element_type::BOOL; break;
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          ShapeRef shape(f->message_type());
          fits = shape->kind == Kind::kValue ||
                 (t == element_type::ARRAY &&
                  (shape->kind == Kind::kList || shape->kind == Kind::kListValue)) ||
                 (t == element_type::OBJECT && shape->kind != Kind::kList &&
                  shape->kind != Kind::kListValue);
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: fits = false; break;
        default: fits = IsNumber(t); break;
      }
      if (fits) return Field(value, msg, Member{std::string(), f, nullptr, nullptr});
    }
    std::vector<std::string> kinds;
    for (int i = 0; i < oneof->field_count(); ++i) {
      const FieldDescriptor* f = oneof->field(i);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        kinds.push_back("string");
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        ShapeRef shape(f->message_type());
        kinds.push_back(shape->kind == Kind::kList || shape->kind == Kind::kListValue ? "array"
                                                                                      : "object");
      } else {
        kinds.push_back(f->cpp_type_name());
      }
    }
    return TypeError(absl::StrJoin(kinds, " or "), value);
  }

  absl::Status Field(element value, Message* msg, const Member& m) {
    const FieldDescriptor* f = m.field;
    if (f->is_repeated()) {
      if (value.type() != element_type::ARRAY) return TypeError("array", value);
      return Repeated(value.get_array().value_unsafe(), msg, f);
    }
    return Single(value, msg, f, m.raw, false);
  }

  absl::Status Repeated(simdjson::dom::array array, Message* msg, const FieldDescriptor* f) {
    size_t i = 0;
    for (element item : array) {
      PathScope scope(&path_, i++);
      if (item.type() == element_type::NULL_VALUE) return TypeError("array element", item);
      if (absl::Status s = Single(item, msg, f, nullptr, true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Sets (or, for repeated fields, adds) one value of field `f`.
  absl::Status Single(element v, Message* msg, const FieldDescriptor* f, const FieldDescriptor* raw,
                      bool add) {
    const Reflection* r = msg->GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        NestingScope nested(&nesting_, 1);
        if (TooDeep()) return TooDeepError();
        Message* sub = add ? r->AddMessage(msg, f) : r->MutableMessage(msg, f);
        return MessageValue(v, sub);
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (v.type() != element_type::STRING) return TypeError("string", v);
        absl::string_view text = Sv(v.get_string().value_unsafe());
        std::string bytes;
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          if (!absl::Base64Unescape(text, &bytes)) return Error("invalid base64");
        } else {
          bytes.assign(text.data(), text.size());
        }
        add ? r->AddString(msg, f, std::move(bytes)) : r->SetString(msg, f, std::move(bytes));
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (v.type() != element_type::BOOL) return TypeError("boolean", v);
        const bool b = v.get_bool().value_unsafe();
        add ? r->AddBool(msg, f, b) : r->SetBool(msg, f, b);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        if (!IsNumber(v.type())) return TypeError("number", v);
        const double d = v.get_double().value_unsafe();
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          add ? r->AddDouble(msg, f, d) : r->SetDouble(msg, f, d);
        } else {
          add ? r->AddFloat(msg, f, static_cast<float>(d))
              : r->SetFloat(msg, f, static_cast<float>(d));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        if (v.type() != element_type::STRING) return TypeError("string", v);
        absl::string_view text = Sv(v.get_string().value_unsafe());
        const EnumNames& names = EnumNamesOf(f->enum_type());
        auto it = names.from_json.find(text);
        if (it == names.from_json.end()) {
          if (raw == nullptr || add) {
            return Error(absl::StrCat("unknown value \"", text, "\""));
          }
          r->SetString(msg, raw, std::string(text));
          return absl::OkStatus();
        }
        add ? r->AddEnumValue(msg, f, it->second) : r->SetEnumValue(msg, f, it->second);
        return absl::OkStatus();
      }
      default: return Integer(v, msg, f, add);
    }
  }

  absl::Status Integer(element v, Message* msg, const FieldDescriptor* f, bool add) {
    const Reflection* r = msg->GetReflection();
    int64_t i = 0;
    uint64_t u = 0;
    bool is_unsigned_value = false;
    switch (v.type()) {
      case element_type::INT64: i = v.get_int64().value_unsafe(); break;
      case element_type::UINT64:
        u = v.get_uint64().value_unsafe();
        is_unsigned_value = true;
        break;
      case element_type::DOUBLE: {
        // Accept 12.0 from lenient gateways, but never round a fraction away.
        const double d = v.get_double().value_unsafe();
        if (d != std::trunc(d)) return Error("expected an integer");
        if (std::fabs(d) >= 9.2e18) return Error("integer out of range");
        i = static_cast<int64_t>(d);
        break;
      }
      default: return TypeError("integer", v);
    }
    auto out_of_range = [&] { return Error("integer out of range"); };
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT64:
        if (is_unsigned_value) return out_of_range();
        add ? r->AddInt64(msg, f, i) : r->SetInt64(msg, f, i);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_INT32:
        if (is_unsigned_value || i < std::numeric_limits<int32_t>::min() ||
            i > std::numeric_limits<int32_t>::max()) {
          return out_of_range();
        }
        add ? r->AddInt32(msg, f, static_cast<int32_t>(i))
            : r->SetInt32(msg, f, static_cast<int32_t>(i));
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_UINT64:
        if (!is_unsigned_value) {
          if (i < 0) return out_of_range();
          u = static_cast<uint64_t>(i);
        }
        add ? r->AddUInt64(msg, f, u) : r->SetUInt64(msg, f, u);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_UINT32:
        if (!is_unsigned_value) {
          if (i < 0) return out_of_range();
          u = static_cast<uint64_t>(i);
        }
        if (u > std::numeric_limits<uint32_t>::max()) return out_of_range();
        add ? r->AddUInt32(msg, f, static_cast<uint32_t>(u))
            : r->SetUInt32(msg, f, static_cast<uint32_t>(u));
        return absl::OkStatus();
      default: return Error("unsupported field type");
    }
  }

  absl::Status ToStruct(element json, google::protobuf::Struct* out) {
    NestingScope nested(&nesting_, 2);  // each member's map entry and Value
    if (TooDeep()) return TooDeepError();
    auto* fields = out->mutable_fields();
    const simdjson::dom::object object = json.get_object().value_unsafe();
    for (auto [std_key, value] : object) {
      const absl::string_view key = Sv(std_key);
      PathScope scope(&path_, key);
      if (absl::Status s = ToValue(value, &(*fields)[std::string(key)]); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ToList(element json, google::protobuf::ListValue* out) {
    NestingScope nested(&nesting_, 1);  // each element's Value
    if (TooDeep()) return TooDeepError();
    size_t i = 0;
    const simdjson::dom::array array = json.get_array().value_unsafe();
    for (element item : array) {
      PathScope scope(&path_, i++);
      if (absl::Status s = ToValue(item, out->add_values()); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ToValue(element json, google::protobuf::Value* out) {
    out->Clear();  // a key given twice: the last value wins, as in most JSON readers
    switch (json.type()) {
      case element_type::NULL_VALUE:
        out->set_null_value(google::protobuf::NULL_VALUE);
        return absl::OkStatus();
      case element_type::BOOL:
        out->set_bool_value(json.get_bool().value_unsafe());
        return absl::OkStatus();
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE:
        out->set_number_value(json.get_double().value_unsafe());
        return absl::OkStatus();
      case element_type::STRING:
        out->set_string_value(std::string(json.get_string().value_unsafe()));
        return absl::OkStatus();
      case element_type::ARRAY: {
        NestingScope nested(&nesting_, 1);  // the ListValue
        if (TooDeep()) return TooDeepError();
        return ToList(json, out->mutable_list_value());
      }
      case element_type::OBJECT: {
        NestingScope nested(&nesting_, 1);  // the Struct
        if (TooDeep()) return TooDeepError();
        return ToStruct(json, out->mutable_struct_value());
      }
    }
    return Error("unsupported JSON value");
  }

  std::vector<PathPart> path_;
  const int max_nesting_;
  int nesting_ = 0;
};

}  // namespace

absl::Status DecodeObject(simdjson::dom::element root, Message* message, int max_nesting) {
  return Decoder(max_nesting).Object(root, message);
}

}  // namespace json_internal
}  // namespace claude
