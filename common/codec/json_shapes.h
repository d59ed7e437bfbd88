// Internal to the codec (json_mapping.h is its interface): how each message type maps to JSON,
// worked out once from its descriptor, and the JSON names of enum values. The decoder
// (json_decoder.h) and the encoder (json_encoder.h) both walk messages by these shapes.
#ifndef COMMON_CODEC_JSON_SHAPES_H_
#define COMMON_CODEC_JSON_SHAPES_H_

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace claude {
namespace json_internal {

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
  const google::protobuf::FieldDescriptor* field = nullptr;
  const google::protobuf::OneofDescriptor* value_union = nullptr;
  const google::protobuf::FieldDescriptor* raw =
      nullptr;  // "<enum field>_raw": the string of unknown values
};

struct Shape {
  Kind kind = Kind::kObject;
  // kObject
  std::vector<Member> members;  // declaration order
  absl::flat_hash_map<std::string, size_t> member_index;
  const google::protobuf::FieldDescriptor* extra = nullptr;       // extra_fields
  const google::protobuf::FieldDescriptor* type_field = nullptr;  // a `string type` field, if any
  // The "type" this message has in the one type union that holds it ("text" for TextBlock),
  // written and checked where the message stands on its own (system blocks, search results).
  std::string implied_type;
  // kTypeUnion
  const google::protobuf::OneofDescriptor* oneof = nullptr;
  const google::protobuf::FieldDescriptor* unknown = nullptr;
  const google::protobuf::FieldDescriptor* default_member =
      nullptr;  // takes objects that have no "type"
  absl::flat_hash_map<std::string, const google::protobuf::FieldDescriptor*> by_type;
  // kList
  const google::protobuf::FieldDescriptor* list_field = nullptr;
};

// JSON strings of an enum's values: STOP_REASON_END_TURN <-> "end_turn".
struct EnumNames {
  absl::flat_hash_map<int, std::string> to_json;
  absl::flat_hash_map<std::string, int> from_json;
};

// The shape of `d` worked out from its descriptor (what the table below caches).
std::unique_ptr<Shape> BuildShape(const google::protobuf::Descriptor* d);

// The shape of `d` if `d` belongs to the claude.v1 files (built once at first use, immutable
// afterwards, so lookups need no lock); nullptr otherwise.
const Shape* FindCachedShape(const google::protobuf::Descriptor* d);

// Shapes of messages outside the claude.v1 files are built per use: correct, just slower.
class ShapeRef {
 public:
  explicit ShapeRef(const google::protobuf::Descriptor* d) : shape_(FindCachedShape(d)) {
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

const EnumNames& EnumNamesOf(const google::protobuf::EnumDescriptor* e);

// The member of a type union that a JSON "type" string selects, or nullptr. A dated type
// ("bash_20250124") selects the member named by its prefix when that member keeps the string.
const google::protobuf::FieldDescriptor* UnionMemberForType(const Shape& shape,
                                                            absl::string_view type);

}  // namespace json_internal
}  // namespace claude

#endif  // COMMON_CODEC_JSON_SHAPES_H_
