#!/usr/bin/env bash
# claude-grpc end to end in one command: installs what is needed, builds, starts the server in
# front of the built-in fake Anthropic upstream (or the real API when ANTHROPIC_API_KEY is set),
# streams a reply to PROMPT with the command-line client, then stops everything it started.
#   ./quickstart.sh [--upstream_api=messages|chat_completions] ["PROMPT"]
# --upstream_api goes to claude-grpc-server: with chat_completions the server speaks OpenAI's
# Chat Completions API to the upstream (the fake speaks both).
set -euo pipefail
cd "$(dirname "$0")"
upstream_api=messages
if [[ "${1:-}" == --upstream_api=* ]]; then
  upstream_api="${1#--upstream_api=}"
  shift
fi
prompt="${1:-Hello! Who are you, in one sentence?}"

bash .ci/install-deps
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target claude-grpc-server fake-anthropic claude-grpc-cli

logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until `file` has a match of `pattern` and prints the port number in it.
wait_for_port() {
  local file=$1 pattern=$2
  for _ in $(seq 1 100); do
    if match=$(grep -m1 -oE "$pattern" "$file" 2>/dev/null); then
      echo "${match##*[^0-9]}"
      return 0
    fi
    sleep 0.1
  done
  echo "quickstart: gave up waiting for: $pattern (see $file)" >&2
  cat "$file" >&2
  return 1
}

if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  upstream="${ANTHROPIC_BASE_URL:-https://api.anthropic.com}"
  model="${CLAUDE_MODEL:-claude-sonnet-4-5}"
  echo "quickstart: using the real API at $upstream"
else
  ./build/tests/fake_upstream/fake-anthropic --listen=127.0.0.1:0 --upstream_api="$upstream_api" \
    >"$logs/fake.log" 2>&1 &
  pids+=($!)
  upstream="http://127.0.0.1:$(wait_for_port "$logs/fake.log" 'listening on http://[0-9.]+:[0-9]+')"
  model="claude-sonnet-4-5"
  echo "quickstart: no ANTHROPIC_API_KEY, using the fake upstream at $upstream"
fi

./build/service/claude-grpc-server --listen=127.0.0.1:0 --upstream="$upstream" \
  --upstream_api="$upstream_api" >"$logs/server.log" 2>&1 &
pids+=($!)
port=$(wait_for_port "$logs/server.log" 'listening on port [0-9]+')
echo "quickstart: claude-grpc-server on 127.0.0.1:$port; streaming a reply:"
echo
./build/client/claude-grpc-cli --target="127.0.0.1:$port" --model="$model" --stream "$prompt"
echo
echo "quickstart: done; the server and the fake upstream are stopped on exit."
