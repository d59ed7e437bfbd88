#!/usr/bin/env python3
"""Creates a message batch through claude-grpc, waits for it to end, and prints its results.

    batch_results.py [--target=HOST:PORT] [--model=MODEL] [--poll_seconds=N] PROMPT [PROMPT ...]

One request per PROMPT, with custom ids p0, p1, ... Prints one line per result,
"<custom_id>\t<type>\t<text or error message>", in the order the results come. A broken results
stream is resumed where it stopped (after_custom_id). On failure, prints one line naming the gRPC
status code to stderr and exits 1.

The stubs are generated at build time (BUILD_DIR/client/python/gen on PYTHONPATH); run Debian's
interpreter, as for stream_hello.py:

    PYTHONPATH=build/client/python/gen /usr/bin/python3 client/python/batch_results.py \\
        --target=localhost:50051 "Hello" "What is 2+2?"
"""

import argparse
import sys
import time

try:
    import grpc

    from claude.v1 import message_batches_pb2, message_batches_pb2_grpc, messages_pb2
except ImportError as error:
    sys.exit(
        f"batch_results.py: {error}; put BUILD_DIR/client/python/gen on PYTHONPATH and run an "
        "interpreter with grpcio and protobuf (Debian: /usr/bin/python3 with python3-grpcio "
        "and python3-protobuf)"
    )


def describe(result) -> str:
    kind = result.result.WhichOneof("result") or "unknown"
    if kind == "succeeded":
        text = "".join(block.text.text for block in result.result.succeeded.message.content
                       if block.WhichOneof("block") == "text")
        return f"{result.custom_id}\t{kind}\t{text}"
    if kind == "errored":
        error = result.result.errored.error.error
        return f"{result.custom_id}\t{kind}\t{error.type}: {error.message}"
    return f"{result.custom_id}\t{kind}\t"


def main() -> int:
    parser = argparse.ArgumentParser(description="Runs PROMPTs as one message batch through claude-grpc.")
    parser.add_argument("--target", default="localhost:50051",
                        help="claude-grpc-server address, HOST:PORT (default: %(default)s)")
    parser.add_argument("--model", default="claude-sonnet-4-5", help="model id (default: %(default)s)")
    parser.add_argument("--max_tokens", type=int, default=1024,
                        help="most tokens in each reply (default: %(default)s)")
    parser.add_argument("--poll_seconds", type=float, default=5.0,
                        help="time between two polls of the batch (default: %(default)s)")
    parser.add_argument("prompt", nargs="+", help="one request per prompt")
    args = parser.parse_args()

    # Each request is {custom_id, params}; params is exactly a CreateMessage request.
    requests = [
        message_batches_pb2.MessageBatchRequest(
            custom_id=f"p{i}",
            params=messages_pb2.CreateMessageRequest(
                model=args.model, max_tokens=args.max_tokens,
                messages=[messages_pb2.MessageParam(role=messages_pb2.ROLE_USER, content_text=prompt)]),
        )
        for i, prompt in enumerate(args.prompt)
    ]
    try:
        with grpc.insecure_channel(args.target) as channel:
            batches = message_batches_pb2_grpc.MessageBatchesStub(channel)
            batch = batches.CreateMessageBatch(
                message_batches_pb2.CreateMessageBatchRequest(requests=requests), timeout=60)
            while batch.processing_status != message_batches_pb2.PROCESSING_STATUS_ENDED:
                counts = batch.request_counts
                print(f"{batch.id}: {counts.processing} processing", file=sys.stderr)
                time.sleep(args.poll_seconds)
                batch = batches.GetMessageBatch(
                    message_batches_pb2.GetMessageBatchRequest(message_batch_id=batch.id), timeout=60)
            last = None
            for attempt in range(3):
                request = message_batches_pb2.StreamMessageBatchResultsRequest(message_batch_id=batch.id)
                if last is not None:
                    request.after_custom_id = last  # resume after the last result seen
                try:
                    for result in batches.StreamMessageBatchResults(request):
                        print(describe(result), flush=True)
                        last = result.custom_id
                    break
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == 2:
                        raise
    except grpc.RpcError as error:
        print(f"batch_results.py: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
