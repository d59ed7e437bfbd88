#include "common/codec/split_character_joiner.h"

#include <string>
#include <utility>

#include "common/codec/json_mapping.h"

namespace claude {
namespace {

using claude::v1::ContentBlockDelta;
using claude::v1::MessageStreamEvent;

// The string that a delta of this kind carries its text in, and the JSON member it comes from;
// nullptr for kinds that carry no text (signature, citations, unknown).
std::string* CarriedText(ContentBlockDelta* delta, absl::string_view* member) {
  switch (delta->delta_case()) {
    case ContentBlockDelta::kTextDelta:
      *member = "text";
      return delta->mutable_text_delta()->mutable_text();
    case ContentBlockDelta::kThinkingDelta:
      *member = "thinking";
      return delta->mutable_thinking_delta()->mutable_thinking();
    case ContentBlockDelta::kInputJsonDelta:
      *member = "partial_json";
      return delta->mutable_input_json_delta()->mutable_partial_json();
    default: return nullptr;
  }
}

}  // namespace

absl::Status SplitCharacterJoiner::Decode(absl::string_view json, Emit emit) {
  MessageStreamEvent event;
  if (absl::Status s = JsonToStreamEvent(json, &event, &edges_); !s.ok()) return s;
  const bool is_delta = event.has_content_block_delta();
  if ((is_delta && !Join(event.mutable_content_block_delta(), edges_)) ||
      (!is_delta && !edges_.empty())) {
    // The halves cut out were not those of the event's own text (a delta of another kind, a
    // duplicated member): decode it plainly, each lone half becoming U+FFFD where it stands.
    if (absl::Status s = JsonToMessage(json, &event); !s.ok()) return s;
    if (event.has_content_block_delta()) Join(event.mutable_content_block_delta(), {});
  }
  if (event.has_content_block_stop()) {
    if (absl::Status s = Flush(event.content_block_stop().index(), emit); !s.ok()) return s;
  } else if (event.has_message_stop()) {
    if (absl::Status s = Flush(-1, emit); !s.ok()) return s;
  }
  return emit(std::move(event));
}

bool SplitCharacterJoiner::Join(claude::v1::ContentBlockDeltaEvent* delta,
                                const std::vector<EdgeSurrogates>& edges) {
  absl::string_view member;
  std::string* text = CarriedText(delta->mutable_delta(), &member);
  if (edges.size() > 1 || (!edges.empty() && (text == nullptr || edges[0].member != member))) {
    return false;
  }
  if (text == nullptr) return true;  // no text to join: a half carried waits for the next one
  uint16_t low = edges.empty() ? 0 : edges[0].leading_low;
  const uint16_t high = edges.empty() ? 0 : edges[0].trailing_high;
  std::string prefix;
  if (auto it = carried_.find(delta->index()); it != carried_.end()) {
    if (low != 0) {
      AppendUtf8(CombineSurrogates(it->second.high, low), &prefix);
      low = 0;
    } else {
      prefix = kReplacementCharacterUtf8;
    }
    carried_.erase(it);
  }
  if (low != 0) prefix += kReplacementCharacterUtf8;
  if (!prefix.empty()) text->insert(0, prefix);
  if (high != 0) carried_[delta->index()] = Carried{high, delta->delta().delta_case()};
  return true;
}

absl::Status SplitCharacterJoiner::Flush(int64_t index, Emit emit) {
  auto it = index < 0 ? carried_.begin() : carried_.find(index);
  while (it != carried_.end()) {
    MessageStreamEvent replacement;
    claude::v1::ContentBlockDeltaEvent* delta = replacement.mutable_content_block_delta();
    delta->set_index(it->first);
    switch (it->second.kind) {
      case ContentBlockDelta::kThinkingDelta:
        delta->mutable_delta()->mutable_thinking_delta()->set_thinking(kReplacementCharacterUtf8);
        break;
      case ContentBlockDelta::kInputJsonDelta:
        delta->mutable_delta()->mutable_input_json_delta()->set_partial_json(
            kReplacementCharacterUtf8);
        break;
      default:
        delta->mutable_delta()->mutable_text_delta()->set_text(kReplacementCharacterUtf8);
        break;
    }
    it = carried_.erase(it);
    if (absl::Status s = emit(std::move(replacement)); !s.ok()) return s;
    if (index >= 0) break;
  }
  return absl::OkStatus();
}

}  // namespace claude
