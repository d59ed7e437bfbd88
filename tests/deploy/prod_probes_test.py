#!/usr/bin/env python3
"""The rendered prod Deployment serves TLS on its gRPC port and its probes still work.

Renders `deploy/overlays/prod` with `kubectl kustomize`, creates the Secrets deploy/README.md
says to create out of band (the API key, and a `kubernetes.io/tls` Secret with a certificate
made here by openssl), starts the built claude-grpc-server with exactly the container's
command, arguments and environment (mapped onto this machine as tests/deploy/drain_test.py
describes), and checks that:
  - both probes point at the container port named `health`, not at the gRPC port, and that
    port answers grpc.health.v1.Health/Check in plaintext with SERVING, as the kubelet asks it;
  - the health port serves nothing else (a Messages call there is UNIMPLEMENTED);
  - the gRPC port speaks TLS only: a plaintext health check there fails, and over TLS with the
    certificate's CA the health check is SERVING and a CreateMessage call returns the upstream's
    reply (fake-anthropic, echo mode);
  - after SIGTERM the probe port reports NOT_SERVING (or refuses) and the process exits 0.

Exits 0 on success, 1 on failure, 77 (CTest: skipped) without kubectl.

    prod_probes_test.py --server BIN --fake BIN --python_gen DIR --source_dir DIR
"""

import base64
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drain_test  # noqa: E402  (the manifest's mapping onto this machine, the health check)
from drain_test import SCALE, SKIP, Container, Failure, check, health_check, wait_for_line  # noqa: E402

OVERLAY = "deploy/overlays/prod"


def log(message):
    print(f"prod_probes_test: {message}", flush=True)


def secret(name, data, kind="Opaque"):
    return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def make_certificate(tmp):
    """A self-signed certificate for localhost and 127.0.0.1, and its key (PEM bytes)."""
    cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True, text=True)
    check(made.returncode == 0, f"openssl failed: {made.stderr}")
    return open(cert, "rb").read(), open(key, "rb").read()


def wait_for_health(grpc, target, want, seconds, **tls):
    deadline = time.monotonic() + seconds * SCALE
    while True:
        status = health_check(grpc, target, "", timeout=1 * SCALE, **tls)
        if status in want or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def run(args, tmp):
    objects = drain_test.render(args.source_dir, OVERLAY)
    if objects is None:
        log("SKIPPED: kubectl (with kustomize) is not installed, so the Deployment cannot be rendered")
        return SKIP

    sys.path.insert(0, args.python_gen)
    import grpc
    from claude.v1 import messages_pb2, messages_pb2_grpc

    cert, key = make_certificate(tmp)
    provided = [secret("claude-grpc-api-key", {"api-key": b"sk-ant-prod-probes-test"}),
                secret("claude-grpc-tls", {"tls.crt": cert, "tls.key": key}, "kubernetes.io/tls"),
                # The Redis component's password (prod uses it); Redis itself is not reachable
                # here, and the overlay's --redis_failure default (open) admits calls meanwhile.
                secret("claude-grpc-redis", {"password": b"prod-probes-test"})]

    fake_log = os.path.join(tmp, "fake.log")
    fake = subprocess.Popen([args.fake, "--listen=127.0.0.1:0"], stdout=open(fake_log, "w"),
                            stderr=subprocess.STDOUT)
    processes = [fake]
    with drain_test.stopped_after(processes, tmp):
        upstream = wait_for_line(fake, fake_log, r"listening on (http://[0-9.]+:[0-9]+)", 10).group(1)
        container = Container(objects, args.source_dir, args.server, upstream, tmp, provided)
        log(f"running: {' '.join(container.argv)}")

        # The probes: both on the port named health, which is not the gRPC port.
        ports = {p.get("name"): p["containerPort"] for p in container.container.get("ports", [])}
        check("health" in ports and "grpc" in ports, f"container ports {ports}: no health or grpc port")
        for kind in ("readinessProbe", "livenessProbe"):
            probe = container.container.get(kind, {}).get("grpc")
            check(probe is not None and probe["port"] == ports["health"],
                  f"the {kind} is {probe}, not a gRPC probe of the health port {ports['health']}")
        health_target = f"127.0.0.1:{container.ports[ports['health']]}"
        grpc_target = f"127.0.0.1:{container.ports[ports['grpc']]}"

        server_log = os.path.join(tmp, "server.log")
        server = subprocess.Popen(container.argv, env=container.env, stdout=open(server_log, "w"),
                                  stderr=subprocess.STDOUT, cwd=tmp)
        processes.append(server)

        # As the kubelet probes: plaintext, service "".
        status = wait_for_health(grpc, health_target, ("SERVING",), 20)
        check(status == "SERVING", f"the probe's port {health_target} answers {status}, not SERVING")
        log(f"probe port {ports['health']} -> {health_target}: SERVING in plaintext")

        # The health port serves only health.
        request = messages_pb2.CreateMessageRequest(
            model="claude-sonnet-4-5", max_tokens=64,
            messages=[messages_pb2.MessageParam(role=messages_pb2.ROLE_USER, content_text="Hello over TLS")])
        with grpc.insecure_channel(health_target) as channel:
            try:
                messages_pb2_grpc.MessagesStub(channel).CreateMessage(request, timeout=5 * SCALE)
                code = "OK"
            except grpc.RpcError as error:
                code = error.code().name
        check(code == "UNIMPLEMENTED", f"CreateMessage on the health port ended {code}, not UNIMPLEMENTED")
        log("health port: CreateMessage is UNIMPLEMENTED")

        # The gRPC port: TLS only.
        plain = health_check(grpc, grpc_target, "", timeout=2 * SCALE)
        check(plain != "SERVING", "the gRPC port answered a plaintext health check")
        tls = {"credentials": grpc.ssl_channel_credentials(root_certificates=cert),
               "options": [("grpc.ssl_target_name_override", "localhost")]}
        status = health_check(grpc, grpc_target, "", timeout=5 * SCALE, **tls)
        check(status == "SERVING", f"over TLS the gRPC port's health is {status}")
        with grpc.secure_channel(grpc_target, tls["credentials"], options=tls["options"]) as channel:
            reply = messages_pb2_grpc.MessagesStub(channel).CreateMessage(request, timeout=10 * SCALE)
        text = "".join(block.text.text for block in reply.content)
        check(text == "Echo: Hello over TLS", f"the reply over TLS is {text!r}")
        log(f"gRPC port {ports['grpc']} -> {grpc_target}: plaintext refused ({plain}), TLS SERVING, reply {text!r}")

        # Drain: the probe port turns NOT_SERVING (or closes), the process exits 0.
        server.send_signal(signal.SIGTERM)
        status = wait_for_health(grpc, health_target, ("NOT_SERVING", "UNAVAILABLE"), 3)
        check(status in ("NOT_SERVING", "UNAVAILABLE"), f"the probe port answers {status} after SIGTERM")
        drain_timeout = drain_test.parse_duration(container.flag("drain_timeout"))
        try:
            returncode = server.wait(drain_timeout * SCALE + 5)
        except subprocess.TimeoutExpired:
            raise Failure("claude-grpc-server still runs after its drain timeout")
        check(returncode == 0, f"claude-grpc-server exited {returncode}")
        log(f"after SIGTERM the probe port answers {status}; exited 0")
        return 0


def main():
    return drain_test.test_main("prod_probes_test", __doc__, run)


if __name__ == "__main__":
    sys.exit(main())
