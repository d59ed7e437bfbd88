// fake-anthropic's scripted replies (FakeReply): the wait before the head, the body pieces one
// at a time (the next only once the previous one reached the socket, so a slow client makes the
// fake wait), the pause between pieces, and the faults: a connection dropped mid-body, a reply
// that never comes, and the client's own disconnects, counted.
#include <memory>
#include <string>
#include <utility>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tests/fake_upstream/fake_anthropic_impl.h"

namespace claude {
namespace testing {
namespace {

// Lets evhttp see the client close the connection while the fake is not writing (waiting before
// the head, or never replying): evhttp stops reading once a request is complete, so a close
// would go unnoticed until the next write. Reading is turned back on with no read callback,
// exactly as evhttp itself does while it writes a reply, so EOF reaches evhttp's error
// callback, which frees the connection and calls our close callback.
void WatchForClose(evhttp_connection* evcon) {
  bufferevent* bev = evhttp_connection_get_bufferevent(evcon);
  bufferevent_data_cb read_cb = nullptr;
  bufferevent_data_cb write_cb = nullptr;
  bufferevent_event_cb event_cb = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(bev, &read_cb, &write_cb, &event_cb, &arg);
  bufferevent_setcb(bev, nullptr, write_cb, event_cb, arg);
  bufferevent_enable(bev, EV_READ);
}

}  // namespace

void FakeAnthropic::Impl::StartScripted(evhttp_request* req, FakeReply reply) {
  auto owned = std::make_unique<ReplyState>(this, req, std::move(reply));
  ReplyState* s = owned.get();
  states_.emplace(s, std::move(owned));
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  evhttp_connection_set_closecb(evcon, &Impl::OnCloseCb, s);
  if (s->reply.never_reply) {
    WatchForClose(evcon);
    return;
  }
  if (s->reply.delay_before_head > absl::ZeroDuration()) {
    WatchForClose(evcon);
    Arm(s, Wait::kHead, s->reply.delay_before_head);
    return;
  }
  SendHead(s);
}

void FakeAnthropic::Impl::SendHead(ReplyState* s) {
  evhttp_request* req = s->req;
  const FakeReply& reply = s->reply;
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  for (const auto& [name, value] : reply.headers) {
    evhttp_add_header(out, name.c_str(), value.c_str());
  }
  const bool bodyless = reply.status < 200 || reply.status == 204 || reply.status == 304 ||
                        evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
  const bool streamed =
      !bodyless && (reply.generator || reply.chunks.size() > 1 || reply.close_mid_body);
  if (!streamed) {
    const int status = reply.status;
    evbuffer* body = evhttp_request_get_output_buffer(req);
    for (const std::string& chunk : reply.chunks) evbuffer_add(body, chunk.data(), chunk.size());
    Finish(s);
    evhttp_send_reply(req, status, nullptr, nullptr);
    return;
  }
  s->buf = evbuffer_new();
  evhttp_send_reply_start(req, reply.status, nullptr);
  if (NextPiece(s)) {
    WritePending(s);
  } else {
    EndBody(s);
  }
}

bool FakeAnthropic::Impl::NextPiece(ReplyState* s) {
  FakeReply& reply = s->reply;
  s->pending.clear();
  if (reply.generator) {
    while (reply.generator(&s->pending)) {
      if (!s->pending.empty()) return true;
    }
    s->pending.clear();
    return false;
  }
  while (s->next_chunk < reply.chunks.size()) {
    std::string& chunk = reply.chunks[s->next_chunk++];
    if (!chunk.empty()) {
      s->pending = std::move(chunk);
      return true;
    }
  }
  return false;
}

void FakeAnthropic::Impl::WritePending(ReplyState* s) {
  evbuffer_add(s->buf, s->pending.data(), s->pending.size());
  s->pending.clear();
  // OnChunkWrittenCb runs once the output buffer has drained into the socket.
  evhttp_send_reply_chunk_with_cb(s->req, s->buf, &Impl::OnChunkWrittenCb, s);
}

void FakeAnthropic::Impl::OnChunkWrittenCb(evhttp_connection*, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  Impl* impl = s->impl;
  if (!impl->NextPiece(s)) {
    impl->EndBody(s);
  } else if (s->reply.delay_between_chunks > absl::ZeroDuration()) {
    impl->Arm(s, Wait::kChunk, s->reply.delay_between_chunks);
  } else {
    impl->WritePending(s);
  }
}

void FakeAnthropic::Impl::EndBody(ReplyState* s) {
  if (s->reply.close_mid_body) {
    DropWhenFlushed(s);
    return;
  }
  evhttp_request* req = s->req;
  Finish(s);
  evhttp_send_reply_end(req);
}

void FakeAnthropic::Impl::DropWhenFlushed(ReplyState* s) {
  evhttp_connection* evcon = evhttp_request_get_connection(s->req);
  bufferevent* bev = evhttp_connection_get_bufferevent(evcon);
  if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
    // Only the head is left to write (a close_mid_body reply without body pieces); poll.
    Arm(s, Wait::kDrop, absl::Milliseconds(1));
    return;
  }
  Finish(s);
  // Frees the request with the connection; the client sees the body end early.
  evhttp_connection_free(evcon);
}

void FakeAnthropic::Impl::Arm(ReplyState* s, Wait wait, absl::Duration delay) {
  if (s->timer == nullptr) s->timer = evtimer_new(base_, &Impl::OnTimerCb, s);
  s->wait = wait;
  timeval tv = absl::ToTimeval(std::min(delay, kMaxDelay));
  evtimer_add(s->timer, &tv);
}

void FakeAnthropic::Impl::OnTimerCb(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  switch (s->wait) {
    case Wait::kHead: s->impl->SendHead(s); break;
    case Wait::kChunk: s->impl->WritePending(s); break;
    case Wait::kDrop: s->impl->DropWhenFlushed(s); break;
  }
}

void FakeAnthropic::Impl::Finish(ReplyState* s) {
  evhttp_connection* evcon = evhttp_request_get_connection(s->req);
  if (evcon != nullptr) evhttp_connection_set_closecb(evcon, nullptr, nullptr);
  states_.erase(s);
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
}

// The connection of a reply in progress is being freed: the client closed it (or a write
// failed), or the server is shutting down.
void FakeAnthropic::Impl::OnCloseCb(evhttp_connection*, void* arg) {
  auto* s = static_cast<ReplyState*>(arg);
  Impl* impl = s->impl;
  // On a client close evhttp detaches the unfinished request from the connection and leaves it
  // to us; otherwise it is freed with the connection.
  if (evhttp_request_get_connection(s->req) == nullptr) evhttp_request_free(s->req);
  const bool counts = !impl->shutting_down_;
  impl->states_.erase(s);
  {
    std::lock_guard<std::mutex> lock(impl->mu_);
    --impl->active_;
    if (counts) ++impl->disconnects_;
  }
  impl->changed_.notify_all();
}

}  // namespace testing
}  // namespace claude
