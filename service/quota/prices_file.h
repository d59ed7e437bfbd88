// The price table (--prices_file): what a model's tokens cost, so that calls can be charged to
// the callers' US-dollar budgets. One model per line, prices in US dollars per million tokens:
//
//   # model             input  output  cache_write  cache_read
//   claude-sonnet-4-5   3      15      3.75         0.30
//   *                   15     75      18.75        1.50     # every model not listed
//
// Model names are 1-128 characters of [A-Za-z0-9._:@/-]; "*" prices the models not listed.
// The file is re-read when it changes (checked at most once per interval); a file that
// disappears or stops parsing leaves the last good table in force (reported on stderr).
#ifndef SERVICE_QUOTA_PRICES_FILE_H_
#define SERVICE_QUOTA_PRICES_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sync/mutex.h"
#include "service/config/reloading_file.h"

namespace claude {

// Tokens of one call, by kind, as the upstream reported them.
struct TokenCounts {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_write = 0;
  int64_t cache_read = 0;
};

// US dollars per million tokens of each kind.
struct ModelPrice {
  double input = 0, output = 0, cache_write = 0, cache_read = 0;
};

class PriceTable {
 public:
  // Parses the file's text; an error names the line.
  static absl::StatusOr<PriceTable> Parse(absl::string_view text);
  // What `tokens` of `model` cost, in millionths of a US dollar (a price per million tokens is
  // a price in micro-dollars per token); nullopt when the model is not priced (no "*" line).
  std::optional<int64_t> CostMicros(absl::string_view model, const TokenCounts& tokens) const;

 private:
  absl::flat_hash_map<std::string, ModelPrice> prices_;
  std::optional<ModelPrice> fallback_;  // the "*" line
};

class PricesFile {
 public:
  PricesFile(std::string path, absl::Duration check_interval);
  // The first read; fails when the file cannot be read or parsed.
  absl::Status Load() { return file_.Load(); }
  // The cost with the table in force (re-read first when due); 0 for a model the table does
  // not price (reported on stderr once per model, up to 100 models).
  int64_t CostMicros(absl::string_view model, const TokenCounts& tokens, absl::Time now);

 private:
  ReloadingFile<PriceTable> file_;
  Mutex mu_;
  absl::flat_hash_map<std::string, bool> unpriced_reported_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claude

#endif  // SERVICE_QUOTA_PRICES_FILE_H_
