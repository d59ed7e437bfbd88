#include "common/codec/lone_surrogates.h"

#include <algorithm>

namespace claude {
namespace {

bool IsHighSurrogate(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLowSurrogate(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

// The code unit of the escape "\uXXXX" at json[i], or -1 when there is none there.
int EscapedUnit(absl::string_view json, size_t i) {
  if (i + 6 > json.size() || json[i] != '\\' || json[i + 1] != 'u') return -1;
  int unit = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const char c = json[k];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return -1;
    }
    unit = unit * 16 + digit;
  }
  return unit;
}

constexpr absl::string_view kEscapedReplacement = "\\ufffd";
constexpr size_t kEscapeLength = 6;  // \uXXXX

// An object or array being scanned.
struct Frame {
  bool object = false;
  bool expect_key = false;  // objects: the next string is a key
  bool watched = false;     // the object SurrogateWatch::object names
  absl::string_view key;    // objects: the key of the member being read
};

class Repairer {
 public:
  Repairer(absl::string_view json, std::string* out, const SurrogateWatch* watch,
           std::vector<EdgeSurrogates>* edges)
      : json_(json), out_(out), watch_(watch), edges_(edges) {}

  bool Run() {
    out_->clear();
    out_->reserve(json_.size());
    size_t i = 0;
    while (i < json_.size()) {
      const char c = json_[i];
      switch (c) {
        case '"': i = String(i); continue;
        case '{': {
          Frame frame;
          frame.object = true;
          frame.expect_key = true;
          frame.watched = watch_ != nullptr && frames_.size() == 1 && frames_[0].object &&
                          frames_[0].key == watch_->object;
          frames_.push_back(frame);
          break;
        }
        case '[': frames_.push_back(Frame{}); break;
        case '}':
        case ']':
          if (!frames_.empty()) frames_.pop_back();
          break;
        case ',':
          if (!frames_.empty() && frames_.back().object) frames_.back().expect_key = true;
          break;
        default: break;
      }
      out_->push_back(c);
      ++i;
    }
    return repaired_;
  }

 private:
  // Copies the string literal that starts at json_[start] (a quote); returns the index after it.
  size_t String(size_t start) {
    Frame* frame = frames_.empty() ? nullptr : &frames_.back();
    const bool is_key = frame != nullptr && frame->object && frame->expect_key;
    size_t end = start + 1;  // after the closing quote, once found
    // Find the literal's end first: whether a surrogate is at the string's end depends on it.
    while (end < json_.size() && json_[end] != '"') end += json_[end] == '\\' ? 2 : 1;
    end = std::min(end, json_.size());
    const absl::string_view body = json_.substr(start + 1, end - start - 1);
    if (is_key) {
      frame->key = body;
      frame->expect_key = false;
    }
    const bool watched = !is_key && frame != nullptr && frame->watched &&
                         std::find(watch_->members.begin(), watch_->members.end(), frame->key) !=
                             watch_->members.end();
    EdgeSurrogates edge;
    out_->push_back('"');
    size_t i = 0;
    while (i < body.size()) {
      const size_t special = body.find('\\', i);
      if (special == absl::string_view::npos) {
        out_->append(body.data() + i, body.size() - i);
        break;
      }
      out_->append(body.data() + i, special - i);
      i = special;
      const int unit = EscapedUnit(body, i);
      if (unit < 0) {  // another escape: copy it whole
        const size_t n = std::min<size_t>(2, body.size() - i);
        out_->append(body.data() + i, n);
        i += n;
        continue;
      }
      if (IsHighSurrogate(unit) && IsLowSurrogate(EscapedUnit(body, i + kEscapeLength))) {
        out_->append(body.data() + i, 2 * kEscapeLength);  // a proper pair
        i += 2 * kEscapeLength;
        continue;
      }
      if (!IsHighSurrogate(unit) && !IsLowSurrogate(unit)) {
        out_->append(body.data() + i, kEscapeLength);
        i += kEscapeLength;
        continue;
      }
      repaired_ = true;
      if (watched && IsLowSurrogate(unit) && i == 0) {
        edge.leading_low = static_cast<uint16_t>(unit);
      } else if (watched && IsHighSurrogate(unit) && i + kEscapeLength == body.size()) {
        edge.trailing_high = static_cast<uint16_t>(unit);
      } else {
        out_->append(kEscapedReplacement.data(), kEscapedReplacement.size());
      }
      i += kEscapeLength;
    }
    if (end < json_.size()) out_->push_back('"');
    if ((edge.leading_low != 0 || edge.trailing_high != 0) && edges_ != nullptr) {
      edge.member = std::string(frame->key);
      edges_->push_back(std::move(edge));
    }
    return end < json_.size() ? end + 1 : end;
  }

  absl::string_view json_;
  std::string* out_;
  const SurrogateWatch* watch_;
  std::vector<EdgeSurrogates>* edges_;
  std::vector<Frame> frames_;
  bool repaired_ = false;
};

}  // namespace

bool RepairLoneSurrogates(absl::string_view json, std::string* out, const SurrogateWatch* watch,
                          std::vector<EdgeSurrogates>* edges) {
  return Repairer(json, out, watch, edges).Run();
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace claude
