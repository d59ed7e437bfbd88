#include "service/sse/sse_parser.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace claude {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The first `c` in [p, end), or end. memchr is vectorized in glibc, which
// matters for long data lines.
const char* Find(const char* p, const char* end, char c) {
  const void* hit = std::memchr(p, c, static_cast<size_t>(end - p));
  return hit != nullptr ? static_cast<const char*>(hit) : end;
}

}  // namespace

SseParser::SseParser(size_t max_event_bytes)
    : max_event_bytes_(max_event_bytes) {}

absl::Status SseParser::Feed(std::string_view chunk, EventCallback on_event) {
  if (failed_) {
    return absl::FailedPreconditionError(
        "SseParser::Feed called after an earlier error");
  }
  absl::Status status = Scan(chunk, on_event);
  if (!status.ok()) {
    Fail();
    return status;
  }
  // data_view_ may point into the chunk, which the caller may free as soon as
  // we return.
  if (data_in_chunk_) {
    data_.assign(data_view_);
    data_in_chunk_ = false;
    data_view_ = {};
  }
  return absl::OkStatus();
}

bool SseParser::HasPartialEvent() const {
  return !line_.empty() || has_data_ || !event_.empty();
}

absl::Status SseParser::Scan(std::string_view chunk, EventCallback on_event) {
  if (chunk.empty()) return absl::OkStatus();
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  if (skip_lf_) {
    // The previous chunk ended in CR, which already ended the line; an LF here
    // is the second half of the same CRLF.
    skip_lf_ = false;
    if (*p == '\n' && ++p == end) return absl::OkStatus();
  }
  // The next LF and the next CR at or after p (end if none). Each is searched
  // for again only once p has passed it, so every byte is looked at at most
  // once per terminator whatever mix of line endings the body uses.
  const char* lf = Find(p, end, '\n');
  const char* cr = Find(p, end, '\r');
  while (p < end) {
    if (lf < p) lf = Find(p, end, '\n');
    if (cr < p) cr = Find(p, end, '\r');
    const char* const eol = std::min(lf, cr);
    if (eol == end) {
      const size_t n = static_cast<size_t>(end - p);
      if (absl::Status s = CheckLineFits(line_.size() + n); !s.ok()) return s;
      line_.append(p, n);
      return absl::OkStatus();
    }
    std::string_view line(p, static_cast<size_t>(eol - p));
    // The common case, a line wholly inside the chunk, is parsed in place.
    const bool line_in_chunk = line_.empty();
    if (absl::Status s = CheckLineFits(line_.size() + line.size()); !s.ok()) {
      return s;
    }
    if (!line_in_chunk) {
      line_.append(line);
      line = line_;
    }
    p = eol + 1;
    if (*eol == '\r') {
      if (p == end) {
        skip_lf_ = true;
      } else if (*p == '\n') {
        ++p;
      }
    }
    absl::Status s = ProcessLine(line, line_in_chunk, on_event);
    line_.clear();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SseParser::ProcessLine(std::string_view line, bool line_in_chunk,
                                    EventCallback on_event) {
  if (at_stream_start_) {
    // Checking the first whole line rather than the first bytes handles a BOM
    // split across chunks without extra state.
    at_stream_start_ = false;
    if (line.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
      line.remove_prefix(kUtf8Bom.size());
    }
  }
  if (line.empty()) return Dispatch(on_event);
  if (line.front() == ':') return absl::OkStatus();
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    AppendData(value, line_in_chunk);
  } else if (field == "event") {
    event_.assign(value);
  }
  return absl::OkStatus();
}

void SseParser::AppendData(std::string_view value, bool value_in_chunk) {
  if (!has_data_) {
    has_data_ = true;
    // Most events have one data line that arrives with its blank line in the
    // same chunk; borrowing it saves a copy of every payload.
    if (value_in_chunk) {
      data_in_chunk_ = true;
      data_view_ = value;
    } else {
      data_.assign(value);
    }
    return;
  }
  if (data_in_chunk_) {
    data_.assign(data_view_);
    data_in_chunk_ = false;
    data_view_ = {};
  }
  data_.push_back('\n');
  data_.append(value);
}

absl::Status SseParser::Dispatch(EventCallback on_event) {
  absl::Status status;
  if (has_data_) status = on_event(SseEvent{event_, Data()});
  // clear() keeps the capacity, so steady-state streaming does not allocate.
  event_.clear();
  data_.clear();
  has_data_ = false;
  data_in_chunk_ = false;
  data_view_ = {};
  return status;
}

absl::Status SseParser::CheckLineFits(size_t line_bytes) const {
  // EventBytes() <= max_event_bytes_ always holds: a completed line adds to
  // the event at most its own size, which was checked here first.
  if (line_bytes > max_event_bytes_ - EventBytes()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "SSE event exceeds the limit of ", max_event_bytes_, " bytes"));
  }
  return absl::OkStatus();
}

size_t SseParser::EventBytes() const { return event_.size() + Data().size(); }

std::string_view SseParser::Data() const {
  return data_in_chunk_ ? data_view_ : std::string_view(data_);
}

void SseParser::Fail() {
  failed_ = true;
  has_data_ = false;
  data_in_chunk_ = false;
  data_view_ = {};
  // Swapping with empty strings frees the capacity, which may be near the
  // limit.
  std::string().swap(data_);
  std::string().swap(event_);
  std::string().swap(line_);
}

}  // namespace claude
