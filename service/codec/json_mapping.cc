#include "service/codec/json_mapping.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/struct.pb.h>
#include <simdjson.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"
#include "claude/v1/message_batches.pb.h"
#include "service/codec/lone_surrogates.h"

namespace claude {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// ---------------------------------------------------------------------------------------------
// Shapes: how each message type maps to JSON, worked out once from its descriptor.

enum class Kind {
  kObject,     // a JSON object, member per field
  kTypeUnion,  // a JSON object whose "type" picks a oneof member
  kList,       // a JSON array held by the message's single repeated field ("...List")
  kStruct,     // google.protobuf.Struct: any JSON object
  kValue,      // google.protobuf.Value: any JSON value
  kListValue,  // google.protobuf.ListValue: any JSON array
};

// One JSON member of an object: a plain field, or a value union standing for one member.
struct Member {
  std::string key;
  const FieldDescriptor* field = nullptr;
  const OneofDescriptor* value_union = nullptr;
  const FieldDescriptor* raw = nullptr;  // "<enum field>_raw": the string of unknown values
};

struct Shape {
  Kind kind = Kind::kObject;
  // kObject
  std::vector<Member> members;  // declaration order
  absl::flat_hash_map<std::string, size_t> member_index;
  const FieldDescriptor* extra = nullptr;       // extra_fields
  const FieldDescriptor* type_field = nullptr;  // a `string type` field, if any
  // The "type" this message has in the one type union that holds it ("text" for TextBlock),
  // written and checked where the message stands on its own (system blocks, search results).
  std::string implied_type;
  // kTypeUnion
  const OneofDescriptor* oneof = nullptr;
  const FieldDescriptor* unknown = nullptr;
  const FieldDescriptor* default_member = nullptr;  // takes objects that have no "type"
  absl::flat_hash_map<std::string, const FieldDescriptor*> by_type;
  // kList
  const FieldDescriptor* list_field = nullptr;
};

bool IsStruct(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_MESSAGE &&
         f->message_type()->full_name() == "google.protobuf.Struct";
}

bool HasTypeField(const Descriptor* d) {
  const FieldDescriptor* f = d->FindFieldByName("type");
  return f != nullptr && f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated();
}

std::unique_ptr<Shape> BuildShape(const Descriptor* d) {
  auto shape = std::make_unique<Shape>();
  const std::string& name = d->full_name();
  if (name == "google.protobuf.Struct") {
    shape->kind = Kind::kStruct;
    return shape;
  }
  if (name == "google.protobuf.Value") {
    shape->kind = Kind::kValue;
    return shape;
  }
  if (name == "google.protobuf.ListValue") {
    shape->kind = Kind::kListValue;
    return shape;
  }
  if (d->real_oneof_decl_count() == 1 && d->oneof_decl(0)->field_count() == d->field_count()) {
    const OneofDescriptor* oneof = d->oneof_decl(0);
    const FieldDescriptor* unknown = d->FindFieldByName("unknown");
    if (unknown != nullptr && IsStruct(unknown) && unknown->containing_oneof() == oneof) {
      shape->kind = Kind::kTypeUnion;
      shape->oneof = oneof;
      shape->unknown = unknown;
      for (int i = 0; i < oneof->field_count(); ++i) {
        const FieldDescriptor* f = oneof->field(i);
        if (f == unknown) continue;
        shape->by_type[f->name()] = f;
        if (shape->default_member == nullptr && HasTypeField(f->message_type())) {
          shape->default_member = f;
        }
      }
      return shape;
    }
  }
  if (d->field_count() == 1 && d->field(0)->is_repeated() && absl::EndsWith(d->name(), "List")) {
    shape->kind = Kind::kList;
    shape->list_field = d->field(0);
    return shape;
  }
  shape->kind = Kind::kObject;
  shape->type_field = HasTypeField(d) ? d->FindFieldByName("type") : nullptr;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == "extra_fields" && IsStruct(f)) {
      shape->extra = f;
      continue;
    }
    if (absl::EndsWith(f->name(), "_raw")) {
      const FieldDescriptor* enum_field =
          d->FindFieldByName(f->name().substr(0, f->name().size() - 4));
      if (enum_field != nullptr && enum_field->type() == FieldDescriptor::TYPE_ENUM) continue;
    }
    const OneofDescriptor* oneof = f->real_containing_oneof();
    Member m;
    if (oneof != nullptr) {
      if (oneof->field(0) != f) continue;  // the union was added at its first member
      m.key = oneof->name();
      m.value_union = oneof;
    } else {
      m.key = f->name();
      m.field = f;
      if (f->type() == FieldDescriptor::TYPE_ENUM) {
        const FieldDescriptor* raw = d->FindFieldByName(f->name() + "_raw");
        if (raw != nullptr && raw->type() == FieldDescriptor::TYPE_STRING) m.raw = raw;
      }
    }
    shape->member_index[m.key] = shape->members.size();
    shape->members.push_back(std::move(m));
  }
  return shape;
}

// JSON strings of an enum's values: STOP_REASON_END_TURN <-> "end_turn".
struct EnumNames {
  absl::flat_hash_map<int, std::string> to_json;
  absl::flat_hash_map<std::string, int> from_json;
};

std::string EnumPrefix(const EnumDescriptor* e) {
  std::string prefix;
  for (char c : e->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return prefix;
}

EnumNames BuildEnumNames(const EnumDescriptor* e) {
  EnumNames names;
  const std::string prefix = EnumPrefix(e);
  for (int i = 0; i < e->value_count(); ++i) {
    const EnumValueDescriptor* v = e->value(i);
    if (v->number() == 0) continue;  // _UNSPECIFIED has no JSON form
    std::string json = absl::AsciiStrToLower(
        absl::StartsWith(v->name(), prefix) ? v->name().substr(prefix.size()) : v->name());
    names.to_json[v->number()] = json;
    names.from_json[json] = v->number();
  }
  return names;
}

// Every shape of the claude.v1 files, built once; immutable afterwards, so lookups need no lock.
class ShapeTable {
 public:
  static const ShapeTable& Get() {
    static const ShapeTable* table = new ShapeTable();
    return *table;
  }

  const Shape* Find(const Descriptor* d) const {
    auto it = shapes_.find(d);
    return it == shapes_.end() ? nullptr : it->second.get();
  }
  const EnumNames* FindEnum(const EnumDescriptor* e) const {
    auto it = enums_.find(e);
    return it == enums_.end() ? nullptr : &it->second;
  }

 private:
  ShapeTable() {
    AddFile(claude::v1::Message::descriptor()->file());
    AddFile(claude::v1::ModelInfo::descriptor()->file());
    AddFile(claude::v1::MessageBatch::descriptor()->file());
    AddImpliedTypes();
  }

  // A message that is the member of exactly one type-union field has an implied type; one
  // that several members share (UrlSource, ServerToolError...) has none.
  void AddImpliedTypes() {
    absl::flat_hash_map<const Descriptor*, std::string> implied;
    absl::flat_hash_map<const Descriptor*, bool> ambiguous;
    for (const auto& [descriptor, shape] : shapes_) {
      if (shape->kind != Kind::kTypeUnion) continue;
      for (int i = 0; i < shape->oneof->field_count(); ++i) {
        const FieldDescriptor* f = shape->oneof->field(i);
        if (f == shape->unknown) continue;
        auto [it, inserted] = implied.emplace(f->message_type(), f->name());
        if (!inserted) ambiguous[f->message_type()] = true;
      }
    }
    for (const auto& [descriptor, type] : implied) {
      auto it = shapes_.find(descriptor);
      if (it == shapes_.end() || ambiguous.contains(descriptor) ||
          it->second->kind != Kind::kObject || it->second->type_field != nullptr) {
        continue;
      }
      it->second->implied_type = type;
    }
  }
  void AddFile(const google::protobuf::FileDescriptor* file) {
    if (!files_.emplace(file, true).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i));
    for (int i = 0; i < file->message_type_count(); ++i) {
      shapes_[file->message_type(i)] = BuildShape(file->message_type(i));
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      enums_[file->enum_type(i)] = BuildEnumNames(file->enum_type(i));
    }
  }

  absl::flat_hash_map<const google::protobuf::FileDescriptor*, bool> files_;
  absl::flat_hash_map<const Descriptor*, std::unique_ptr<Shape>> shapes_;
  absl::flat_hash_map<const EnumDescriptor*, EnumNames> enums_;
};

// Shapes of messages outside the claude.v1 files are built per use: correct, just slower.
class ShapeRef {
 public:
  explicit ShapeRef(const Descriptor* d) : shape_(ShapeTable::Get().Find(d)) {
    if (shape_ == nullptr) {
      owned_ = BuildShape(d);
      shape_ = owned_.get();
    }
  }
  const Shape* operator->() const { return shape_; }
  const Shape& operator*() const { return *shape_; }

 private:
  const Shape* shape_;
  std::unique_ptr<Shape> owned_;
};

const EnumNames& EnumNamesOf(const EnumDescriptor* e) {
  if (const EnumNames* names = ShapeTable::Get().FindEnum(e); names != nullptr) return *names;
  // Enums outside the claude.v1 files: built once per thread, so no lock is needed.
  thread_local absl::flat_hash_map<const EnumDescriptor*, EnumNames> others;
  auto it = others.find(e);
  if (it == others.end()) it = others.emplace(e, BuildEnumNames(e)).first;
  return it->second;
}

// The member of a type union that a JSON "type" string selects, or nullptr. A dated type
// ("bash_20250124") selects the member named by its prefix when that member keeps the string.
const FieldDescriptor* UnionMemberForType(const Shape& shape, absl::string_view type) {
  auto it = shape.by_type.find(type);
  if (it != shape.by_type.end()) return it->second;
  constexpr size_t kDateLength = 8;
  if (type.size() > kDateLength + 1 && type[type.size() - kDateLength - 1] == '_' &&
      std::all_of(type.end() - kDateLength, type.end(), absl::ascii_isdigit)) {
    it = shape.by_type.find(type.substr(0, type.size() - kDateLength - 1));
    if (it != shape.by_type.end() && HasTypeField(it->second->message_type())) return it->second;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// JSON -> proto

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
    const Shape* shape_ptr = ShapeTable::Get().Find(msg->GetDescriptor());
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
    NestingScope(int* nesting, int levels) : nesting_(nesting), levels_(levels) { *nesting_ += levels_; }
    ~NestingScope() { *nesting_ -= levels_; }

   private:
    int* nesting_;
    int levels_;
  };

  // Enters `levels` deeper; not OK when that is deeper than protobuf's parsers accept, so a
  // reply is refused here, naming the path, instead of becoming bytes no caller can parse.
  bool TooDeep() const { return nesting_ > max_nesting_; }
  absl::Status TooDeepError() const {
    return Error(absl::StrCat("nested too deeply: protobuf parsers accept at most ", kMaxProtoNesting,
                              " levels of nested messages"));
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
      case Kind::kObject:
        return ObjectWithShape(json, msg, shape, false);
      case Kind::kTypeUnion:
        return TypeUnion(json, msg, shape);
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
    const Shape* shape_ptr = ShapeTable::Get().Find(msg->GetDescriptor());
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
    const Shape* body_shape = ShapeTable::Get().Find(body->GetDescriptor());
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
      absl::Status s = m.value_union != nullptr ? ValueUnion(value, msg, m.value_union)
                                                : Field(value, msg, m);
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
      if (r->GetOneofFieldDescriptor(*msg, m.value_union) != nullptr) r->ClearOneof(msg, m.value_union);
    } else if (m.field->is_repeated() ? r->FieldSize(*msg, m.field) > 0 : r->HasField(*msg, m.field)) {
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
        case FieldDescriptor::CPPTYPE_STRING:
          fits = t == element_type::STRING;
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          fits = t == element_type::BOOL;
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          ShapeRef shape(f->message_type());
          fits = shape->kind == Kind::kValue ||
                 (t == element_type::ARRAY &&
                  (shape->kind == Kind::kList || shape->kind == Kind::kListValue)) ||
                 (t == element_type::OBJECT && shape->kind != Kind::kList &&
                  shape->kind != Kind::kListValue);
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM:
          fits = false;
          break;
        default:
          fits = IsNumber(t);
          break;
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
  absl::Status Single(element v, Message* msg, const FieldDescriptor* f,
                      const FieldDescriptor* raw, bool add) {
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
          add ? r->AddFloat(msg, f, static_cast<float>(d)) : r->SetFloat(msg, f, static_cast<float>(d));
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
      default:
        return Integer(v, msg, f, add);
    }
  }

  absl::Status Integer(element v, Message* msg, const FieldDescriptor* f, bool add) {
    const Reflection* r = msg->GetReflection();
    int64_t i = 0;
    uint64_t u = 0;
    bool is_unsigned_value = false;
    switch (v.type()) {
      case element_type::INT64:
        i = v.get_int64().value_unsafe();
        break;
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
      default:
        return TypeError("integer", v);
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
      default:
        return Error("unsupported field type");
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

// simdjson rejects integer literals beyond 64 bits, which are valid JSON (a model may write
// one in tool input). Copies `json` to `*out` with ".0" after every integer literal of 19 or
// more digits, so it parses as a double; returns false when there is none to widen.
bool WidenBigIntegers(absl::string_view json, std::string* out) {
  bool widened = false;
  out->clear();
  out->reserve(json.size() + 16);
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (c == '"') {  // copy a string literal whole, escapes included
      size_t j = i + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, json.size());
      out->append(json.data() + i, j - i);
      i = j;
      continue;
    }
    if (absl::ascii_isdigit(c) || c == '-') {
      size_t j = i + (c == '-' ? 1 : 0);
      while (j < json.size() && absl::ascii_isdigit(json[j])) ++j;
      const bool integer = j == json.size() || (json[j] != '.' && json[j] != 'e' && json[j] != 'E');
      out->append(json.data() + i, j - i);
      if (integer && j - i - (c == '-' ? 1 : 0) >= 19) {
        out->append(".0");
        widened = true;
      }
      i = j;
      if (i < json.size() && !integer) {  // the rest of a non-integer number
        while (i < json.size() && (absl::ascii_isdigit(json[i]) || json[i] == '.' || json[i] == 'e' ||
                                   json[i] == 'E' || json[i] == '+' || json[i] == '-')) {
          out->push_back(json[i++]);
        }
      }
      continue;
    }
    out->push_back(c);
    ++i;
  }
  return widened;
}

// Documents above this size get a parser of their own, so that one large request or response
// does not leave a per-thread parser holding its capacity forever.
constexpr size_t kReusableParserLimit = 1 << 20;

// ---------------------------------------------------------------------------------------------
// proto -> JSON

void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  // Integral values print as integers: token counts and the like stay "12", not "12.0".
  if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) {
    absl::StrAppend(out, static_cast<int64_t>(d));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, ec == std::errc() ? end : buf);
}

class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}

  void Message(const google::protobuf::Message& msg, absl::string_view leading_members) {
    const Shape* shape_ptr = ShapeTable::Get().Find(msg.GetDescriptor());
    if (shape_ptr != nullptr) {
      Dispatch(msg, *shape_ptr, leading_members);
    } else {
      ShapeRef shape(msg.GetDescriptor());
      Dispatch(msg, *shape, leading_members);
    }
  }

 private:
  // Writes the separator and key of the next member of the object being written.
  void Key(bool* first, absl::string_view key) {
    if (!*first) out_->push_back(',');
    *first = false;
    AppendJsonString(key, out_);
    out_->push_back(':');
  }

  void Dispatch(const google::protobuf::Message& msg, const Shape& shape,
                absl::string_view leading_members = {}) {
    switch (shape.kind) {
      case Kind::kObject: {
        out_->push_back('{');
        bool first = true;
        if (!leading_members.empty()) {
          out_->append(leading_members.data(), leading_members.size());
          first = false;
        }
        if (!shape.implied_type.empty()) {
          Key(&first, "type");
          AppendJsonString(shape.implied_type, out_);
        }
        ObjectMembers(msg, shape, !shape.implied_type.empty(), &first);
        out_->push_back('}');
        return;
      }
      case Kind::kTypeUnion:
        TypeUnion(msg, shape);
        return;
      case Kind::kList:
        Array(msg, shape.list_field);
        return;
      case Kind::kStruct: {
        google::protobuf::Struct scratch;
        Struct(AsStruct(msg, &scratch));
        return;
      }
      case Kind::kValue: {
        google::protobuf::Value scratch;
        const auto* v = google::protobuf::DynamicCastToGenerated<google::protobuf::Value>(&msg);
        if (v == nullptr) scratch.CopyFrom(msg);
        Value(v != nullptr ? *v : scratch);
        return;
      }
      case Kind::kListValue: {
        google::protobuf::ListValue scratch;
        const auto* l = google::protobuf::DynamicCastToGenerated<google::protobuf::ListValue>(&msg);
        if (l == nullptr) scratch.CopyFrom(msg);
        List(l != nullptr ? *l : scratch);
        return;
      }
    }
  }

  void TypeUnion(const google::protobuf::Message& msg, const Shape& shape) {
    const Reflection* r = msg.GetReflection();
    const FieldDescriptor* member = r->GetOneofFieldDescriptor(msg, shape.oneof);
    if (member == nullptr) {
      out_->append("{}");  // an empty union: nothing to say, and no type to invent
      return;
    }
    const google::protobuf::Message& body = r->GetMessage(msg, member);
    if (member == shape.unknown) {
      google::protobuf::Struct scratch;
      Struct(AsStruct(body, &scratch));
      return;
    }
    ShapeRef body_shape(body.GetDescriptor());
    out_->push_back('{');
    bool first = true;
    absl::string_view type = member->name();
    if (body_shape->type_field != nullptr) {
      const std::string& stored = body.GetReflection()->GetStringReference(
          body, body_shape->type_field, nullptr);
      if (!stored.empty()) {
        type = stored;
      } else if (member == shape.default_member) {
        type = {};  // e.g. a custom tool: the API's default when "type" is left out
      }
    }
    if (!type.empty()) {
      Key(&first, "type");
      AppendJsonString(type, out_);
    }
    ObjectMembers(body, *body_shape, true, &first);
    out_->push_back('}');
  }

  // Whether member `m` of `msg` is written (as opposed to left for extra_fields to supply).
  static bool Present(const google::protobuf::Message& msg, const Member& m, const Shape& shape,
                      bool in_union) {
    const Reflection* r = msg.GetReflection();
    if (m.value_union != nullptr) return r->GetOneofFieldDescriptor(msg, m.value_union) != nullptr;
    const FieldDescriptor* f = m.field;
    if (in_union && f == shape.type_field) return false;  // the union wrote "type"
    if (f->is_repeated()) return r->FieldSize(msg, f) > 0;
    if (f->has_presence()) return r->HasField(msg, f);
    if (f->type() == FieldDescriptor::TYPE_ENUM) {
      return r->GetEnumValue(msg, f) != 0 ||
             (m.raw != nullptr && !r->GetStringReference(msg, m.raw, nullptr).empty());
    }
    // A plain scalar is a required member and always written, unless it holds its default and
    // the JSON had something else there (an explicit null), which extra_fields then writes.
    return !IsDefaultScalar(msg, f) || !ExtraHas(msg, shape, f->name());
  }

  static bool IsDefaultScalar(const google::protobuf::Message& msg, const FieldDescriptor* f) {
    const Reflection* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: return r->GetStringReference(msg, f, nullptr).empty();
      case FieldDescriptor::CPPTYPE_BOOL: return !r->GetBool(msg, f);
      case FieldDescriptor::CPPTYPE_INT32: return r->GetInt32(msg, f) == 0;
      case FieldDescriptor::CPPTYPE_INT64: return r->GetInt64(msg, f) == 0;
      case FieldDescriptor::CPPTYPE_UINT32: return r->GetUInt32(msg, f) == 0;
      case FieldDescriptor::CPPTYPE_UINT64: return r->GetUInt64(msg, f) == 0;
      case FieldDescriptor::CPPTYPE_DOUBLE: return r->GetDouble(msg, f) == 0;
      case FieldDescriptor::CPPTYPE_FLOAT: return r->GetFloat(msg, f) == 0;
      default: return false;
    }
  }

  static bool ExtraHas(const google::protobuf::Message& msg, const Shape& shape, const std::string& key) {
    const Reflection* r = msg.GetReflection();
    if (shape.extra == nullptr || !r->HasField(msg, shape.extra)) return false;
    google::protobuf::Struct scratch;
    return AsStruct(r->GetMessage(msg, shape.extra), &scratch).fields().contains(key);
  }

  // The generated Struct behind `m`, or a copy of it when `m` is a dynamic message.
  static const google::protobuf::Struct& AsStruct(const google::protobuf::Message& m,
                                                  google::protobuf::Struct* scratch) {
    if (const auto* s = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(&m)) return *s;
    scratch->CopyFrom(m);
    return *scratch;
  }

  void ObjectMembers(const google::protobuf::Message& msg, const Shape& shape, bool in_union,
                     bool* first) {
    const Reflection* r = msg.GetReflection();
    for (const Member& m : shape.members) {
      if (!Present(msg, m, shape, in_union)) continue;
      Key(first, m.key);
      if (m.value_union != nullptr) {
        FieldValue(msg, r->GetOneofFieldDescriptor(msg, m.value_union));
      } else if (m.field->type() == FieldDescriptor::TYPE_ENUM && r->GetEnumValue(msg, m.field) == 0) {
        AppendJsonString(r->GetStringReference(msg, m.raw, nullptr), out_);
      } else {
        FieldValue(msg, m.field);
      }
    }
    if (shape.extra == nullptr || !r->HasField(msg, shape.extra)) return;
    google::protobuf::Struct scratch;
    const google::protobuf::Struct& extra = AsStruct(r->GetMessage(msg, shape.extra), &scratch);
    for (const auto* entry : SortedEntries(extra)) {
      const std::string& key = entry->first;
      if (in_union && key == "type") continue;
      auto it = shape.member_index.find(key);
      if (it != shape.member_index.end() && Present(msg, shape.members[it->second], shape, in_union)) {
        continue;  // a modelled value wins over a remembered one
      }
      Key(first, key);
      Value(entry->second);
    }
  }

  void FieldValue(const google::protobuf::Message& msg, const FieldDescriptor* f) {
    if (f->is_repeated()) {
      Array(msg, f);
    } else {
      Scalar(msg, f, -1);
    }
  }

  void Array(const google::protobuf::Message& msg, const FieldDescriptor* f) {
    const int n = msg.GetReflection()->FieldSize(msg, f);
    out_->push_back('[');
    for (int i = 0; i < n; ++i) {
      if (i > 0) out_->push_back(',');
      Scalar(msg, f, i);
    }
    out_->push_back(']');
  }

  // Writes field `f` of `msg`: element `index` when repeated (index >= 0).
  void Scalar(const google::protobuf::Message& msg, const FieldDescriptor* f, int index) {
    const Reflection* r = msg.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Message(rep ? r->GetRepeatedMessage(msg, f, index) : r->GetMessage(msg, f), {});
        return;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(msg, f, index, &scratch)
                                   : r->GetStringReference(msg, f, &scratch);
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          out_->push_back('"');
          std::string encoded;
          absl::Base64Escape(s, &encoded);
          out_->append(encoded);
          out_->push_back('"');
        } else {
          AppendJsonString(s, out_);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        out_->append((rep ? r->GetRepeatedBool(msg, f, index) : r->GetBool(msg, f)) ? "true"
                                                                                    : "false");
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendDouble(rep ? r->GetRepeatedDouble(msg, f, index) : r->GetDouble(msg, f), out_);
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendDouble(rep ? r->GetRepeatedFloat(msg, f, index) : r->GetFloat(msg, f), out_);
        return;
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(out_, rep ? r->GetRepeatedInt32(msg, f, index) : r->GetInt32(msg, f));
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(out_, rep ? r->GetRepeatedInt64(msg, f, index) : r->GetInt64(msg, f));
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(out_, rep ? r->GetRepeatedUInt32(msg, f, index) : r->GetUInt32(msg, f));
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(out_, rep ? r->GetRepeatedUInt64(msg, f, index) : r->GetUInt64(msg, f));
        return;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int v = rep ? r->GetRepeatedEnumValue(msg, f, index) : r->GetEnumValue(msg, f);
        const EnumNames& names = EnumNamesOf(f->enum_type());
        auto it = names.to_json.find(v);
        if (it == names.to_json.end()) {
          out_->append("null");
        } else {
          AppendJsonString(it->second, out_);
        }
        return;
      }
    }
  }

  using StructEntry = google::protobuf::Map<std::string, google::protobuf::Value>::value_type;

  static std::vector<const StructEntry*> SortedEntries(const google::protobuf::Struct& s) {
    std::vector<const StructEntry*> entries;
    entries.reserve(s.fields().size());
    for (const auto& entry : s.fields()) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(),
              [](const StructEntry* a, const StructEntry* b) { return a->first < b->first; });
    return entries;
  }

  void Struct(const google::protobuf::Struct& s) {
    out_->push_back('{');
    bool first = true;
    for (const auto* entry : SortedEntries(s)) {
      Key(&first, entry->first);
      Value(entry->second);
    }
    out_->push_back('}');
  }

  void List(const google::protobuf::ListValue& l) {
    out_->push_back('[');
    for (int i = 0; i < l.values_size(); ++i) {
      if (i > 0) out_->push_back(',');
      Value(l.values(i));
    }
    out_->push_back(']');
  }

  void Value(const google::protobuf::Value& v) {
    switch (v.kind_case()) {
      case google::protobuf::Value::kNumberValue:
        AppendDouble(v.number_value(), out_);
        return;
      case google::protobuf::Value::kStringValue:
        AppendJsonString(v.string_value(), out_);
        return;
      case google::protobuf::Value::kBoolValue:
        out_->append(v.bool_value() ? "true" : "false");
        return;
      case google::protobuf::Value::kStructValue:
        Struct(v.struct_value());
        return;
      case google::protobuf::Value::kListValue:
        List(v.list_value());
        return;
      case google::protobuf::Value::kNullValue:
      case google::protobuf::Value::KIND_NOT_SET:
        out_->append("null");
        return;
    }
  }

  std::string* out_;
};

// Parses and decodes `json`. Text that simdjson refuses only for big integers or lone
// surrogates is repaired (WidenBigIntegers, RepairLoneSurrogates with `watch`) and parsed again.
absl::Status Decode(absl::string_view json, google::protobuf::Message* message, int nesting_above,
                    const SurrogateWatch* watch, std::vector<EdgeSurrogates>* edges) {
  message->Clear();
  // Also keeps a null data() away from simdjson, which would memcpy from it.
  if (json.empty()) return absl::InvalidArgumentError("invalid JSON: empty document");
  thread_local simdjson::dom::parser reusable_parser;
  std::unique_ptr<simdjson::dom::parser> large_parser;
  simdjson::dom::parser* parser = &reusable_parser;
  if (json.size() > kReusableParserLimit) {
    large_parser = std::make_unique<simdjson::dom::parser>();
    parser = large_parser.get();
  }
  element root;
  absl::string_view text = json;
  auto error = parser->parse(text.data(), text.size()).get(root);
  std::string widened;
  std::string repaired;
  // Each repair at most once; a document may need both.
  while (error) {
    if (error == simdjson::NUMBER_ERROR && widened.empty() && WidenBigIntegers(text, &widened)) {
      text = widened;
    } else if (error == simdjson::STRING_ERROR && repaired.empty() &&
               RepairLoneSurrogates(text, &repaired, watch, edges)) {
      text = repaired;
    } else {
      break;
    }
    error = parser->parse(text.data(), text.size()).get(root);
  }
  if (error) {
    if (edges != nullptr) edges->clear();
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  return Decoder(kMaxProtoNesting - nesting_above).Object(root, message);
}

}  // namespace

absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message* message,
                           int nesting_above) {
  return Decode(json, message, nesting_above, nullptr, nullptr);
}

absl::Status JsonToStreamEvent(absl::string_view json, claude::v1::MessageStreamEvent* event,
                               std::vector<EdgeSurrogates>* delta_edges) {
  static const SurrogateWatch* const kDeltaStrings =
      new SurrogateWatch{"delta", {"text", "thinking", "partial_json"}};
  delta_edges->clear();
  return Decode(json, event, 0, kDeltaStrings, delta_edges);
}

void MessageToJson(const google::protobuf::Message& message, std::string* out,
                   absl::string_view leading_members) {
  Encoder(out).Message(message, leading_members);
}

std::string CreateMessageBody(const claude::v1::CreateMessageRequest& request, bool stream) {
  std::string body;
  MessageToJson(request, &body, stream ? "\"stream\":true" : "");
  return body;
}

std::string MessageToJsonString(const google::protobuf::Message& message) {
  std::string out;
  MessageToJson(message, &out);
  return out;
}

void AppendJsonString(absl::string_view text, std::string* out) {
  // Characters that JSON requires escaped: controls, quote and backslash.
  static constexpr auto kNeedsEscape = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 0x20; ++c) table[c] = true;
    table['"'] = true;
    table['\\'] = true;
    return table;
  }();
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) continue;
    out->append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out->append(escaped, sizeof(escaped));
      }
    }
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

}  // namespace claude
