#include "service/observability/scrape_gauges.h"

#include <utility>

namespace claude {

void ScrapeGauges::Add(std::string name, std::string help, std::function<double()> read) {
  Add(std::move(name), std::move(help), {}, std::move(read));
}

void ScrapeGauges::Add(std::string name, std::string help,
                       std::vector<std::pair<std::string, std::string>> labels,
                       std::function<double()> read) {
  gauges_.push_back(Gauge{std::move(name), std::move(help), std::move(labels), std::move(read)});
}

std::vector<prometheus::MetricFamily> ScrapeGauges::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(gauges_.size());
  for (const Gauge& gauge : gauges_) {
    if (families.empty() || families.back().name != gauge.name) {
      prometheus::MetricFamily family;
      family.name = gauge.name;
      family.help = gauge.help;
      family.type = prometheus::MetricType::Gauge;
      families.push_back(std::move(family));
    }
    prometheus::ClientMetric& metric = families.back().metric.emplace_back();
    for (const auto& [name, value] : gauge.labels) metric.label.push_back({name, value});
    metric.gauge.value = gauge.read();
  }
  return families;
}

}  // namespace claude
