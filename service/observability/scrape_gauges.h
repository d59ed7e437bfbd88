// Gauges (and counters) whose value is read when Prometheus scrapes, from state that already
// counts itself (the curl loop's live and paused transfers, /proc for the process, readiness):
// nothing is updated on the hot path.
#ifndef SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_
#define SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace claude {

class ScrapeGauges final : public prometheus::Collectable {
 public:
  // One series of a labelled family: its labels and value.
  struct Sample {
    std::map<std::string, std::string> labels;
    double value = 0;
  };

  // The `read` functions are called on the scraping thread, so they must be thread-safe and
  // cheap. Add everything before the first scrape.
  // A gauge without labels.
  void Add(std::string name, std::string help, std::function<double()> read);
  // A counter without labels (a total some other part keeps, e.g. the kernel's CPU time).
  void AddCounter(std::string name, std::string help, std::function<double()> read);
  // A gauge with one series per sample `read` returns (none: the family is empty).
  void AddLabeled(std::string name, std::string help, std::function<std::vector<Sample>()> read);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Family {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    std::function<std::vector<Sample>()> read;
  };
  std::vector<Family> families_;
};

// The process's own metrics, under the names every Prometheus client library uses
// (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds), read from /proc, and
// claude_grpc_build_info{version,revision} = 1, which dashboards join on to show what runs.
void AddProcessMetrics(ScrapeGauges& gauges);

}  // namespace claude

#endif  // SERVICE_OBSERVABILITY_SCRAPE_GAUGES_H_
