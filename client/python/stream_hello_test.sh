#!/usr/bin/env bash
# Runs client/python/stream_hello.py against a real claude-grpc-server in front of fake-anthropic
# (echo mode), both started here on loopback port 0 and stopped on exit. Registered in CTest as
# python_stream_hello_test (client/python/CMakeLists.txt):
#   stream_hello_test.sh FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY PYTHON_GEN_DIR
# Checks that the reply is exactly "Echo: Hello from Python" plus a newline, and that a closed
# port fails with UNAVAILABLE named on stderr. Uses Debian's interpreter (python3-grpcio,
# python3-protobuf) explicitly: another python3 earlier on PATH may lack them.
set -euo pipefail

example="$(cd "$(dirname "$0")" && pwd)/stream_hello.py"
test_name=python_stream_hello_test
fake_flags=()
# shellcheck source=client/python/example_servers.sh
source "$(dirname "$0")/example_servers.sh" "$@"

# 1. The reply streams through: exactly the echoed prompt and one newline.
status=0
PYTHONPATH="$gen_dir" "$python" "$example" --target="127.0.0.1:$port" "Hello from Python" \
  >"$logs/out" 2>"$logs/err" || status=$?
if [ "$status" -ne 0 ] || ! printf 'Echo: Hello from Python\n' | cmp -s - "$logs/out"; then
  show_output
  fail "stream_hello.py exited $status; expected exit 0 and stdout exactly \"Echo: Hello from Python\\n\""
fi
echo "python_stream_hello_test: streamed reply OK"

# 2. A closed port: non-zero exit, one line naming UNAVAILABLE, nothing on stdout.
expect_unavailable_on_closed_port "Hello from Python"
echo "python_stream_hello_test: PASS"
