// The transport to the upstream API: one thread running a libcurl multi event loop that owns
// every easy handle. Other threads hand it work through a queue and an eventfd, so no gRPC
// thread ever blocks on the network. The loop waits in epoll and drives curl with
// curl_multi_socket_action, so each wake touches only the transfers whose socket is ready
// (curl_multi_perform would check every transfer's socket, one syscall each). Connections are
// kept alive and reused across requests by the multi handle's connection cache.
#ifndef SERVICE_UPSTREAM_CURL_EVENT_LOOP_H_
#define SERVICE_UPSTREAM_CURL_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/curl/curl_handles.h"
#include "common/sync/mutex.h"
#include "service/upstream/connection_slots.h"
#include "service/upstream/fd_watcher.h"
#include "service/upstream/http_types.h"
#include "service/upstream/transport.h"
#include "service/upstream/watched_fds.h"

namespace claude {

// Transport settings only: what to send, and to which API, is each request's (its dialect's).
struct CurlEventLoopOptions {
  // TCP connect and TLS handshake together; past it the transfer fails UNAVAILABLE (a
  // connection failure, retryable), unlike the request's own timeout (DEADLINE_EXCEEDED).
  absl::Duration connect_timeout = absl::Seconds(10);
  // A transfer that receives no byte for this long (counted from when its request is handed to
  // curl, and from each byte after; never while it is paused for a slow reader) fails
  // UNAVAILABLE, "upstream stalled" (0 = never). Timed by the loop, per transfer.
  absl::Duration stall_timeout = absl::ZeroDuration();
  // Kept-alive connections idle longer than this are closed (checked about once a second), and
  // at most `max_idle_connections` are kept: a burst must not leave hundreds of sockets open.
  absl::Duration idle_connection_timeout = absl::Seconds(60);
  long max_idle_connections = 256;
  long max_connections_per_host = 0;  // 0 = unlimited
  long max_total_connections = 0;     // 0 = unlimited
  bool http2 = false;                 // HTTP/2 (multiplexed) to https:// upstreams
  std::string user_agent = "claude-grpc/0.1";
  // PEM bundle of the CAs trusted for https:// upstreams (a private gateway's CA); empty: the
  // system's. Peer and host name verification are never turned off.
  std::string ca_file;
};

class CurlEventLoop final : public Transport, public FdWatcher {
 public:
  explicit CurlEventLoop(CurlEventLoopOptions options);
  // Stops the loop: every transfer still running ends with OnDone(CANCELLED).
  ~CurlEventLoop();
  CurlEventLoop(const CurlEventLoop&) = delete;
  CurlEventLoop& operator=(const CurlEventLoop&) = delete;

  // Transport. The request's signer runs on the loop thread just before the request is sent;
  // when it fails, the transfer ends with OnDone(its status) and nothing is sent.
  TransferId Start(HttpRequest request, std::shared_ptr<TransferSink> sink,
                   absl::Duration delay) override;
  void Cancel(TransferId id) override;
  void Resume(TransferId id) override;

  // FdWatcher: handlers run between curl's events, on the loop thread. The loop must outlive
  // its watches (Sync after the last Unwatch, before the loop goes).
  WatchId Watch(int fd, std::function<void()> on_readable) override;
  void Unwatch(WatchId id) override;
  void Sync() override;

  // Transfers started and not yet done (waiting for their delay included).
  int64_t live_transfers() const { return live_.load(std::memory_order_relaxed); }
  // Transfers paused because their reader is slow.
  int64_t paused_transfers() const { return paused_.load(std::memory_order_relaxed); }

 private:
  struct Transfer;
  struct Command {
    enum Kind { kStart, kCancel, kResume, kWatch, kUnwatch, kRun };
    // Defined where Transfer is complete (curl_event_loop.cc).
    Command(Kind k, uint64_t i, std::unique_ptr<Transfer> t = nullptr, int f = -1,
            std::function<void()> run = nullptr);
    Kind kind;
    uint64_t id;                         // a TransferId, or a WatchId (kWatch, kUnwatch)
    std::unique_ptr<Transfer> transfer;  // kStart
    int fd;                              // kWatch: the duplicate to watch
    std::function<void()> fn;            // kWatch: the handler; kRun: run on the loop thread
  };

  void Run();
  void Post(Command command);
  // Makes the loop's epoll_wait return (a write to wake_fd_).
  void Wake();
  void Execute(Command command);
  // Sends a transfer whose delay is over, or queues it for a slot of its connection pool
  // (HttpRequest::max_connections); a transfer that cannot be set up ends at once.
  void StartNow(Transfer* t);
  // Sends the transfers that Finish gave a pool's freed slots to; one whose request's timeout
  // ran out while it waited ends DEADLINE_EXCEEDED.
  void StartGranted();
  // Signs `t`'s request and hands it to curl; not OK: nothing was sent.
  absl::Status SendNow(Transfer* t);
  // Lets curl act on `fd` (ready for `curl_events`), or on its due timers (CURL_SOCKET_TIMEOUT),
  // then finishes the transfers that completed.
  void Drive(int fd, int curl_events);
  void Finish(Transfer* t, const absl::Status& status);
  // How long epoll may wait: until curl's timer, a retry delay, a stall check, or at most a
  // second.
  int WaitMillis() const;
  // Fails the transfers whose stall check is due and that received nothing since
  // stall_timeout; re-arms the others at their own last byte + stall_timeout.
  void CheckStalls(absl::Time now);
  void ArmStallCheck(Transfer* t, absl::Time at);
  // Makes curl close the pooled connections idle past idle_connection_timeout (see .cc).
  void SweepIdleConnections(absl::Time now);
  // The request's own connect timeout, else the loop's.
  absl::Duration ConnectTimeout(const HttpRequest& r) const {
    return r.connect_timeout > absl::ZeroDuration() ? r.connect_timeout : options_.connect_timeout;
  }
  // The status a transfer that curl ended with `code` finishes with.
  absl::Status FailureStatus(const Transfer& t, int code) const;

  static size_t OnHeaderLine(char* data, size_t size, size_t count, void* self);
  static size_t OnBodyBytes(char* data, size_t size, size_t count, void* self);
  // curl's CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION: which sockets to watch for what,
  // and when to call curl_multi_socket_action(CURL_SOCKET_TIMEOUT).
  static int OnSocket(void* easy, int fd, int what, void* self, void* socket_data);
  static int OnTimer(void* multi, long timeout_ms, void* self);
  // CURLOPT_PREREQFUNCTION: called each time curl is about to send the request; a second time
  // means curl is re-sending it on its own (a reused connection died first), which the loop
  // refuses so that every request the upstream sees is an attempt the call counted.
  static int OnRequestReady(void* self, char* conn_primary_ip, char* conn_local_ip,
                            int conn_primary_port, int conn_local_port);

  const CurlEventLoopOptions options_;
  CurlMulti multi_;  // only touched on the loop thread
  // Not OK when the multi handle could not be configured as the options ask: every transfer
  // then fails with it, instead of running with settings nobody chose.
  absl::Status setup_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: written by Post when the loop is (about to be) asleep
  std::atomic<TransferId> next_id_{1};
  std::atomic<WatchId> next_watch_id_{1};
  std::atomic<int64_t> live_{0};
  std::atomic<int64_t> paused_{0};

  // A std::mutex the thread-safety analysis sees (common/sync/mutex.h says why not absl::Mutex).
  Mutex mu_;
  std::deque<Command> commands_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // True while the loop thread is (about to be) blocked in epoll_wait: only then does a command
  // need a write to wake_fd_ (a syscall on each side). Set before the loop looks at
  // commands_ for the last time, under mu_, so a command either is seen there or finds it true.
  std::atomic<bool> polling_{false};

  // Loop thread only.
  absl::flat_hash_map<TransferId, std::unique_ptr<Transfer>> transfers_;
  std::unique_ptr<WatchedFds> watched_;  // FdWatcher's
  // Easy handles of transfers that completed, reset and kept for the next ones: a new handle
  // costs an allocation of its receive buffer and several kilobytes of state to initialize.
  std::vector<CurlEasy> idle_handles_;
  std::multimap<absl::Time, TransferId> delayed_;  // transfers waiting out a retry delay
  ConnectionSlots slots_;                          // per-upstream connection limits
  std::vector<TransferId> granted_;                // given a slot by Finish, sent by StartGranted
  absl::Time curl_timer_ = absl::InfiniteFuture();  // when curl's timer is due
  // When each transfer's stall is checked next: at most one entry per transfer, removed when
  // the transfer finishes.
  using StallChecks = std::multimap<absl::Time, TransferId>;
  StallChecks stall_checks_;
  absl::Time next_idle_sweep_ = absl::InfinitePast();
  // When a transfer last completed, leaving its connection in the pool: sweeps run until every
  // connection parked then has been idle past the timeout.
  absl::Time last_parked_ = absl::InfinitePast();
  CurlEasy sweeper_;  // the handle of a sweep in progress, else null

  std::thread thread_;
};

}  // namespace claude

#endif  // SERVICE_UPSTREAM_CURL_EVENT_LOOP_H_
