// Where the upstream API key comes from: the environment, or a mounted file (a Kubernetes
// secret) that is re-read when it changes, so a rotated key is used without a restart.
#ifndef SERVICE_CONFIG_API_KEY_SOURCE_H_
#define SERVICE_CONFIG_API_KEY_SOURCE_H_

#include <ctime>
#include <string>
#include <utility>

namespace claude {

// Supplies the API key. Read by a RequestSigner on the transport's thread, so file reads never
// happen on gRPC threads; not called concurrently.
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
// time or size changed since the last read.
class FileApiKeySource final : public ApiKeySource {
 public:
  explicit FileApiKeySource(std::string path) : path_(std::move(path)) {}
  std::string Key() override;

 private:
  const std::string path_;
  struct timespec mtime_ = {0, 0};
  long long size_ = -1;
  std::string key_;
};

}  // namespace claude

#endif  // SERVICE_CONFIG_API_KEY_SOURCE_H_
