// A minimal claude::Client program: streams Claude's reply to stdout as it arrives.
//
//   claude-client-example [TARGET [PROMPT]]     (default: localhost:50051, "Hello, Claude")
#include <cstdio>
#include <iostream>
#include <string>

#include "client/claude_client.h"

int main(int argc, char** argv) {
  const std::string target = argc > 1 ? argv[1] : "localhost:50051";
  const std::string prompt = argc > 2 ? argv[2] : "Hello, Claude";

  claude::Client client(target);

  claude::v1::CreateMessageRequest request;
  request.set_model("claude-sonnet-4-5");
  request.set_max_tokens(1024);
  claude::v1::MessageParam* turn = request.add_messages();
  turn->set_role(claude::v1::ROLE_USER);
  turn->set_content_text(prompt);

  absl::StatusOr<claude::v1::Message> message =
      client.StreamText(request, [](absl::string_view text) {
        std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
        std::cout.flush();
      });
  std::cout << std::endl;
  if (!message.ok()) {
    std::cerr << "stream failed: " << message.status() << "\n";
    if (std::optional<claude::ErrorDetails> details = claude::ErrorDetailsOf(message.status())) {
      std::cerr << "reason " << details->reason << ", request id " << details->request_id << "\n";
    }
    return 1;
  }
  std::cerr << "[" << message->usage().input_tokens() << " tokens in, "
            << message->usage().output_tokens() << " out]\n";
  return 0;
}
