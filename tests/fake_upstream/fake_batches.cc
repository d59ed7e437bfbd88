#include "tests/fake_upstream/fake_batches.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "claude/v1/message_batches.pb.h"
#include "common/codec/json_mapping.h"

namespace claude {
namespace testing {
namespace {

constexpr char kCollection[] = "/v1/messages/batches";

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

// A JSON member `"name":"<time>"`, or `"name":null`.
void AppendTimeMember(absl::string_view name, const std::optional<absl::Time>& t, std::string* out) {
  absl::StrAppend(out, ",\"", name, "\":");
  if (t) {
    AppendJsonString(Rfc3339(*t), out);
  } else {
    out->append("null");
  }
}

FakeReply Json(int status, std::string body) { return JsonReply(status, std::move(body)); }

FakeReply NotFound(absl::string_view id, int n) {
  return Json(404, ApiErrorBody("not_found_error", absl::StrCat("message batch not found: ", id), n));
}

// The value of `key` in a URL query ("a=1&b=2"); nullopt when absent.
std::optional<std::string> QueryValue(absl::string_view query, absl::string_view key) {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first == key) return std::string(kv.second);
  }
  return std::nullopt;
}

}  // namespace

void FakeBatches::set_processing_time(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_time_ = d;
}

void FakeBatches::set_cancel_time(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  cancel_time_ = d;
}

std::string FakeBatches::AddSyntheticBatch(int64_t count, size_t text_bytes) {
  auto batch = std::make_shared<Batch>();
  std::lock_guard<std::mutex> lock(mu_);
  batch->id = absl::StrCat("msgbatch_fake_", ++next_id_);
  batch->created = absl::Now() - processing_time_;  // already ended
  batch->synthetic = true;
  batch->synthetic_count = count;
  batch->synthetic_text_bytes = text_bytes;
  batches_.push_back(batch);
  return batch->id;
}

std::optional<absl::Time> FakeBatches::EndedAt(const Batch& batch) const {
  if (batch.synthetic) return batch.created;
  absl::Time end = batch.created + processing_time_;
  if (batch.cancel_initiated) end = std::min(end, *batch.cancel_initiated + cancel_time_);
  return end;
}

const char* FakeBatches::StatusOf(const Batch& batch, absl::Time now) const {
  if (now >= *EndedAt(batch)) return "ended";
  return batch.cancel_initiated ? "canceling" : "in_progress";
}

std::string FakeBatches::BatchJson(const Batch& batch, absl::Time now, const std::string& base_url) const {
  const absl::string_view status = StatusOf(batch, now);
  const bool ended = status == "ended";
  const int64_t total = batch.synthetic ? batch.synthetic_count : static_cast<int64_t>(batch.custom_ids.size());
  int64_t succeeded = 0, errored = 0, canceled = 0, expired = 0;
  if (ended && batch.cancel_initiated && *batch.cancel_initiated + cancel_time_ <= batch.created + processing_time_) {
    canceled = total;  // canceled before any request was processed
  } else if (ended) {
    if (batch.synthetic) succeeded = total;
    for (Outcome outcome : batch.outcomes) {
      (outcome == Outcome::kSucceeded ? succeeded : outcome == Outcome::kErrored ? errored : expired) += 1;
    }
  }
  std::string out = "{\"id\":";
  AppendJsonString(batch.id, &out);
  absl::StrAppend(&out, ",\"type\":\"message_batch\",\"processing_status\":\"", status, "\"");
  absl::StrAppend(&out, ",\"request_counts\":{\"processing\":", ended ? 0 : total, ",\"succeeded\":", succeeded,
                  ",\"errored\":", errored, ",\"canceled\":", canceled, ",\"expired\":", expired, "}");
  AppendTimeMember("created_at", batch.created, &out);
  AppendTimeMember("ended_at", ended ? EndedAt(batch) : std::nullopt, &out);
  AppendTimeMember("expires_at", batch.created + absl::Hours(24), &out);
  AppendTimeMember("cancel_initiated_at", batch.cancel_initiated, &out);
  out.append(",\"archived_at\":null,\"results_url\":");
  if (ended) {
    AppendJsonString(absl::StrCat(base_url, kCollection, "/", batch.id, "/results"), &out);
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

FakeBatches::Batch* FakeBatches::Find(const std::string& id) {
  for (const auto& batch : batches_) {
    if (batch->id == id) return batch.get();
  }
  return nullptr;
}

FakeReply FakeBatches::Create(const std::string& body, int n, const std::string& base_url) {
  claude::v1::CreateMessageBatchRequest request;
  if (absl::Status s = JsonToMessage(body, &request); !s.ok()) {
    return Json(400, ApiErrorBody("invalid_request_error", s.message(), n));
  }
  if (request.requests().empty()) return Json(400, ApiErrorBody("invalid_request_error", "requests: required", n));
  auto batch = std::make_shared<Batch>();
  batch->id = absl::StrCat("msgbatch_fake_", ++next_id_);
  batch->created = absl::Now();
  for (int i = 0; i < request.requests_size(); ++i) {
    const claude::v1::MessageBatchRequest& item = request.requests(i);
    const std::string text = LastUserTextOf(item.params());
    batch->custom_ids.push_back(item.custom_id());
    batch->outcomes.push_back(text == "error"    ? Outcome::kErrored
                              : text == "expire" ? Outcome::kExpired
                                                 : Outcome::kSucceeded);
    // The whole echo Message, made now, numbered as the create request.
    batch->texts.push_back(EchoMessageJson(n, item.params()));
  }
  batches_.push_back(batch);
  return Json(200, BatchJson(*batch, batch->created, base_url));
}

FakeReply FakeBatches::List(const std::string& query, const std::string& base_url) {
  const absl::Time now = absl::Now();
  int64_t limit = 20;
  if (std::optional<std::string> l = QueryValue(query, "limit")) {
    if (!absl::SimpleAtoi(*l, &limit) || limit < 1 || limit > 1000) limit = 20;
  }
  // Newest first; after_id: the page after (older than) that id; before_id: the page just
  // before (newer than) it.
  std::vector<const Batch*> order;
  for (auto it = batches_.rbegin(); it != batches_.rend(); ++it) order.push_back(it->get());
  size_t begin = 0, end = order.size();
  auto index_of = [&](const std::string& id) -> std::optional<size_t> {
    for (size_t i = 0; i < order.size(); ++i) {
      if (order[i]->id == id) return i;
    }
    return std::nullopt;
  };
  if (std::optional<std::string> after = QueryValue(query, "after_id")) {
    if (std::optional<size_t> i = index_of(*after)) begin = *i + 1;
  }
  bool has_more = false;
  if (std::optional<std::string> before = QueryValue(query, "before_id")) {
    if (std::optional<size_t> i = index_of(*before)) end = *i;
    if (end > static_cast<size_t>(limit)) {
      begin = end - static_cast<size_t>(limit);
      has_more = true;
    }
  } else {
    if (end - std::min(begin, end) > static_cast<size_t>(limit)) {
      end = begin + static_cast<size_t>(limit);
      has_more = true;
    }
  }
  std::string out = "{\"data\":[";
  for (size_t i = begin; i < end; ++i) {
    if (i != begin) out.push_back(',');
    out += BatchJson(*order[i], now, base_url);
  }
  absl::StrAppend(&out, "],\"has_more\":", has_more ? "true" : "false");
  if (begin < end) {
    out.append(",\"first_id\":");
    AppendJsonString(order[begin]->id, &out);
    out.append(",\"last_id\":");
    AppendJsonString(order[end - 1]->id, &out);
  } else {
    out.append(",\"first_id\":null,\"last_id\":null");
  }
  out.push_back('}');
  return Json(200, std::move(out));
}

FakeReply FakeBatches::Results(const Batch& batch) const {
  FakeReply reply;
  reply.headers = {{"content-type", "application/binary"}};
  const bool all_canceled =
      batch.cancel_initiated && *batch.cancel_initiated + cancel_time_ <= batch.created + processing_time_;
  // Copies, not the batch: the generator outlives this lock, and the batch may be deleted.
  auto source = std::make_shared<Batch>(batch);
  int64_t next = 0;
  reply.generator = [source, next, all_canceled](std::string* piece) mutable {
    const int64_t total =
        source->synthetic ? source->synthetic_count : static_cast<int64_t>(source->custom_ids.size());
    if (next >= total) return false;
    const int64_t i = next++;
    piece->assign("{\"custom_id\":");
    if (source->synthetic) {
      AppendJsonString(absl::StrCat("r", i), piece);
      piece->append(",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_fake_r");
      absl::StrAppend(piece, i, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-fake-1\"");
      piece->append(",\"content\":[{\"type\":\"text\",\"text\":\"");
      piece->append(source->synthetic_text_bytes, 'x');
      piece->append("\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,");
      piece->append("\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}}\n");
      return true;
    }
    AppendJsonString(source->custom_ids[i], piece);
    piece->append(",\"result\":");
    if (all_canceled) {
      piece->append("{\"type\":\"canceled\"}");
    } else {
      switch (source->outcomes[i]) {
        case Outcome::kSucceeded:
          absl::StrAppend(piece, "{\"type\":\"succeeded\",\"message\":", source->texts[i], "}");
          break;
        case Outcome::kErrored:
          absl::StrAppend(piece, "{\"type\":\"errored\",\"error\":",
                          ApiErrorBody("invalid_request_error", "the fake was asked for an error", 0), "}");
          break;
        case Outcome::kExpired:
          piece->append("{\"type\":\"expired\"}");
          break;
      }
    }
    piece->append("}\n");
    return true;
  };
  return reply;
}

std::optional<FakeReply> FakeBatches::Handle(const RecordedRequest& request, int n, const std::string& base_url) {
  absl::string_view target = request.path;
  const size_t question = target.find('?');
  const absl::string_view route = target.substr(0, question);
  const std::string query = question == absl::string_view::npos ? "" : std::string(target.substr(question + 1));
  if (!absl::StartsWith(route, kCollection)) return std::nullopt;
  absl::string_view rest = route.substr(sizeof(kCollection) - 1);
  std::lock_guard<std::mutex> lock(mu_);
  if (rest.empty()) {
    if (request.method == "POST") return Create(request.body, n, base_url);
    if (request.method == "GET") return List(query, base_url);
    return std::nullopt;
  }
  if (rest.front() != '/') return std::nullopt;
  rest.remove_prefix(1);
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  Batch* batch = Find(parts[0]);
  if (batch == nullptr) return NotFound(parts[0], n);
  const absl::Time now = absl::Now();
  if (parts.size() == 1 && request.method == "GET") return Json(200, BatchJson(*batch, now, base_url));
  if (parts.size() == 1 && request.method == "DELETE") {
    if (absl::string_view(StatusOf(*batch, now)) != "ended") {
      return Json(400, ApiErrorBody("invalid_request_error",
                                    "a batch can be deleted only once it has ended; cancel it first", n));
    }
    std::string body = "{\"id\":";
    AppendJsonString(batch->id, &body);
    body.append(",\"type\":\"message_batch_deleted\"}");
    batches_.erase(std::find_if(batches_.begin(), batches_.end(),
                                [batch](const std::shared_ptr<Batch>& b) { return b.get() == batch; }));
    return Json(200, std::move(body));
  }
  if (parts.size() == 2 && parts[1] == "cancel" && request.method == "POST") {
    if (absl::string_view(StatusOf(*batch, now)) == "in_progress") batch->cancel_initiated = now;
    return Json(200, BatchJson(*batch, now, base_url));
  }
  if (parts.size() == 2 && parts[1] == "results" && request.method == "GET") {
    if (absl::string_view(StatusOf(*batch, now)) != "ended") {
      return Json(400, ApiErrorBody("invalid_request_error", "the batch has not ended yet", n));
    }
    return Results(*batch);
  }
  return std::nullopt;
}

}  // namespace testing
}  // namespace claude
