# Sourced by the Python examples' tests (stream_hello_test.sh, batch_results_test.sh): checks
# Debian's interpreter and the generated stubs, then starts fake-anthropic and a real
# claude-grpc-server in front of it on loopback port 0, both stopped when the test exits.
#
# The sourcing script passes its own arguments (FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY
# PYTHON_GEN_DIR) and sets test_name, example (the example's path) and fake_flags (an array of
# extra fake-anthropic flags, may be empty). Afterwards: `python` (Debian's interpreter,
# /usr/bin/python3: another python3 earlier on PATH may lack grpcio and protobuf), `gen_dir`,
# `scale` (CLAUDE_TEST_TIME_SCALE: sanitizer builds start several times slower), `port` (the
# server's gRPC port), `logs` (a temporary directory holding fake.log and server.log, removed on
# exit; the tests put the example's output in out and err there), fail MESSAGE (prints
# "<test_name>: FAIL: MESSAGE" and exits 1), show_output and expect_unavailable_on_closed_port
# (below).

if [ $# -ne 3 ]; then
  echo "usage: $0 FAKE_ANTHROPIC_BINARY CLAUDE_GRPC_SERVER_BINARY PYTHON_GEN_DIR" >&2
  exit 2
fi
fake_anthropic=$1
server=$2
gen_dir=$3
python=/usr/bin/python3
scale=${CLAUDE_TEST_TIME_SCALE:-1}

fail() {
  echo "$test_name: FAIL: $*" >&2
  exit 1
}

# For a failed check: the example's stdout and stderr ($logs/out, $logs/err) and the server's log.
show_output() {
  echo "--- stdout:" >&2; cat "$logs/out" >&2
  echo "--- stderr:" >&2; cat "$logs/err" >&2
  echo "--- claude-grpc-server log:" >&2; cat "$logs/server.log" >&2
}

# Runs the example with ARGS against a closed port (one the kernel just handed out and that
# nothing listens on any more): it must exit non-zero, print nothing on stdout and name
# UNAVAILABLE on stderr.
expect_unavailable_on_closed_port() {
  local closed_port status=0
  closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  PYTHONPATH="$gen_dir" "$python" "$example" --target="127.0.0.1:$closed_port" "$@" \
    >"$logs/out" 2>"$logs/err" || status=$?
  if [ "$status" -eq 0 ] || ! grep -q 'UNAVAILABLE' "$logs/err" || [ -s "$logs/out" ]; then
    show_output
    fail "against closed port $closed_port: expected a non-zero exit, empty stdout and UNAVAILABLE on stderr (got exit $status)"
  fi
  echo "$test_name: closed port OK: $(head -n1 "$logs/err")"
}

"$python" -c 'import grpc, google.protobuf' 2>/dev/null ||
  fail "$python cannot import grpc and google.protobuf; install python3-grpcio and python3-protobuf (bash .ci/install-deps)"
[ -f "$gen_dir/claude/v1/messages_pb2_grpc.py" ] ||
  fail "no generated stubs in $gen_dir; build the claude_python_stubs target"

logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until `file` has a match of `pattern` (while process `pid` lives) and prints the port
# number at the end of the match.
wait_for_port() {
  local file=$1 pattern=$2 pid=$3 match
  for _ in $(seq 1 $((100 * scale))); do
    if match=$(grep -m1 -oE "$pattern" "$file" 2>/dev/null); then
      echo "${match##*[^0-9]}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$test_name: no \"$pattern\" from the process; its output:" >&2
  cat "$file" >&2
  return 1
}

"$fake_anthropic" --listen=127.0.0.1:0 "${fake_flags[@]}" >"$logs/fake.log" 2>&1 &
pids+=($!)
fake_port=$(wait_for_port "$logs/fake.log" 'listening on http://[0-9.]+:[0-9]+' "${pids[-1]}") ||
  fail "fake-anthropic did not start"

"$server" --listen=127.0.0.1:0 --upstream="http://127.0.0.1:$fake_port" >"$logs/server.log" 2>&1 &
pids+=($!)
port=$(wait_for_port "$logs/server.log" 'listening on port [0-9]+' "${pids[-1]}") ||
  fail "claude-grpc-server did not start"
