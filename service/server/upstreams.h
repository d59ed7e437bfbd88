// The upstreams file's upstreams as the server runs them: one dialect each, with its
// credentials, behind a Router (service/routing/router.h).
#ifndef SERVICE_SERVER_UPSTREAMS_H_
#define SERVICE_SERVER_UPSTREAMS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/routing/router.h"
#include "service/routing/upstreams_file.h"
#include "service/upstream/chat_completions_dialect.h"

namespace claude {

struct UpstreamDefaults {
  std::string anthropic_version = "2023-06-01";  // messages upstreams
  ChatThinking chat_thinking = ChatThinking::kModelSuffix;  // chat_completions upstreams
  size_t max_event_bytes = 16 << 20;
  EjectionPolicy ejection;
  std::function<double()> uniform;  // the weighted choice's draws; empty: random
};

// A Router over `config`'s upstreams and routes, every dialect served, each upstream's model
// map, timeouts and connection limit applied to its requests. INVALID_ARGUMENT naming the
// upstream and its line when its AWS credentials cannot be read now.
absl::StatusOr<std::unique_ptr<Router>> BuildRouter(const UpstreamsConfig& config,
                                                    const UpstreamDefaults& defaults);

// The Router of an upstreams file, re-read when the file changes (its modification time, size or
// inode: a mounted ConfigMap's update), looked at no more than once a second. A change that does
// not parse or cannot be served leaves the running Router in place; the problem goes to stderr
// and is counted. A new Router starts with every upstream healthy; calls already running keep
// the Router they started with.
class UpstreamsFileRouters final : public RouterSource {
 public:
  // Reads the file now: INVALID_ARGUMENT "PATH:LINE: key: problem" when it does not parse, or
  // naming the upstream the server cannot serve.
  static absl::StatusOr<std::unique_ptr<UpstreamsFileRouters>> Load(std::string path,
                                                                    UpstreamDefaults defaults);

  std::shared_ptr<const Router> Current(absl::Time now) override;
  // Changes of the file that were refused.
  int64_t reload_failures() const;

 private:
  struct FileIdentity {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileIdentity& other) const {
      return mtime_ns == other.mtime_ns && size == other.size && inode == other.inode;
    }
  };
  UpstreamsFileRouters(std::string path, UpstreamDefaults defaults)
      : path_(std::move(path)), defaults_(std::move(defaults)) {}
  // The file's identity now; nullopt when it cannot be stat'ed.
  std::optional<FileIdentity> Identity() const;
  absl::StatusOr<std::shared_ptr<const Router>> Read() const;

  const std::string path_;
  const UpstreamDefaults defaults_;
  mutable std::mutex mu_;
  std::shared_ptr<const Router> router_ ABSL_GUARDED_BY(mu_);
  FileIdentity identity_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t reload_failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace claude

#endif  // SERVICE_SERVER_UPSTREAMS_H_
