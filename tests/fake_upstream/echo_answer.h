// An echo-mode answer of fake-anthropic: what one request gets back when no scripted reply is
// queued. Built without touching the network (the echo modes are pure functions of the
// request), sent by the server thread.
#ifndef TESTS_FAKE_UPSTREAM_ECHO_ANSWER_H_
#define TESTS_FAKE_UPSTREAM_ECHO_ANSWER_H_

#include <string>

#include "service/upstream/http_types.h"

namespace claude::testing {

struct EchoAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
  HttpHeaders extra_headers;  // sent after content-type, before request-id
};

}  // namespace claude::testing

#endif  // TESTS_FAKE_UPSTREAM_ECHO_ANSWER_H_
