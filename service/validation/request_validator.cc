#include "service/validation/request_validator.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "claude/v1/content.pb.h"
#include "claude/v1/messages.pb.h"
#include "claude/v1/tools.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/rpc/error_details.pb.h"

namespace claude {
namespace {

constexpr int64_t kMinThinkingBudgetTokens = 1024;
constexpr size_t kMaxToolNameLength = 128;

// The JSON path of a field, e.g. "messages[1].content[0].source". Each level lives in the stack
// frame of the function that validates it and points to its parent, so walking down a request
// allocates nothing; the string is built only when an error is reported.
class Path {
 public:
  // A top-level member; `name` may hold several dotted members ("thinking.budget_tokens").
  explicit Path(absl::string_view name) : parent_(nullptr), name_(name), index_(kNoIndex) {}

  // The member `name` of this object; `name` may hold several dotted members.
  Path Field(absl::string_view name) const& { return Path(this, name, kNoIndex); }
  // The element `index` of this array.
  Path Index(int index) const& { return Path(this, absl::string_view(), index); }

  // A child points to its parent, so it must not be derived from a temporary that dies at the
  // end of the statement: `Path p = Path("a").Field("b");` would dangle.
  Path Field(absl::string_view) const&& = delete;
  Path Index(int) const&& = delete;

  std::string ToString() const {
    std::string out;
    AppendTo(&out);
    return out;
  }

 private:
  static constexpr int kNoIndex = -1;

  Path(const Path* parent, absl::string_view name, int index)
      : parent_(parent), name_(name), index_(index) {}

  void AppendTo(std::string* out) const {
    if (parent_ != nullptr) parent_->AppendTo(out);
    if (index_ != kNoIndex) {
      absl::StrAppend(out, "[", index_, "]");
    } else {
      absl::StrAppend(out, out->empty() ? "" : ".", name_);
    }
  }

  const Path* parent_;
  absl::string_view name_;
  int index_;
};

absl::Status Invalid(const Path& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path.ToString(), ": ", problem));
}

// ^[a-zA-Z0-9_-]{1,128}$, by hand.
bool IsValidToolName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxToolNameLength) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsImageMediaType(absl::string_view media_type) {
  return media_type == "image/jpeg" || media_type == "image/png" || media_type == "image/gif" ||
         media_type == "image/webp";
}

// For temperature and top_p. False for NaN, as both comparisons fail.
bool IsInUnitInterval(double value) { return value >= 0.0 && value <= 1.0; }

// ---------------------------------------------------------------------------------------------
// Content blocks. Each function gets the path of the block (or of the source) it checks.

absl::Status ValidateBlocks(const v1::ContentBlockList& list, const Path& path);

absl::Status ValidateUrlSource(const v1::UrlSource& url, const Path& source) {
  if (url.url().empty()) return Invalid(source.Field("url"), "required");
  return absl::OkStatus();
}

absl::Status ValidateFileSource(const v1::FileSource& file, const Path& source) {
  if (file.file_id().empty()) return Invalid(source.Field("file_id"), "required");
  return absl::OkStatus();
}

absl::Status ValidateImageBlock(const v1::ImageBlock& image, const Path& path) {
  const Path source = path.Field("source");
  if (!image.has_source()) return Invalid(source, "required");
  const v1::ImageSource& image_source = image.source();
  switch (image_source.source_case()) {
    case v1::ImageSource::kBase64: {
      const v1::Base64ImageSource& base64 = image_source.base64();
      if (!IsImageMediaType(base64.media_type())) {
        return Invalid(source.Field("media_type"),
                       "must be one of image/jpeg, image/png, image/gif, image/webp");
      }
      if (base64.data().empty()) return Invalid(source.Field("data"), "required");
      return absl::OkStatus();
    }
    case v1::ImageSource::kUrl:
      return ValidateUrlSource(image_source.url(), source);
    case v1::ImageSource::kFile:
      return ValidateFileSource(image_source.file(), source);
    case v1::ImageSource::kUnknown:
      return absl::OkStatus();
    case v1::ImageSource::SOURCE_NOT_SET:
      return Invalid(source, "type required");
  }
  return absl::OkStatus();
}

absl::Status ValidateContentSource(const v1::ContentSource& content_source, const Path& source) {
  const Path content = source.Field("content");
  switch (content_source.content_case()) {
    case v1::ContentSource::kContentText:
      return absl::OkStatus();
    case v1::ContentSource::kContentBlocks:
      return ValidateBlocks(content_source.content_blocks(), content);
    case v1::ContentSource::CONTENT_NOT_SET:
      return Invalid(content, "required");
  }
  return absl::OkStatus();
}

absl::Status ValidateDocumentBlock(const v1::DocumentBlock& document, const Path& path) {
  const Path source = path.Field("source");
  if (!document.has_source()) return Invalid(source, "required");
  const v1::DocumentSource& document_source = document.source();
  switch (document_source.source_case()) {
    case v1::DocumentSource::kBase64: {
      const v1::Base64PdfSource& base64 = document_source.base64();
      if (base64.media_type() != "application/pdf") {
        return Invalid(source.Field("media_type"), "must be application/pdf");
      }
      if (base64.data().empty()) return Invalid(source.Field("data"), "required");
      return absl::OkStatus();
    }
    case v1::DocumentSource::kText:
      if (document_source.text().media_type() != "text/plain") {
        return Invalid(source.Field("media_type"), "must be text/plain");
      }
      return absl::OkStatus();
    case v1::DocumentSource::kContent:
      return ValidateContentSource(document_source.content(), source);
    case v1::DocumentSource::kUrl:
      return ValidateUrlSource(document_source.url(), source);
    case v1::DocumentSource::kFile:
      return ValidateFileSource(document_source.file(), source);
    case v1::DocumentSource::kUnknown:
      return absl::OkStatus();
    case v1::DocumentSource::SOURCE_NOT_SET:
      return Invalid(source, "type required");
  }
  return absl::OkStatus();
}

// tool_use, server_tool_use and mcp_tool_use: a call must name itself and its tool.
template <typename ToolCallBlock>
absl::Status ValidateToolCall(const ToolCallBlock& call, const Path& path) {
  if (call.id().empty()) return Invalid(path.Field("id"), "required");
  if (call.name().empty()) return Invalid(path.Field("name"), "required");
  return absl::OkStatus();
}

absl::Status ValidateToolResultBlock(const v1::ToolResultBlock& result, const Path& path) {
  if (result.tool_use_id().empty()) return Invalid(path.Field("tool_use_id"), "required");
  if (result.has_content_blocks()) {
    return ValidateBlocks(result.content_blocks(), path.Field("content"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMcpToolResultBlock(const v1::McpToolResultBlock& result, const Path& path) {
  if (result.has_content_blocks()) {
    return ValidateBlocks(result.content_blocks(), path.Field("content"));
  }
  return absl::OkStatus();
}

// A fetched page sent back in a later turn carries a document block:
// {"type": "web_fetch_tool_result", "content": {"type": "web_fetch_result", "content": {...}}}.
absl::Status ValidateWebFetchToolResultBlock(const v1::WebFetchToolResultBlock& result,
                                             const Path& path) {
  if (!result.content().has_web_fetch_result()) return absl::OkStatus();
  const v1::WebFetchResult& fetched = result.content().web_fetch_result();
  if (!fetched.has_content()) return absl::OkStatus();
  return ValidateDocumentBlock(fetched.content(), path.Field("content.content"));
}

absl::Status ValidateContainerUploadBlock(const v1::ContainerUploadBlock& upload,
                                          const Path& path) {
  if (upload.file_id().empty()) return Invalid(path.Field("file_id"), "required");
  return absl::OkStatus();
}

absl::Status ValidateBlock(const v1::ContentBlock& block, const Path& path) {
  switch (block.block_case()) {
    case v1::ContentBlock::kImage:
      return ValidateImageBlock(block.image(), path);
    case v1::ContentBlock::kDocument:
      return ValidateDocumentBlock(block.document(), path);
    case v1::ContentBlock::kToolUse:
      return ValidateToolCall(block.tool_use(), path);
    case v1::ContentBlock::kToolResult:
      return ValidateToolResultBlock(block.tool_result(), path);
    case v1::ContentBlock::kServerToolUse:
      return ValidateToolCall(block.server_tool_use(), path);
    case v1::ContentBlock::kWebFetchToolResult:
      return ValidateWebFetchToolResultBlock(block.web_fetch_tool_result(), path);
    case v1::ContentBlock::kMcpToolUse:
      return ValidateToolCall(block.mcp_tool_use(), path);
    case v1::ContentBlock::kMcpToolResult:
      return ValidateMcpToolResultBlock(block.mcp_tool_result(), path);
    case v1::ContentBlock::kContainerUpload:
      return ValidateContainerUploadBlock(block.container_upload(), path);
    // Nothing here that the API always rejects; blocks Claude produced go back as they came.
    case v1::ContentBlock::kText:
    case v1::ContentBlock::kSearchResult:
    case v1::ContentBlock::kThinking:
    case v1::ContentBlock::kRedactedThinking:
    case v1::ContentBlock::kWebSearchToolResult:
    case v1::ContentBlock::kCodeExecutionToolResult:
    case v1::ContentBlock::kBashCodeExecutionToolResult:
    case v1::ContentBlock::kTextEditorCodeExecutionToolResult:
    case v1::ContentBlock::kToolSearchToolResult:
    case v1::ContentBlock::kUnknown:
      return absl::OkStatus();
    case v1::ContentBlock::BLOCK_NOT_SET:
      return Invalid(path, "content block type required");
  }
  return absl::OkStatus();
}

// Which block kinds may appear where (e.g. only text and image in a document's content) is
// left to the API: it may widen the lists.
absl::Status ValidateBlocks(const v1::ContentBlockList& list, const Path& path) {
  for (int i = 0; i < list.blocks_size(); ++i) {
    if (absl::Status status = ValidateBlock(list.blocks(i), path.Index(i)); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Top-level members shared by both requests.

absl::Status ValidateMessages(
    const google::protobuf::RepeatedPtrField<v1::MessageParam>& messages) {
  const Path root("messages");
  if (messages.empty()) return Invalid(root, "at least one message required");
  for (int i = 0; i < messages.size(); ++i) {
    const v1::MessageParam& message = messages.Get(i);
    const Path path = root.Index(i);
    if (message.role() != v1::ROLE_USER && message.role() != v1::ROLE_ASSISTANT) {
      return Invalid(path.Field("role"), "must be user or assistant");
    }
    switch (message.content_case()) {
      case v1::MessageParam::kContentText:
        break;
      case v1::MessageParam::kContentBlocks:
        if (absl::Status status = ValidateBlocks(message.content_blocks(), path.Field("content"));
            !status.ok()) {
          return status;
        }
        break;
      case v1::MessageParam::CONTENT_NOT_SET:
        return Invalid(path.Field("content"), "required");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCustomTool(const v1::CustomTool& tool, const Path& path) {
  if (!IsValidToolName(tool.name())) {
    return Invalid(path.Field("name"), "must match ^[a-zA-Z0-9_-]{1,128}$");
  }
  if (!tool.has_input_schema()) return Invalid(path.Field("input_schema"), "required");
  return absl::OkStatus();
}

// The API's versioned tools: a dated type string and the fixed name that goes with it. Which
// dates and names exist is the API's business.
template <typename VersionedToolMessage>
absl::Status ValidateVersionedTool(const VersionedToolMessage& tool, const Path& path) {
  if (tool.type().empty()) return Invalid(path.Field("type"), "required");
  if (tool.name().empty()) return Invalid(path.Field("name"), "required");
  return absl::OkStatus();
}

absl::Status ValidateComputerTool(const v1::ComputerTool& tool, const Path& path) {
  if (absl::Status status = ValidateVersionedTool(tool, path); !status.ok()) return status;
  if (tool.display_width_px() < 1) {
    return Invalid(path.Field("display_width_px"), "must be at least 1");
  }
  if (tool.display_height_px() < 1) {
    return Invalid(path.Field("display_height_px"), "must be at least 1");
  }
  return absl::OkStatus();
}

absl::Status ValidateTool(const v1::Tool& tool, const Path& path) {
  switch (tool.tool_case()) {
    case v1::Tool::kCustom:
      return ValidateCustomTool(tool.custom(), path);
    case v1::Tool::kBash:
      return ValidateVersionedTool(tool.bash(), path);
    case v1::Tool::kTextEditor:
      return ValidateVersionedTool(tool.text_editor(), path);
    case v1::Tool::kComputer:
      return ValidateComputerTool(tool.computer(), path);
    case v1::Tool::kMemory:
      return ValidateVersionedTool(tool.memory(), path);
    case v1::Tool::kCodeExecution:
      return ValidateVersionedTool(tool.code_execution(), path);
    case v1::Tool::kWebSearch:
      return ValidateVersionedTool(tool.web_search(), path);
    case v1::Tool::kWebFetch:
      return ValidateVersionedTool(tool.web_fetch(), path);
    case v1::Tool::kUnknown:
      return absl::OkStatus();
    case v1::Tool::TOOL_NOT_SET:
      return Invalid(path, "type required");
  }
  return absl::OkStatus();
}

absl::Status ValidateTools(const google::protobuf::RepeatedPtrField<v1::Tool>& tools) {
  const Path root("tools");
  for (int i = 0; i < tools.size(); ++i) {
    if (absl::Status status = ValidateTool(tools.Get(i), root.Index(i)); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateToolChoice(const v1::ToolChoice& choice) {
  switch (choice.choice_case()) {
    case v1::ToolChoice::kTool:
      if (choice.tool().name().empty()) return Invalid(Path("tool_choice.name"), "required");
      return absl::OkStatus();
    case v1::ToolChoice::kAuto:
    case v1::ToolChoice::kAny:
    case v1::ToolChoice::kNone:
    case v1::ToolChoice::kUnknown:
      return absl::OkStatus();
    case v1::ToolChoice::CHOICE_NOT_SET:
      return Invalid(Path("tool_choice"), "type required");
  }
  return absl::OkStatus();
}

// `max_tokens` is absent for CountTokens, which has none to compare the budget with.
absl::Status ValidateThinking(const v1::ThinkingConfig& thinking,
                              std::optional<int64_t> max_tokens) {
  switch (thinking.config_case()) {
    case v1::ThinkingConfig::kEnabled: {
      const Path budget("thinking.budget_tokens");
      const int64_t budget_tokens = thinking.enabled().budget_tokens();
      if (budget_tokens < kMinThinkingBudgetTokens) {
        return Invalid(budget, absl::StrCat("must be at least ", kMinThinkingBudgetTokens));
      }
      // Without interleaved thinking the budget is part of max_tokens; with it, the API lets
      // the budget exceed max_tokens (the caller then passes no max_tokens here).
      if (max_tokens.has_value() && budget_tokens >= *max_tokens) {
        return Invalid(budget, "must be less than max_tokens");
      }
      return absl::OkStatus();
    }
    case v1::ThinkingConfig::kDisabled:
    case v1::ThinkingConfig::kAdaptive:
    case v1::ThinkingConfig::kUnknown:
      return absl::OkStatus();
    case v1::ThinkingConfig::CONFIG_NOT_SET:
      return Invalid(Path("thinking"), "type required");
  }
  return absl::OkStatus();
}

// Every problem of a request, at most one per top-level member (within a member, the first):
// the status's message lists them all ("model: required; max_tokens: must be at least 1"), and
// its kFieldViolationsPayload payload holds a google.rpc.BadRequest with one field violation
// each.
class Problems {
 public:
  void Add(const absl::Status& status) {
    if (status.ok()) return;
    // Messages are "<JSON path>: <problem>" (Invalid()); paths hold no ": ".
    const absl::string_view message = status.message();
    const size_t colon = message.find(": ");
    google::rpc::BadRequest::FieldViolation* violation = violations_.add_field_violations();
    violation->set_field(std::string(message.substr(0, colon)));
    violation->set_description(std::string(colon == absl::string_view::npos ? "" : message.substr(colon + 2)));
    absl::StrAppend(&message_, message_.empty() ? "" : "; ", message);
  }

  absl::Status Result() const {
    if (message_.empty()) return absl::OkStatus();
    absl::Status status = absl::InvalidArgumentError(message_);
    status.SetPayload(kFieldViolationsPayload, absl::Cord(violations_.SerializeAsString()));
    return status;
  }

 private:
  std::string message_;
  google::rpc::BadRequest violations_;
};

// The sampling members: each its own problem.
void ValidateSampling(const v1::CreateMessageRequest& request, Problems* problems) {
  if (!request.has_max_tokens()) {
    problems->Add(Invalid(Path("max_tokens"), "required"));
  } else if (request.max_tokens() < 1) {
    problems->Add(Invalid(Path("max_tokens"), "must be at least 1"));
  }
  if (request.has_temperature() && !IsInUnitInterval(request.temperature())) {
    problems->Add(Invalid(Path("temperature"), "must be between 0 and 1"));
  }
  if (request.has_top_p() && !IsInUnitInterval(request.top_p())) {
    problems->Add(Invalid(Path("top_p"), "must be between 0 and 1"));
  }
  if (request.has_top_k() && request.top_k() < 0) problems->Add(Invalid(Path("top_k"), "must be at least 0"));
}

}  // namespace

// Members are checked in field order. The system prompt needs no check: a string, or text
// blocks, which the type already enforces.
absl::Status ValidateCreateMessageRequest(const v1::CreateMessageRequest& request,
                                          const ValidationOptions& options) {
  Problems problems;
  if (request.model().empty()) problems.Add(Invalid(Path("model"), "required"));
  problems.Add(ValidateMessages(request.messages()));
  ValidateSampling(request, &problems);
  problems.Add(ValidateTools(request.tools()));
  if (request.has_tool_choice()) problems.Add(ValidateToolChoice(request.tool_choice()));
  if (request.has_thinking()) {
    problems.Add(ValidateThinking(request.thinking(), options.interleaved_thinking || !request.has_max_tokens()
                                                          ? std::nullopt
                                                          : std::optional<int64_t>(request.max_tokens())));
  }
  // The RPC decides streaming; a "stream" smuggled in through extra_fields would contradict it.
  if (request.extra_fields().fields().contains("stream")) {
    problems.Add(Invalid(Path("stream"),
                         "set by the RPC (StreamMessage streams, CreateMessage does not); remove it "
                         "from extra_fields"));
  }
  return problems.Result();
}

absl::Status ValidateCountTokensRequest(const v1::CountTokensRequest& request) {
  Problems problems;
  if (request.model().empty()) problems.Add(Invalid(Path("model"), "required"));
  problems.Add(ValidateMessages(request.messages()));
  problems.Add(ValidateTools(request.tools()));
  if (request.has_tool_choice()) problems.Add(ValidateToolChoice(request.tool_choice()));
  if (request.has_thinking()) problems.Add(ValidateThinking(request.thinking(), std::nullopt));
  return problems.Result();
}

absl::Status ValidateListModelsRequest(const v1::ListModelsRequest& request) {
  Problems problems;
  if (request.has_limit() && request.limit() < 1) problems.Add(Invalid(Path("limit"), "must be at least 1"));
  return problems.Result();
}

absl::Status ValidateGetModelRequest(const v1::GetModelRequest& request) {
  Problems problems;
  if (request.model_id().empty()) problems.Add(Invalid(Path("model_id"), "required"));
  return problems.Result();
}

}  // namespace claude
