#include "common/codec/json_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/struct.pb.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/codec/json_mapping.h"
#include "common/codec/json_shapes.h"

namespace claude {
namespace json_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

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
    const Shape* shape_ptr = FindCachedShape(msg.GetDescriptor());
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
      case Kind::kTypeUnion: TypeUnion(msg, shape); return;
      case Kind::kList: Array(msg, shape.list_field); return;
      case Kind::kStruct: {
        google::protobuf::Struct scratch;
        Struct(AsGenerated(msg, &scratch));
        return;
      }
      case Kind::kValue: {
        google::protobuf::Value scratch;
        Value(AsGenerated(msg, &scratch));
        return;
      }
      case Kind::kListValue: {
        google::protobuf::ListValue scratch;
        List(AsGenerated(msg, &scratch));
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
      Struct(AsGenerated(body, &scratch));
      return;
    }
    ShapeRef body_shape(body.GetDescriptor());
    out_->push_back('{');
    bool first = true;
    absl::string_view type = member->name();
    if (body_shape->type_field != nullptr) {
      const std::string& stored =
          body.GetReflection()->GetStringReference(body, body_shape->type_field, nullptr);
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

  static bool ExtraHas(const google::protobuf::Message& msg, const Shape& shape,
                       const std::string& key) {
    const Reflection* r = msg.GetReflection();
    if (shape.extra == nullptr || !r->HasField(msg, shape.extra)) return false;
    google::protobuf::Struct scratch;
    return AsGenerated(r->GetMessage(msg, shape.extra), &scratch).fields().contains(key);
  }

  // `m` as its generated class (Struct, Value, ListValue), or a copy of it in `scratch` when
  // `m` is a dynamic message.
  template <typename Generated>
  static const Generated& AsGenerated(const google::protobuf::Message& m, Generated* scratch) {
    if (const auto* generated = google::protobuf::DynamicCastToGenerated<Generated>(&m))
      return *generated;
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
      } else if (m.field->type() == FieldDescriptor::TYPE_ENUM &&
                 r->GetEnumValue(msg, m.field) == 0) {
        AppendJsonString(r->GetStringReference(msg, m.raw, nullptr), out_);
      } else {
        FieldValue(msg, m.field);
      }
    }
    if (shape.extra == nullptr || !r->HasField(msg, shape.extra)) return;
    google::protobuf::Struct scratch;
    const google::protobuf::Struct& extra = AsGenerated(r->GetMessage(msg, shape.extra), &scratch);
    for (const auto* entry : SortedEntries(extra)) {
      const std::string& key = entry->first;
      if (in_union && key == "type") continue;
      auto it = shape.member_index.find(key);
      if (it != shape.member_index.end() &&
          Present(msg, shape.members[it->second], shape, in_union)) {
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
      case google::protobuf::Value::kNumberValue: AppendDouble(v.number_value(), out_); return;
      case google::protobuf::Value::kStringValue: AppendJsonString(v.string_value(), out_); return;
      case google::protobuf::Value::kBoolValue:
        out_->append(v.bool_value() ? "true" : "false");
        return;
      case google::protobuf::Value::kStructValue: Struct(v.struct_value()); return;
      case google::protobuf::Value::kListValue: List(v.list_value()); return;
      case google::protobuf::Value::kNullValue:
      case google::protobuf::Value::KIND_NOT_SET: out_->append("null"); return;
    }
  }

  std::string* out_;
};

}  // namespace

void EncodeMessage(const google::protobuf::Message& message, std::string* out,
                   absl::string_view leading_members) {
  Encoder(out).Message(message, leading_members);
}

}  // namespace json_internal
}  // namespace claude
