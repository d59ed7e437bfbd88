#!/usr/bin/env node
// Calls claude-grpc from Node.js: streams a reply's text to stdout, then prints the usage.
// The stubs are built at run time from proto/ by @grpc/proto-loader (no code generation step).
//
//   cd client/node && npm ci
//   node stream_hello.js [TARGET [PROMPT]]        (TARGET defaults to localhost:50051)
//
// The loader options are the ones that make the messages look like the HTTP API's JSON:
//   keepCase: true   field names exactly as in the proto, which are the API's (max_tokens,
//                    content_text), not camelCase;
//   longs: Number    int64 fields (max_tokens, usage counts) as JavaScript numbers, not strings
//                    or Long objects (exact up to 2^53, far above any token count);
//   enums: String    enum values by name (role: "ROLE_USER", stop_reason: "STOP_REASON_END_TURN");
//   oneofs: true     each oneof's case as a virtual field naming the member that is set
//                    (event.event === "content_block_delta").
// Exit status: 0 on success; 1 when the call fails, with `stream_hello: CODE: message` on stderr.
"use strict";

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTO_DIR = path.join(__dirname, "..", "..", "proto");

function loadClaude() {
  const definition = protoLoader.loadSync("claude/v1/messages.proto", {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).claude.v1;
}

function main() {
  const target = process.argv[2] || "localhost:50051";
  const prompt = process.argv[3] || "Hello, Claude";
  const claude = loadClaude();
  const client = new claude.Messages(target, grpc.credentials.createInsecure());

  const request = {
    model: "claude-sonnet-4-5",
    max_tokens: 256,
    // `content` is a string or a list of blocks in the API's JSON: here, content_text or
    // content_blocks ({blocks: [...]}).
    messages: [{ role: "ROLE_USER", content_text: prompt }],
  };
  const deadline = new Date(Date.now() + 60 * 1000);
  const call = client.StreamMessage(request, { deadline });
  let usage = {};
  call.on("data", (event) => {
    switch (event.event) {
      case "message_start":
        usage = event.message_start.message.usage || {};
        break;
      case "content_block_delta":
        if (event.content_block_delta.delta.delta === "text_delta") {
          process.stdout.write(event.content_block_delta.delta.text_delta.text);
        }
        break;
      case "message_delta":
        // Cumulative counts: they replace message_start's, never add to them.
        Object.assign(usage, event.message_delta.usage || {});
        break;
      default:
        break;
    }
  });
  call.on("error", (error) => {
    const code = Object.keys(grpc.status).find((name) => grpc.status[name] === error.code);
    process.stderr.write(`\nstream_hello: ${code}: ${error.details}\n`);
    process.exitCode = 1;
  });
  call.on("end", () => {
    if (process.exitCode) return;
    // Numbers, thanks to longs: Number (with the default, "12" + "15" would be "1215").
    const total = usage.input_tokens + usage.output_tokens;
    process.stdout.write(`\n[input_tokens=${usage.input_tokens} output_tokens=${usage.output_tokens} total=${total}]\n`);
    client.close();
  });
}

main();
