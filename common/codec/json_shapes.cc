#include "common/codec/json_shapes.h"

#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "claude/v1/message_batches.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/models.pb.h"

namespace claude {
namespace json_internal {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;

namespace {

bool IsStruct(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_MESSAGE &&
         f->message_type()->full_name() == "google.protobuf.Struct";
}

bool HasTypeField(const Descriptor* d) {
  const FieldDescriptor* f = d->FindFieldByName("type");
  return f != nullptr && f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated();
}

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

}  // namespace

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
const Shape* FindCachedShape(const Descriptor* d) { return ShapeTable::Get().Find(d); }

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

}  // namespace json_internal
}  // namespace claude
