#include "service/quota/prices_file.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/config/config_text.h"
#include "service/observability/server_log.h"

namespace claude {

absl::StatusOr<PriceTable> PriceTable::Parse(absl::string_view text) {
  PriceTable table;
  for (const ConfigLine& line : ConfigLines(text)) {
    const std::vector<absl::string_view>& fields = line.fields;
    const auto error = [&line](absl::string_view what) { return ConfigLineError(line, what); };
    if (fields.size() != 5) {
      return error("expected \"<model> <input> <output> <cache_write> <cache_read>\" (USD per million tokens)");
    }
    if (fields[0] != "*" && !IsValidConfigName(fields[0])) {
      return error("the model must be \"*\" or 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
    }
    double values[4];
    for (int i = 0; i < 4; ++i) {
      if (!absl::SimpleAtod(fields[i + 1], &values[i]) || !std::isfinite(values[i]) || values[i] < 0 ||
          values[i] > 1e6) {
        return error(absl::StrCat("price ", i + 1, " must be US dollars per million tokens, 0 to 1e6"));
      }
    }
    const ModelPrice price{values[0], values[1], values[2], values[3]};
    if (fields[0] == "*") {
      if (table.fallback_) return error("\"*\" is listed twice");
      table.fallback_ = price;
    } else if (!table.prices_.emplace(std::string(fields[0]), price).second) {
      return error("this model is listed twice");
    }
  }
  return table;
}

std::optional<int64_t> PriceTable::CostMicros(absl::string_view model, const TokenCounts& tokens) const {
  const ModelPrice* price = nullptr;
  if (auto it = prices_.find(model); it != prices_.end()) {
    price = &it->second;
  } else if (fallback_) {
    price = &*fallback_;
  } else {
    return std::nullopt;
  }
  // Token counts come from the upstream: negative ones count as none.
  const auto n = [](int64_t count) { return static_cast<double>(std::max<int64_t>(count, 0)); };
  const double micros = n(tokens.input) * price->input + n(tokens.output) * price->output +
                        n(tokens.cache_write) * price->cache_write + n(tokens.cache_read) * price->cache_read;
  return static_cast<int64_t>(std::llround(std::min(micros, 9e15)));
}

PricesFile::PricesFile(std::string path, absl::Duration check_interval)
    : file_(std::move(path), check_interval, "--prices_file", "the last good prices stay in force",
            &PriceTable::Parse) {}

int64_t PricesFile::CostMicros(absl::string_view model, const TokenCounts& tokens, absl::Time now) {
  const std::shared_ptr<const PriceTable> table = file_.Current(now);
  if (table == nullptr) return 0;
  std::optional<int64_t> cost = table->CostMicros(model, tokens);
  if (!cost) {
    MutexLock lock(mu_);
    if (unpriced_reported_.size() < 100 && unpriced_reported_.emplace(std::string(model), true).second) {
      // Model names come from callers: only a well-formed one is echoed.
      LogEvent(Severity::kWarning,
               absl::StrCat("--prices_file has no price for model \"",
                            IsValidConfigName(model) ? model : "(malformed name)",
                            "\" and no \"*\" line: its calls cost $0 against budgets"),
               {{"event", "model_unpriced"}});
    }
    return 0;
  }
  return *cost;
}

}  // namespace claude
