#!/usr/bin/env node
// Validates Kubernetes objects offline against the Kubernetes API schemas. Used by
// .ci/validate-manifests on `kubectl kustomize` output.
//
//   node deploy/validate/validate.js [--recommended-labels] FILE.yaml...   ("-": standard input)
//
// Each object (YAML documents, `kind: List` items included) is checked twice, with both views
// of the Kubernetes OpenAPI schema that the kubernetes-models package generates:
//   1. its JSON-schema validator (ajv, compiled from the schema): types, int32/int64 ranges,
//      required fields;
//   2. its TypeScript interfaces, through the TypeScript compiler: each object is compiled as
//      a literal of its kind's interface, so an unknown or misspelled field anywhere (excess
//      property), a value of the wrong type and a missing required field all fail, as they do
//      for the API server's strict field validation.
// Custom resources of the Prometheus Operator (ServiceMonitor, PrometheusRule) are checked the
// same way against @kubernetes-models/prometheus-operator. An apiVersion/kind the schemas do not
// know fails too. With --recommended-labels, every object must also carry Kubernetes'
// recommended app.kubernetes.io/ labels. Prints one line per object and one per
// error; exits 0 when every object is valid, 1 otherwise, 2 on usage errors.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const ts = require("typescript");

function readObjects(file) {
  const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
  const objects = [];
  const errors = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      errors.push(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;  // an empty document
    if (value.kind === "List" && Array.isArray(value.items)) {
      value.items.forEach((item) => objects.push({ file, object: item }));
    } else {
      objects.push({ file, object: value });
    }
  }
  return { objects, errors };
}

function describe({ file, object }) {
  const meta = (object && object.metadata) || {};
  const name = meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  return `${file}: ${object && object.kind}/${name}`;
}

// API groups of custom resources -> the npm package with their models.
const CRD_MODEL_PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",  // ServiceMonitor, PrometheusRule
};

// "apps/v1" + "Deployment" -> the model module and its TypeScript interface.
function modelOf(object) {
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    return { error: "not an object" };
  }
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind) ||
      !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) {
    return { error: "apiVersion and kind must be strings naming a Kubernetes API type" };
  }
  // Custom resources have their own model packages (same generator, from the CRDs' schemas).
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const modulePath = `${CRD_MODEL_PACKAGES[group] || "kubernetes-models"}/${apiVersion}/${kind}`;
  let model;
  try {
    model = require(modulePath)[kind];
  } catch (e) {
    model = undefined;
  }
  if (typeof model !== "function") {
    return { error: `no schema for apiVersion ${apiVersion} kind ${kind}` };
  }
  return { model, modulePath, typeName: `I${kind}` };
}

// Kubernetes' recommended labels, which every rendered object must carry (--recommended-labels).
const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
  "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
];

function main(argv) {
  const requireLabels = argv[0] === "--recommended-labels";
  if (requireLabels) argv = argv.slice(1);
  if (argv.length === 0) {
    console.error("usage: validate.js [--recommended-labels] FILE.yaml... (- for standard input)");
    return 2;
  }
  const errors = [];  // [label, message]
  const checked = [];
  for (const file of argv) {
    const read = readObjects(file);
    read.errors.forEach((e) => errors.push([file, e]));
    for (const entry of read.objects) {
      const label = describe(entry);
      const found = modelOf(entry.object);
      if (found.error) {
        errors.push([label, found.error]);
        continue;
      }
      if (requireLabels) {
        const labels = (entry.object.metadata && entry.object.metadata.labels) || {};
        const missing = RECOMMENDED_LABELS.filter((l) => typeof labels[l] !== "string" || labels[l] === "");
        if (missing.length > 0) errors.push([label, `labels: missing ${missing.join(", ")}`]);
      }
      try {
        new found.model(entry.object).validate();
      } catch (e) {
        errors.push([label, `schema: ${e.message}`]);
      }
      checked.push({ label, entry, found });
    }
  }

  // Stage 2: one TypeScript program, one typed literal per object. Written beside
  // node_modules so that the kubernetes-models type declarations resolve.
  if (checked.length > 0) {
    const source = path.join(__dirname, `.objects-${process.pid}.ts`);
    const lines = [];
    checked.forEach(({ found }, i) => {
      lines.push(`import type { ${found.typeName} as T${i} } from "${found.modulePath}";`);
    });
    // Each literal's first and last line, as TypeScript counts them (from 0).
    const ranges = [];
    checked.forEach(({ entry }, i) => {
      const literal = `export const object${i}: T${i} = ${JSON.stringify(entry.object, null, 2)};`;
      lines.push(...literal.split("\n"));
      ranges.push([lines.length - literal.split("\n").length, lines.length - 1]);
    });
    fs.writeFileSync(source, lines.join("\n") + "\n");
    try {
      const program = ts.createProgram([source], {
        strict: true,
        noEmit: true,
        types: [],
        lib: ["lib.es2020.d.ts"],
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        skipLibCheck: true,
      });
      for (const d of ts.getPreEmitDiagnostics(program)) {
        const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
        let label = "typescript";  // a diagnostic outside the objects, e.g. a broken install
        let where = "";
        if (d.file && d.file.fileName === source && d.start !== undefined) {
          const line = d.file.getLineAndCharacterOfPosition(d.start).line;
          const index = ranges.findIndex(([a, b]) => line >= a && line <= b);
          if (index >= 0) label = checked[index].label;
          where = ` (at ${lines[line].trim()})`;
        }
        errors.push([label, `fields: ${message}${where}`]);
      }
    } finally {
      fs.rmSync(source, { force: true });
    }
  }

  const bad = new Set(errors.map(([label]) => label));
  for (const { label } of checked) {
    if (!bad.has(label)) console.log(`valid    ${label}`);
  }
  for (const [label, message] of errors) console.log(`INVALID  ${label}: ${message}`);
  const invalid = checked.filter(({ label }) => bad.has(label)).length;
  console.log(`validate: ${checked.length - invalid} valid, ${errors.length} error(s) in ${argv.join(" ")}`);
  return errors.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
