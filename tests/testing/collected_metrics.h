// Metrics read back as Prometheus would get them, without HTTP: the families a Collectable (a
// prometheus::Registry, ScrapeGauges) returns, and the series of one family found by its labels.
// The unit tests of service/observability/ read what they fed through these; the end-to-end
// tests scrape real text instead (prometheus_text.h).
#ifndef TESTS_TESTING_COLLECTED_METRICS_H_
#define TESTS_TESTING_COLLECTED_METRICS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace claude::testing {

using MetricLabels = std::map<std::string, std::string>;

// The family named `name`; nullptr when `families` has none.
inline const prometheus::MetricFamily* FindFamily(
    const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// The pointers above point into `families`: a temporary (FindFamily(registry.Collect(), ...))
// would leave them dangling, so that does not compile.
const prometheus::MetricFamily* FindFamily(std::vector<prometheus::MetricFamily>&& families,
                                           const std::string& name) = delete;

// All the labels of one series.
inline MetricLabels LabelsOf(const prometheus::ClientMetric& series) {
  MetricLabels labels;
  for (const prometheus::ClientMetric::Label& label : series.label)
    labels[label.name] = label.value;
  return labels;
}

// The series of family `name` whose labels include `labels` (the first when several do);
// nullptr when the family or such a series is absent.
inline const prometheus::ClientMetric* FindSeries(
    const std::vector<prometheus::MetricFamily>& families, const std::string& name,
    const MetricLabels& labels = {}) {
  const prometheus::MetricFamily* family = FindFamily(families, name);
  if (family == nullptr) return nullptr;
  for (const prometheus::ClientMetric& series : family->metric) {
    const MetricLabels has = LabelsOf(series);
    bool matches = true;
    for (const auto& [label, value] : labels) {
      auto it = has.find(label);
      if (it == has.end() || it->second != value) {
        matches = false;
        break;
      }
    }
    if (matches) return &series;
  }
  return nullptr;
}
const prometheus::ClientMetric* FindSeries(std::vector<prometheus::MetricFamily>&& families,
                                           const std::string& name,
                                           const MetricLabels& labels = {}) = delete;

// One scrape of `collectable`: a copy of its family `name`, nullopt when absent.
inline std::optional<prometheus::MetricFamily> CollectFamily(
    const prometheus::Collectable& collectable, const std::string& name) {
  const std::vector<prometheus::MetricFamily> families = collectable.Collect();
  const prometheus::MetricFamily* family = FindFamily(families, name);
  if (family == nullptr) return std::nullopt;
  return *family;
}

// One scrape of `collectable`: a copy of the series FindSeries finds, nullopt when none.
inline std::optional<prometheus::ClientMetric> CollectSeries(
    const prometheus::Collectable& collectable, const std::string& name,
    const MetricLabels& labels = {}) {
  const std::vector<prometheus::MetricFamily> families = collectable.Collect();
  const prometheus::ClientMetric* series = FindSeries(families, name, labels);
  if (series == nullptr) return std::nullopt;
  return *series;
}

// One scrape of `collectable`: the value of the counter series FindSeries finds; -1 (which no
// counter holds) when there is none.
inline double CollectCounter(const prometheus::Collectable& collectable, const std::string& name,
                             const MetricLabels& labels = {}) {
  const std::optional<prometheus::ClientMetric> series = CollectSeries(collectable, name, labels);
  return series ? series->counter.value : -1;
}

}  // namespace claude::testing

#endif  // TESTS_TESTING_COLLECTED_METRICS_H_
