#include "service/observability/scrape_gauges.h"

#include <utility>

namespace claude {

void ScrapeGauges::Add(std::string name, std::string help, std::function<double()> read) {
  gauges_.push_back(Gauge{std::move(name), std::move(help), std::move(read)});
}

std::vector<prometheus::MetricFamily> ScrapeGauges::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(gauges_.size());
  for (const Gauge& gauge : gauges_) {
    prometheus::MetricFamily family;
    family.name = gauge.name;
    family.help = gauge.help;
    family.type = prometheus::MetricType::Gauge;
    family.metric.emplace_back();
    family.metric.back().gauge.value = gauge.read();
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace claude
