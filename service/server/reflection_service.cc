#include "service/server/reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "absl/strings/str_cat.h"

namespace claude {

// v1alpha's file defines no message of its own, so nothing would pull its generated object (and
// with it, its descriptor) out of the static library into the binary, and reflection could not
// describe the v1alpha service. This reference (external, so the compiler keeps it) does.
extern const void* const kV1AlphaReflectionFile;
const void* const kV1AlphaReflectionFile = &::descriptor_table_grpc_2freflection_2fv1alpha_2freflection_2eproto;

namespace {

namespace v1 = ::grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// Appends `file` and, after it, every file it imports (transitively) that the stream has not
// sent yet.
void AddFile(const FileDescriptor* file, absl::flat_hash_set<std::string>* sent_files,
             v1::FileDescriptorResponse* out) {
  std::vector<const FileDescriptor*> pending = {file};
  bool first = true;
  while (!pending.empty()) {
    const FileDescriptor* next = pending.back();
    pending.pop_back();
    // The file asked for is always sent; its imports only once per stream.
    if (!sent_files->insert(next->name()).second && !first) continue;
    first = false;
    google::protobuf::FileDescriptorProto proto;
    next->CopyTo(&proto);
    proto.SerializeToString(out->add_file_descriptor_proto());
    for (int i = 0; i < next->dependency_count(); ++i) pending.push_back(next->dependency(i));
  }
}

void SetError(grpc::StatusCode code, std::string message, v1::ServerReflectionResponse* response) {
  response->mutable_error_response()->set_error_code(static_cast<int>(code));
  response->mutable_error_response()->set_error_message(std::move(message));
}

// The bidirectional stream: one request read, answered and written at a time, so a client that
// does not read its answers stops the server from reading more requests.
class Reactor final : public ReflectionReactor {
 public:
  explicit Reactor(const std::vector<std::string>* services) : services_(services) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side (or went away)
      Finish(grpc::Status::OK);
      return;
    }
    response_ = AnswerReflectionRequest(request_, *services_, &sent_files_);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const std::vector<std::string>* const services_;
  v1::ServerReflectionRequest request_;
  v1::ServerReflectionResponse response_;
  absl::flat_hash_set<std::string> sent_files_;
};

}  // namespace

v1::ServerReflectionResponse AnswerReflectionRequest(const v1::ServerReflectionRequest& request,
                                                     const std::vector<std::string>& services,
                                                     absl::flat_hash_set<std::string>* sent_files) {
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  v1::ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case v1::ServerReflectionRequest::kListServices:
      for (const std::string& name : services) response.mutable_list_services_response()->add_service()->set_name(name);
      break;
    case v1::ServerReflectionRequest::kFileByFilename:
      if (const FileDescriptor* file = pool.FindFileByName(request.file_by_filename())) {
        AddFile(file, sent_files, response.mutable_file_descriptor_response());
      } else {
        SetError(grpc::StatusCode::NOT_FOUND, absl::StrCat("file_by_filename: no file \"", request.file_by_filename(), "\""),
                 &response);
      }
      break;
    case v1::ServerReflectionRequest::kFileContainingSymbol:
      if (const FileDescriptor* file = pool.FindFileContainingSymbol(request.file_containing_symbol())) {
        AddFile(file, sent_files, response.mutable_file_descriptor_response());
      } else {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("file_containing_symbol: no symbol \"", request.file_containing_symbol(), "\""), &response);
      }
      break;
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const v1::ExtensionRequest& asked = request.file_containing_extension();
      const google::protobuf::Descriptor* type = pool.FindMessageTypeByName(asked.containing_type());
      const google::protobuf::FieldDescriptor* extension =
          type == nullptr ? nullptr : pool.FindExtensionByNumber(type, asked.extension_number());
      if (extension != nullptr) {
        AddFile(extension->file(), sent_files, response.mutable_file_descriptor_response());
      } else {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("file_containing_extension: no extension ", asked.extension_number(), " of \"",
                              asked.containing_type(), "\""),
                 &response);
      }
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const google::protobuf::Descriptor* type = pool.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("all_extension_numbers_of_type: no message type \"",
                              request.all_extension_numbers_of_type(), "\""),
                 &response);
        break;
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool.FindAllExtensions(type, &extensions);
      v1::ExtensionNumberResponse* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* extension : extensions) numbers->add_extension_number(extension->number());
      break;
    }
    case v1::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(grpc::StatusCode::INVALID_ARGUMENT, "message_request: none of its members is set", &response);
      break;
  }
  return response;
}

ReflectionReactor* NewReflectionReactor(const std::vector<std::string>* services) { return new Reactor(services); }

}  // namespace claude
