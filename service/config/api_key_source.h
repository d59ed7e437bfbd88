// Where the upstream API key comes from: the environment, or a mounted file (a Kubernetes
// secret) that is re-read when it changes, so a rotated key is used without a restart.
#ifndef SERVICE_CONFIG_API_KEY_SOURCE_H_
#define SERVICE_CONFIG_API_KEY_SOURCE_H_

#include <ctime>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "common/sync/mutex.h"

namespace claude {

// Supplies the API key. Read by a RequestSigner on the transport's thread, so file reads never
// happen on gRPC threads (and by the server's readiness check, on its own thread).
class ApiKeySource {
 public:
  virtual ~ApiKeySource() = default;
  // The current key; empty: none (requests go without credentials).
  virtual std::string Key() = 0;
};

class StaticApiKeySource final : public ApiKeySource {
 public:
  explicit StaticApiKeySource(std::string key) : key_(std::move(key)) {}
  std::string Key() override { return key_; }

 private:
  const std::string key_;
};

// Reads the key from `path` (surrounding whitespace removed) whenever the file's modification
// time or size changed since the last read; while the file is missing, the last key read. Called
// by the signer on the transport's thread for every request and by the readiness check now and
// then, hence the lock (uncontended but for those rare checks).
class FileApiKeySource final : public ApiKeySource {
 public:
  explicit FileApiKeySource(std::string path) : path_(std::move(path)) {}
  std::string Key() override;
  // Whether the file exists now and holds a key (Key() may still answer the last one).
  bool Present();
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  Mutex mu_;
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) = {0, 0};
  long long size_ ABSL_GUARDED_BY(mu_) = -1;
  std::string key_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_CONFIG_API_KEY_SOURCE_H_
