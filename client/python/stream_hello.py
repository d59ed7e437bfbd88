#!/usr/bin/env python3
"""Streams Claude's reply to one prompt through claude-grpc, printing text as it arrives.

    stream_hello.py [--target=HOST:PORT] [--model=MODEL] [--max_tokens=N] [PROMPT ...]

Defaults: --target=localhost:50051, --model=claude-sonnet-4-5, --max_tokens=1024 and the prompt
"Hello, Claude". Prints the reply's text followed by one newline, and nothing else. On failure,
prints one line naming the gRPC status code to stderr and exits 1.

The stubs (claude.v1.messages_pb2 and messages_pb2_grpc) are generated at build time, never
committed; the build puts them in BUILD_DIR/client/python/gen, which must be on PYTHONPATH. The
runtime is Debian's python3-grpcio and python3-protobuf (.ci/install-deps), so run Debian's
interpreter:

    cmake -S . -B build -G Ninja && ninja -C build claude_python_stubs
    PYTHONPATH=build/client/python/gen /usr/bin/python3 client/python/stream_hello.py \\
        --target=localhost:50051 "Hello! Who are you, in one sentence?"
"""

import argparse
import sys

try:
    import grpc

    from claude.v1 import messages_pb2, messages_pb2_grpc
except ImportError as error:
    sys.exit(
        f"stream_hello.py: {error}; put BUILD_DIR/client/python/gen on PYTHONPATH and run an "
        "interpreter with grpcio and protobuf (Debian: /usr/bin/python3 with python3-grpcio "
        "and python3-protobuf)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Streams Claude's reply to PROMPT through claude-grpc."
    )
    parser.add_argument("--target", default="localhost:50051",
                        help="claude-grpc-server address, HOST:PORT (default: %(default)s)")
    parser.add_argument("--model", default="claude-sonnet-4-5",
                        help="model id (default: %(default)s)")
    parser.add_argument("--max_tokens", type=int, default=1024,
                        help="most tokens in the reply (default: %(default)s)")
    parser.add_argument("prompt", nargs="*", help='the prompt (default: "Hello, Claude")')
    args = parser.parse_args()
    prompt = " ".join(args.prompt) or "Hello, Claude"

    # The request mirrors the HTTP API's JSON body: field names are its member names. A user
    # turn's content is either plain text (content_text) or content blocks (content_blocks).
    request = messages_pb2.CreateMessageRequest(
        model=args.model,
        max_tokens=args.max_tokens,
        messages=[messages_pb2.MessageParam(role=messages_pb2.ROLE_USER, content_text=prompt)],
    )

    printed_text = False
    # Plaintext channel, as the server serves by default; use grpc.secure_channel() with
    # grpc.ssl_channel_credentials() behind TLS.
    with grpc.insecure_channel(args.target) as channel:
        stub = messages_pb2_grpc.MessagesStub(channel)
        try:
            # StreamMessage relays the API's stream events in order: message_start,
            # content_block_start / _delta / _stop per block, message_delta, message_stop.
            # Iterating blocks until the next event arrives; the stream ends with the call.
            for event in stub.StreamMessage(request):
                if event.WhichOneof("event") != "content_block_delta":
                    continue
                delta = event.content_block_delta.delta
                if delta.WhichOneof("delta") == "text_delta":
                    sys.stdout.write(delta.text_delta.text)
                    sys.stdout.flush()  # show each piece as soon as it arrives
                    printed_text = True
        except grpc.RpcError as error:
            # Failures of every kind (unreachable server, upstream HTTP errors, an `error` event
            # mid-stream, a stream cut short) end the call with a gRPC status; the server maps
            # them as README.md's error table says and keeps the upstream's message.
            if printed_text:
                sys.stdout.write("\n")
                sys.stdout.flush()
            details = " ".join((error.details() or "").split())
            print(f"stream_hello.py: StreamMessage failed: {error.code().name}: {details}",
                  file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            # Leaving the `with` block closes the channel, which cancels the call; the server
            # then cancels the upstream request at once.
            return 130

    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
