// The monitoring shipped in deploy/ (the alerts, the Grafana dashboard, prometheus-adapter's
// rule and the prod HPA's metric) uses only metrics the server exports: every metric that
// deploy/validate/monitoring.js finds in their PromQL (with Prometheus' own parser) must appear
// in a real scrape of the server after traffic that makes each family show up, and every label
// they match on must be one of that metric's labels (or one Prometheus adds when it scrapes).
// Metrics of other exporters are listed below by name, each with its exporter.
//
// Needs node and deploy/validate/node_modules (`.ci/install-deps --deploy-tools`); skipped
// without them.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/testing/json_testing.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/server_harness.h"

namespace claude::testing {
namespace {

// The files that hold the monitoring's PromQL, relative to the source directory.
constexpr const char* kMonitoringFiles[] = {
    "deploy/components/monitoring/prometheusrule.yaml",
    "deploy/components/monitoring/grafana-dashboard.json",
    "deploy/overlays/prod/hpa-patch.yaml",
    "deploy/autoscaling/prometheus-adapter-values.yaml",
};

// Metrics the monitoring may use that another exporter provides.
const std::map<std::string, std::string> kExternalMetrics = {
    {"kube_deployment_status_replicas_unavailable", "kube-state-metrics"},
};

// Labels Prometheus itself attaches to every scraped series (target labels of a ServiceMonitor
// or of the usual kubernetes-pods job), so the server never exports them.
const std::set<std::string> kTargetLabels = {"namespace", "pod",     "job",     "instance",
                                             "service",   "container", "endpoint"};

// What the monitoring uses: metric name -> the labels it matches on.
struct Used {
  std::map<std::string, std::set<std::string>> metrics;
  std::string error;  // why it could not be read
};

Used ReadUsedMetrics(const std::string& source_dir) {
  std::vector<std::string> files;
  for (const char* f : kMonitoringFiles) files.push_back(absl::StrCat(source_dir, "/", f));
  const std::string command = absl::StrCat("node ", source_dir, "/deploy/validate/monitoring.js --names ",
                                           absl::StrJoin(files, " "), " 2>&1");
  Used used;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {{}, "cannot run " + command};
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  if (pclose(pipe) != 0) return {{}, absl::StrCat(command, " failed:\n", output)};
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    std::set<std::string>& labels = used.metrics[fields[0]];
    if (fields.size() > 1) {
      for (absl::string_view label : absl::StrSplit(fields[1], ',', absl::SkipEmpty())) {
        labels.insert(std::string(label));
      }
    }
  }
  return used;
}

TEST(MonitoringMetricsTest, DashboardAlertsAndAutoscalingUseOnlyExportedMetrics) {
  const std::string source_dir = CLAUDE_SOURCE_DIR;
  if (!std::filesystem::exists(source_dir + "/deploy/validate/node_modules") ||
      std::system("command -v node >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs node and deploy/validate/node_modules: bash .ci/install-deps --deploy-tools";
  }
  const Used used = ReadUsedMetrics(source_dir);
  ASSERT_TRUE(used.error.empty()) << used.error;
  // The parser found the metrics that matter most; an empty or truncated list proves nothing.
  for (const char* name : {"claude_grpc_rpcs_total", "claude_grpc_live_streams",
                           "gen_ai_server_time_to_first_token_seconds_bucket",
                           "claude_grpc_upstream_responses_total"}) {
    EXPECT_TRUE(used.metrics.count(name)) << name << " is not used by the monitoring any more";
  }

  // Traffic that makes every family of the server appear: a stream (time to first token,
  // tokens), a unary call answered 529 first and retried (upstream status codes, retries).
  HarnessOptions options;
  options.configure = [](ServerConfig& config) { config.metrics_listen = "127.0.0.1:0"; };
  ServerHarness h(options);
  h.upstream().Enqueue(SseReply(ReadFixture("text_basic.sse"), 64));
  {
    grpc::ClientContext context;
    auto reader = h.messages().StreamMessage(&context, Hello());
    v1::MessageStreamEvent event;
    while (reader->Read(&event)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  h.upstream().Enqueue(JsonReply(529, ReadFixture("error_529_anthropic.json"), {{"retry-after-ms", "1"}}));
  h.upstream().Enqueue(JsonReply(200, ReadFixture("text_basic.message.json")));
  {
    grpc::ClientContext context;
    v1::Message message;
    ASSERT_TRUE(h.messages().CreateMessage(&context, Hello(), &message).ok());
  }

  // Exported: each metric name with the union of its samples' labels.
  std::map<std::string, std::set<std::string>> exported;
  for (const MetricSample& sample : ParseMetrics(ScrapeMetrics(h.server().metrics_port()))) {
    std::set<std::string>& labels = exported[sample.name];
    for (const auto& [label, value] : sample.labels) labels.insert(label);
  }
  ASSERT_FALSE(exported.empty());

  for (const auto& [name, labels] : used.metrics) {
    if (kExternalMetrics.count(name)) {
      EXPECT_FALSE(exported.count(name)) << name << " is listed as " << kExternalMetrics.at(name)
                                         << "'s but the server exports it";
      continue;
    }
    auto it = exported.find(name);
    if (it == exported.end()) {
      ADD_FAILURE() << "the monitoring uses " << name << ", which the server does not export";
      continue;
    }
    for (const std::string& label : labels) {
      EXPECT_TRUE(it->second.count(label) || kTargetLabels.count(label))
          << "the monitoring matches " << name << " on label " << label << ", which it does not have ("
          << absl::StrJoin(it->second, ", ") << ")";
    }
  }
}

}  // namespace
}  // namespace claude::testing
