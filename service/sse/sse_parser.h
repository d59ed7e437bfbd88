#ifndef SERVICE_SSE_SSE_PARSER_H_
#define SERVICE_SSE_SSE_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace claude {

// One dispatched event. Views are valid only during the callback.
struct SseEvent {
  std::string_view event;  // the "event:" field, empty if none was given
  std::string_view
      data;  // the "data:" lines joined with '\n' (no trailing '\n')
};

// Incremental parser for a `text/event-stream` body, following the WHATWG
// EventSource parsing rules:
//   - lines end in LF, CRLF or a lone CR, also when the CR and the LF arrive
//     in different chunks;
//   - a UTF-8 BOM at the very start of the stream is skipped;
//   - lines starting with ':' are comments;
//   - `field:value` loses one optional space after the colon; a line without a
//     colon is a field with an empty value;
//   - `data` appends a line to the data buffer, `event` sets the event type,
//     every other field (`id`, `retry`, unknown ones) is ignored;
//   - a blank line dispatches the event if the data buffer is not empty, and
//     then resets the data buffer and the event type either way.
//
// The size of an event, checked against `max_event_bytes`, is the size of its
// data buffer and event type plus the raw bytes of the line being read (line
// terminators excluded). It does not depend on how the body is chunked, so a
// body either always or never fails the limit.
//
// Not thread-safe; use one parser per stream.
class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 16 * 1024 * 1024;

  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes);

  // Feeds the next chunk of the body (any split, even inside a CRLF or a UTF-8
  // sequence). Calls `on_event` for each completed event, in order. Returns the
  // first non-OK status of `on_event` (no further events are dispatched), or
  // RESOURCE_EXHAUSTED when one event exceeds `max_event_bytes`; the message
  // says the limit. After an error the parser releases its buffers and every
  // later Feed returns FAILED_PRECONDITION. Memory stays bounded by
  // `max_event_bytes` (plus the chunk, which is never copied whole).
  absl::Status Feed(std::string_view chunk,
                    absl::FunctionRef<absl::Status(const SseEvent&)> on_event);

  // True when bytes of an unfinished event are held: the body ended mid-event
  // (an unterminated line, or fields not yet closed by a blank line). A body
  // ending after a comment or an ignored field line is not partial. False after
  // an error, since the parser then holds nothing.
  bool HasPartialEvent() const;

 private:
  using EventCallback = absl::FunctionRef<absl::Status(const SseEvent&)>;

  absl::Status Scan(std::string_view chunk, EventCallback on_event);
  absl::Status ProcessLine(std::string_view line, bool line_in_chunk,
                           EventCallback on_event);
  void AppendData(std::string_view value, bool value_in_chunk);
  absl::Status Dispatch(EventCallback on_event);
  // RESOURCE_EXHAUSTED unless a line of `line_bytes` fits in the event.
  absl::Status CheckLineFits(size_t line_bytes) const;
  size_t EventBytes() const;
  std::string_view Data() const;
  void Fail();

  size_t max_event_bytes_;
  bool failed_ = false;
  bool at_stream_start_ = true;  // the next completed line is the first one
  bool skip_lf_ = false;         // the previous chunk ended in CR
  bool has_data_ = false;        // the data buffer holds at least one line
  // When the data buffer is a single line still inside the caller's chunk,
  // data_view_ points at it and data_ is unused; Feed copies it into data_
  // before returning.
  bool data_in_chunk_ = false;
  std::string_view data_view_;
  std::string data_;   // data lines joined with '\n'
  std::string event_;  // the event type
  std::string line_;   // an unterminated line carried over from earlier chunks
};

}  // namespace claude

#endif  // SERVICE_SSE_SSE_PARSER_H_
