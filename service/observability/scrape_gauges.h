// Gauges whose value is read when Prometheus scrapes, from state that already counts itself
// (the curl loop's live and paused transfers): nothing is updated on the hot path.
#ifndef SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_
#define SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace claude {

class ScrapeGauges final : public prometheus::Collectable {
 public:
  // Adds a gauge without labels; `read` is called on the scraping thread, so it must be
  // thread-safe and cheap. Add every gauge before the first scrape.
  void Add(std::string name, std::string help, std::function<double()> read);
  // The same with labels; gauges sharing a name are one family (give them the same help).
  void Add(std::string name, std::string help, std::vector<std::pair<std::string, std::string>> labels,
           std::function<double()> read);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Gauge {
    std::string name;
    std::string help;
    std::vector<std::pair<std::string, std::string>> labels;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_
