#!/usr/bin/env bash
# Runs client/python/batch_results.py against a real claude-grpc-server in front of
# fake-anthropic, whose batches stay in_progress for a second. Registered in CTest as
# python_batch_results_test (client/python/CMakeLists.txt):
#   batch_results_test.sh FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY PYTHON_GEN_DIR
# Checks that the example polls (a progress line on stderr), then prints one line per result in
# order: the echo of the first prompt, succeeded; the errored result the fake gives a prompt
# "error"; and that a closed port fails with UNAVAILABLE named on stderr.
set -euo pipefail

example="$(cd "$(dirname "$0")" && pwd)/batch_results.py"
test_name=python_batch_results_test
fake_flags=(--batch_processing_time=1s)
# shellcheck source=client/python/example_servers.sh
source "$(dirname "$0")/example_servers.sh" "$@"

# 1. Create, poll until ended, then the results in order.
status=0
PYTHONPATH="$gen_dir" timeout $((60 * scale)) "$python" "$example" --target="127.0.0.1:$port" \
  --poll_seconds=0.1 "Hello from Python" "error" >"$logs/out" 2>"$logs/err" || status=$?
if [ "$status" -ne 0 ]; then
  show_output
  fail "batch_results.py exited $status"
fi
if [ "$(wc -l <"$logs/out")" -ne 2 ] ||
   [ "$(sed -n 1p "$logs/out")" != "$(printf 'p0\tsucceeded\tEcho: Hello from Python')" ] ||
   ! sed -n 2p "$logs/out" | grep -qP '^p1\terrored\tinvalid_request_error: .+'; then
  show_output
  fail "expected two result lines: p0 succeeded with the echo, p1 errored (invalid_request_error)"
fi
if ! grep -qE '^msgbatch_[A-Za-z0-9_]+: 2 processing$' "$logs/err"; then
  show_output
  fail "expected a progress line \"msgbatch_...: 2 processing\" on stderr while the batch ran"
fi
echo "python_batch_results_test: batch created, polled and its results printed OK"

# 2. A closed port: non-zero exit, one line naming UNAVAILABLE, nothing on stdout.
expect_unavailable_on_closed_port "Hello"
echo "python_batch_results_test: PASS"
