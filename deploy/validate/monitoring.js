#!/usr/bin/env node
// Checks the monitoring that ships with claude-grpc offline: the PromQL of the alerts
// (PrometheusRule), of the Grafana dashboard's panels and variables, and of prometheus-adapter's
// rule; the dashboard's JSON and structure; and lists every metric they use, so that
// tests/deploy/metric_names_test.py can compare the list with a scrape of the real server.
//
//   node deploy/validate/monitoring.js FILE...            check; exit 0 when all is well, 1 if not
//   node deploy/validate/monitoring.js --names FILE...    print the metrics used, one per line:
//                                                         NAME<TAB>LABEL,LABEL (labels matched on)
//
// FILE is YAML (rendered manifests: PrometheusRule objects, ConfigMaps labelled
// grafana_dashboard holding dashboards, HorizontalPodAutoscalers' Pods metrics; or
// prometheus-adapter Helm values with `rules.custom`) or a dashboard's `.json`.
//
// PromQL is parsed with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of
// Prometheus' web UI): any syntax error fails. The grammar does not check argument types, so a
// function that needs a range vector (rate, increase, *_over_time, ...) must get a range
// selector or a subquery. When prometheus-adapter's rules are among the files, each
// HorizontalPodAutoscaler's Pods metric must be a name they serve.
"use strict";

const fs = require("fs");
const YAML = require("yaml");
const { parser } = require("@prometheus-io/lezer-promql");

// Functions whose (only) range-vector argument is the one at this index.
const RANGE_ARGUMENT = new Map(
  ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets",
   "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
   "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
   "present_over_time", "absent_over_time", "predict_linear", "holt_winters"]
    .map((name) => [name, name === "quantile_over_time" ? 1 : 0]));

// Grafana's variables, replaced by values of the same syntactic kind before parsing.
function substituteGrafana(expr) {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, "5m")
    .replace(/\$__(interval_ms|range_s|range_ms)\b/g, "300")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}?/g, "value");
}

// prometheus-adapter's Go templates, likewise.
function substituteAdapter(expr) {
  return expr
    .replace(/<<\s*\.Series\s*>>/g, "series_placeholder")
    .replace(/<<\s*\.LabelMatchers\s*>>/g, 'namespace="value"')
    .replace(/<<\s*\.GroupBy\s*>>/g, "pod");
}

// Parses `expr`; returns {errors: [...], metrics: Map name -> Set of labels matched on}.
function checkPromQL(expr) {
  const errors = [];
  const metrics = new Map();
  if (typeof expr !== "string" || expr.trim() === "") {
    return { errors: ["empty expression"], metrics };
  }
  const tree = parser.parse(expr);
  const text = (node) => expr.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (node.type.isError) {
        errors.push(`syntax error at offset ${node.from}: ...${expr.slice(Math.max(0, node.from - 20), node.from)}<here>${expr.slice(node.from, node.from + 20)}...`);
        return;
      }
      if (node.name === "VectorSelector") {
        const identifier = node.getChild("Identifier");
        const labels = new Set();
        let name = identifier ? text(identifier) : null;
        const matchers = node.getChild("LabelMatchers");
        if (matchers) {
          for (let m = matchers.firstChild; m; m = m.nextSibling) {
            const label = m.getChild("LabelName");
            if (!label) continue;
            const value = m.getChild("StringLiteral");
            if (text(label) === "__name__" && value) name = JSON.parse(text(value));
            else labels.add(text(label));
          }
        }
        if (name && name !== "series_placeholder") {
          if (!metrics.has(name)) metrics.set(name, new Set());
          labels.forEach((l) => metrics.get(name).add(l));
        }
      }
      if (node.name === "FunctionCall") {
        const identifier = node.getChild("FunctionIdentifier");
        const fn = identifier ? text(identifier) : "";
        if (RANGE_ARGUMENT.has(fn)) {
          const body = node.getChild("FunctionCallBody");
          const args = [];
          for (let a = body && body.firstChild; a; a = a.nextSibling) {
            if (a.name !== "(" && a.name !== ")" && a.name !== ",") args.push(a);
          }
          let arg = args[RANGE_ARGUMENT.get(fn)];
          while (arg && arg.name === "ParenExpr") arg = arg.firstChild && arg.firstChild.nextSibling;
          if (!arg || (arg.name !== "MatrixSelector" && arg.name !== "SubqueryExpr")) {
            errors.push(`${fn}() needs a range vector (a selector with [duration], or a subquery) at offset ${node.from}`);
          }
        }
      }
    },
  });
  return { errors, metrics };
}

// Every PromQL expression in `file`, as [where, expr, substitute].
// Names the custom metrics API serves (prometheus-adapter rules) and names HPAs ask it for.
const customMetrics = { served: new Set(), asked: [] };

function expressionsOf(file, structureErrors) {
  const text = fs.readFileSync(file, "utf8");
  const found = [];
  if (file.endsWith(".json")) {
    dashboardExpressions(file, text, found, structureErrors);
    return found;
  }
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      structureErrors.push(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const value = doc.toJS();
    if (!value || typeof value !== "object") continue;
    const items = value.kind === "List" && Array.isArray(value.items) ? value.items : [value];
    for (const object of items) {
      const name = `${file}: ${object.kind || "values"}/${(object.metadata && object.metadata.name) || ""}`;
      if (object.kind === "PrometheusRule") {
        for (const group of (object.spec && object.spec.groups) || []) {
          for (const rule of group.rules || []) {
            found.push([`${name} ${rule.alert || rule.record}`, rule.expr, (e) => e]);
          }
        }
      } else if (object.kind === "ConfigMap" && object.metadata && object.metadata.labels &&
                 object.metadata.labels.grafana_dashboard !== undefined) {
        for (const [key, json] of Object.entries(object.data || {})) {
          dashboardExpressions(`${name} ${key}`, json, found, structureErrors);
        }
      } else if (object.kind === "HorizontalPodAutoscaler") {
        // A Pods metric is a series name served by the custom metrics API (prometheus-adapter).
        for (const metric of (object.spec && object.spec.metrics) || []) {
          if (metric.type !== "Pods") continue;
          found.push([`${name} pods metric`, metric.pods.metric.name, (e) => e]);
          customMetrics.asked.push([name, metric.pods.metric.name]);
        }
      } else if (object.rules && Array.isArray(object.rules.custom)) {
        object.rules.custom.forEach((rule, i) => {
          found.push([`${name} rules.custom[${i}].seriesQuery`, rule.seriesQuery, (e) => e]);
          found.push([`${name} rules.custom[${i}].metricsQuery`, rule.metricsQuery, substituteAdapter]);
          const series = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rule.seriesQuery || "");
          const as = rule.name && rule.name.as;
          if (as || series) customMetrics.served.add(as || series[0]);
        });
      }
    }
  }
  return found;
}

// A Grafana dashboard: JSON, a title and uid, panels with unique ids and a position, each
// target a PromQL expression, each variable used defined.
function dashboardExpressions(where, json, found, structureErrors) {
  let dashboard;
  try {
    dashboard = JSON.parse(json);
  } catch (e) {
    structureErrors.push(`${where}: dashboard is not JSON: ${e.message}`);
    return;
  }
  const problem = (message) => structureErrors.push(`${where}: dashboard: ${message}`);
  if (typeof dashboard.title !== "string" || typeof dashboard.uid !== "string") problem("needs a title and a uid");
  if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) {
    problem("has no panels");
    return;
  }
  const variables = new Set(((dashboard.templating && dashboard.templating.list) || []).map((v) => v.name));
  for (const v of (dashboard.templating && dashboard.templating.list) || []) {
    if (v.type !== "query") continue;
    const query = typeof v.query === "string" ? v.query : v.query && v.query.query;
    const m = /^label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query || "");
    if (!m) problem(`variable ${v.name}: expected label_values(SELECTOR, LABEL), got ${JSON.stringify(query)}`);
    else found.push([`${where} variable ${v.name}`, m[1], substituteGrafana]);
  }
  const ids = new Set();
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels || [])]);
  for (const panel of panels) {
    const label = `panel ${JSON.stringify(panel.title)}`;
    if (!Number.isInteger(panel.id) || ids.has(panel.id)) problem(`${label}: id missing or repeated`);
    ids.add(panel.id);
    const g = panel.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x + g.w > 24) problem(`${label}: bad gridPos`);
    if (panel.type === "row") continue;
    if (!Array.isArray(panel.targets) || panel.targets.length === 0) problem(`${label}: no targets`);
    for (const target of panel.targets || []) {
      for (const m of (target.expr || "").matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        if (!m[1].startsWith("__") && !variables.has(m[1])) problem(`${label}: uses undefined variable $${m[1]}`);
      }
      found.push([`${where} ${label} ${target.refId}`, target.expr, substituteGrafana]);
    }
  }
}

function main(argv) {
  const namesOnly = argv[0] === "--names";
  const files = namesOnly ? argv.slice(1) : argv;
  if (files.length === 0) {
    console.error("usage: monitoring.js [--names] FILE...");
    return 2;
  }
  const errors = [];
  const used = new Map();
  let count = 0;
  for (const file of files) {
    for (const [where, expr, substitute] of expressionsOf(file, errors)) {
      count++;
      const result = checkPromQL(substitute(expr || ""));
      result.errors.forEach((e) => errors.push(`${where}: ${e}: ${JSON.stringify(expr)}`));
      for (const [name, labels] of result.metrics) {
        if (!used.has(name)) used.set(name, new Set());
        labels.forEach((l) => used.get(name).add(l));
      }
    }
  }
  // With an adapter's rules among the files, every HPA's Pods metric must be one they serve.
  if (customMetrics.served.size > 0) {
    for (const [where, metric] of customMetrics.asked) {
      if (!customMetrics.served.has(metric)) {
        errors.push(`${where}: the HPA scales on ${metric}, which no prometheus-adapter rule serves (${[...customMetrics.served].join(", ")})`);
      }
    }
  }
  if (namesOnly) {
    for (const name of [...used.keys()].sort()) console.log(`${name}\t${[...used.get(name)].sort().join(",")}`);
    return errors.length === 0 ? 0 : 1;
  }
  errors.forEach((e) => console.log(`INVALID  ${e}`));
  console.log(`monitoring: ${count} PromQL expressions, ${used.size} metrics, ${errors.length} error(s) in ${files.join(" ")}`);
  return errors.length === 0 && count > 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
