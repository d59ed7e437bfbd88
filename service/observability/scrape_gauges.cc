#include "service/observability/scrape_gauges.h"

#include <utility>

namespace claude {

void ScrapeGauges::Add(std::string name, std::string help, std::function<double()> read) {
  families_.push_back(Family{std::move(name), std::move(help), prometheus::MetricType::Gauge,
                             [read = std::move(read)] { return std::vector<Sample>{Sample{{}, read()}}; }});
}

void ScrapeGauges::AddCounter(std::string name, std::string help, std::function<double()> read) {
  families_.push_back(Family{std::move(name), std::move(help), prometheus::MetricType::Counter,
                             [read = std::move(read)] { return std::vector<Sample>{Sample{{}, read()}}; }});
}

void ScrapeGauges::AddLabeled(std::string name, std::string help, std::function<std::vector<Sample>()> read) {
  families_.push_back(Family{std::move(name), std::move(help), prometheus::MetricType::Gauge, std::move(read)});
}

std::vector<prometheus::MetricFamily> ScrapeGauges::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(families_.size());
  for (const Family& source : families_) {
    prometheus::MetricFamily family;
    family.name = source.name;
    family.help = source.help;
    family.type = source.type;
    for (const Sample& sample : source.read()) {
      prometheus::ClientMetric& metric = family.metric.emplace_back();
      for (const auto& [name, value] : sample.labels) metric.label.push_back({name, value});
      if (source.type == prometheus::MetricType::Counter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace claude
