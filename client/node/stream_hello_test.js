#!/usr/bin/env node
// Runs client/node/stream_hello.js against a real claude-grpc-server in front of fake-anthropic
// (echo mode), both started here on loopback port 0 and stopped at the end. Registered in CTest
// as node_stream_hello_test (client/node/CMakeLists.txt):
//   node stream_hello_test.js FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY
// Checks that the reply is exactly the echoed prompt, that the usage counts arrive as numbers
// (total = input + output), and that a closed port fails with UNAVAILABLE named on stderr.
// Exits 77 (CTest: skipped) when client/node/node_modules is missing
// (`.ci/install-deps --deploy-tools` installs it).
"use strict";

const fs = require("fs");
const net = require("net");
const path = require("path");
const { spawn, spawnSync } = require("child_process");

const SKIP = 77;
const scale = Number(process.env.CLAUDE_TEST_TIME_SCALE || "1");
const example = path.join(__dirname, "stream_hello.js");

function fail(message) {
  console.error(`node_stream_hello_test: FAIL: ${message}`);
  process.exit(1);
}

// Starts `argv` and resolves with the port its output names (`pattern`'s group 1).
function startAndReadPort(children, argv, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let output = "";
    const timer = setTimeout(() => reject(new Error(`${argv[0]} printed no port:\n${output}`)), 10000 * scale);
    const read = (chunk) => {
      output += chunk;
      const m = pattern.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => reject(new Error(`${argv[0]} exited ${code}:\n${output}`)));
  });
}

function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const [fake, server] = process.argv.slice(2);
  if (!fake || !server) {
    console.error("usage: stream_hello_test.js FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY");
    return 2;
  }
  if (!fs.existsSync(path.join(__dirname, "node_modules", "@grpc", "grpc-js"))) {
    console.log("node_stream_hello_test: SKIPPED: client/node/node_modules is missing (bash .ci/install-deps --deploy-tools)");
    return SKIP;
  }
  const children = [];
  try {
    const fakePort = await startAndReadPort(children, [fake, "--listen=127.0.0.1:0"], /listening on http:\/\/[0-9.]+:([0-9]+)/);
    const port = await startAndReadPort(
      children, [server, "--listen=127.0.0.1:0", `--upstream=http://127.0.0.1:${fakePort}`, "--log_rpcs=false"],
      /listening on port ([0-9]+)/);

    // 1. The reply streams through, and the usage counts are numbers.
    let run = spawnSync(process.execPath, [example, `127.0.0.1:${port}`, "Hello from Node"],
                        { encoding: "utf8", timeout: 60000 * scale });
    const m = /^Echo: Hello from Node\n\[input_tokens=(\d+) output_tokens=(\d+) total=(\d+)\]\n$/.exec(run.stdout);
    if (run.status !== 0 || !m) {
      fail(`stream_hello.js exited ${run.status}; stdout ${JSON.stringify(run.stdout)}; stderr ${JSON.stringify(run.stderr)}`);
    }
    if (Number(m[1]) + Number(m[2]) !== Number(m[3]) || Number(m[2]) === 0) {
      fail(`usage is not numeric: ${m[0].trim()}`);
    }
    console.log(`node_stream_hello_test: streamed reply OK: ${run.stdout.trim().split("\n").join(" ")}`);

    // 2. A closed port: exit 1, UNAVAILABLE on stderr, nothing on stdout.
    run = spawnSync(process.execPath, [example, `127.0.0.1:${await closedPort()}`, "Hello"],
                    { encoding: "utf8", timeout: 60000 * scale });
    if (run.status !== 1 || !/stream_hello: UNAVAILABLE: /.test(run.stderr) || run.stdout !== "") {
      fail(`closed port: exit ${run.status}; stdout ${JSON.stringify(run.stdout)}; stderr ${JSON.stringify(run.stderr)}`);
    }
    console.log("node_stream_hello_test: closed port fails with UNAVAILABLE");
    return 0;
  } finally {
    for (const child of children) child.kill();
  }
}

main().then((code) => { process.exitCode = code; }, (error) => fail(error.message));
