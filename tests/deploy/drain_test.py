#!/usr/bin/env python3
"""The rendered dev Deployment's server drains on SIGTERM (issue 6).

Reads the container of the Deployment that `kubectl kustomize deploy/overlays/dev` renders (the
manifest is the input, never a copy of it), starts the built claude-grpc-server with exactly that
container's command, arguments and environment, probes it as the manifest's readinessProbe does
(grpc.health.v1.Health/Check, same port, same service), starts a slow stream, sends SIGTERM in
the middle of it and checks that:
  - the stream still completes OK with every event of the upstream's reply;
  - the health check reports NOT_SERVING (or the port refuses the connection);
  - /metrics (still served) gives the drain's deadline: SIGTERM + --drain_timeout;
  - a new call is refused with UNAVAILABLE;
  - the process exits 0 within the --drain_timeout the manifest passes;
and that the manifest gives the drain room: terminationGracePeriodSeconds above the preStop
sleep plus the drain timeout, and a liveness probe that cannot fail a pod within the drain.

What the container sees and the test cannot give it verbatim is mapped, each mapping below and
nothing else:
  - the command: the Deployment sets none, so it is the image's ENTRYPOINT, read from
    deploy/Dockerfile; its path /usr/local/bin/claude-grpc-server -> the build's binary;
  - ports: each containerPort (in --flag=HOST:PORT arguments and in the probe) -> a free
    loopback port, and HOST 0.0.0.0 -> 127.0.0.1 (a test listens on loopback only);
  - volumeMounts: each mountPath -> a directory in a temporary directory, filled as the kubelet
    would: a secret volume with its items from the rendered Secret (the dev overlay's
    placeholder key), an emptyDir empty;
  - the upstream: ANTHROPIC_BASE_URL (and --upstream, if given) -> fake-anthropic on loopback,
    replaying tests/fixtures/text_basic.sse in small, delayed chunks;
  - the environment also holds what a container runtime adds (PATH, HOSTNAME), and the
    sanitizer options of a sanitizer build (a suppressions file copied where the container's
    user can read it); nothing else of the test's environment;
  - the securityContext: when the test runs as root, setpriv runs the server as its runAsUser
    and runAsGroup with fsGroup as supplementary group, no new privileges and no capabilities
    (the key file gets the volume's defaultMode and group fsGroup, as the kubelet writes it);
    otherwise the server runs as the test's user. The read-only root filesystem and seccomp
    are not reproduced.

Exits 0 on success, 1 on failure, 77 (CTest: skipped) when kubectl is not installed.

    drain_test.py --server BIN --fake BIN --python_gen DIR --source_dir DIR
"""

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
OVERLAY = "deploy/overlays/dev"
FIXTURE = "tests/fixtures/text_basic.sse"
# The reply drips: 16-byte chunks, 50 ms apart, about 3.3 s for the fixture's 1043 bytes.
CHUNK_SIZE = 16
CHUNK_DELAY_MS = 50
# What a container runtime puts in every container's environment (Docker's default PATH).
RUNTIME_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME": "claude-grpc-drain-test",
}
SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS")

# Sanitizer builds (.ci/run) run several times slower.
SCALE = float(os.environ.get("CLAUDE_TEST_TIME_SCALE", "1"))


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(message):
    print(f"drain_test: {message}", flush=True)


# ---- grpc.health.v1, built from a descriptor at run time (no generated code needed) ----------

def health_messages():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fd = descriptor_pb2.FileDescriptorProto(
        name="drain_test/grpc_health_v1.proto", package="grpc.health.v1", syntax="proto3")
    request = fd.message_type.add(name="HealthCheckRequest")
    request.field.add(name="service", number=1,
                      type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    response = fd.message_type.add(name="HealthCheckResponse")
    status = response.enum_type.add(name="ServingStatus")
    for number, name in enumerate(("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")):
        status.value.add(name=name, number=number)
    response.field.add(name="status", number=1,
                       type=descriptor_pb2.FieldDescriptorProto.TYPE_ENUM,
                       label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                       type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    request_class = factory.GetPrototype(pool.FindMessageTypeByName("grpc.health.v1.HealthCheckRequest"))
    response_class = factory.GetPrototype(pool.FindMessageTypeByName("grpc.health.v1.HealthCheckResponse"))
    return request_class, response_class


def health_check(grpc, target, service, timeout, credentials=None, options=()):
    """Returns "SERVING", "NOT_SERVING", ... or the gRPC code name of a failed call. Plaintext,
    or TLS with `credentials` (grpc.ssl_channel_credentials)."""
    request_class, response_class = health_messages()
    channel = (grpc.insecure_channel(target) if credentials is None
               else grpc.secure_channel(target, credentials, options=list(options)))
    with channel:
        check_rpc = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=request_class.SerializeToString,
                                        response_deserializer=response_class.FromString)
        try:
            response = check_rpc(request_class(service=service), timeout=timeout)
        except grpc.RpcError as error:
            return error.code().name
        return response.DESCRIPTOR.fields_by_name["status"].enum_type.values_by_number[
            response.status].name


# ---- The rendered manifest ---------------------------------------------------------------------

def render(source_dir, overlay=OVERLAY):
    """The overlay's objects as `kubectl kustomize` renders them; None without kubectl."""
    kubectl = shutil.which("kubectl")
    if kubectl is None or subprocess.run([kubectl, "kustomize", "--help"], capture_output=True).returncode != 0:
        return None
    rendered = subprocess.run([kubectl, "kustomize", os.path.join(source_dir, overlay)],
                              capture_output=True, text=True)
    check(rendered.returncode == 0, f"kubectl kustomize {overlay} failed: {rendered.stderr}")
    import yaml
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def image_entrypoint(source_dir):
    """ENTRYPOINT of deploy/Dockerfile's last stage (exec form)."""
    entrypoint = None
    with open(os.path.join(source_dir, "deploy/Dockerfile")) as dockerfile:
        for line in dockerfile:
            if line.startswith("ENTRYPOINT"):
                entrypoint = json.loads(line[len("ENTRYPOINT"):])
    check(entrypoint, "deploy/Dockerfile has no exec-form ENTRYPOINT")
    return entrypoint


def parse_duration(text):
    """absl duration flags as the manifest writes them: 25s, 1500ms, 1m30s."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"([0-9.]+)(ms|h|m|s)", text)
    check(parts and "".join(n + u for n, u in parts) == text, f"cannot parse duration {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expand(value, env):
    """Kubernetes' $(VAR) expansion in command, args and env values; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


class Container:
    """The server container of the rendered Deployment, mapped onto this machine. Secrets the
    overlay does not render (created out of band, as deploy/README.md says) come in
    `provided_secrets`, as Secret objects."""

    def __init__(self, objects, source_dir, server_binary, upstream_url, tmp, provided_secrets=()):
        deployments = [o for o in objects if o.get("kind") == "Deployment"]
        check(len(deployments) == 1, f"the overlay renders {len(deployments)} Deployments, not 1")
        self.deployment = deployments[0]
        pod = self.deployment["spec"]["template"]["spec"]
        check(len(pod["containers"]) == 1, "the Deployment has more than one container")
        self.pod = pod
        container = pod["containers"][0]
        self.container = container
        secrets = {o["metadata"]["name"]: o for o in list(objects) + list(provided_secrets)
                   if o.get("kind") == "Secret"}

        # The user the container runs as: the pod's securityContext, overridden by the container's.
        pod_security = pod.get("securityContext", {})
        self.security = dict(pod_security, **container.get("securityContext", {}))
        self.fs_group = pod_security.get("fsGroup")

        # Ports: every containerPort -> a free loopback port.
        self.ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
        # Mounts: every mountPath -> a directory under tmp, filled from its volume.
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        self.mounts = {}
        for mount in container.get("volumeMounts", []):
            local = os.path.join(tmp, "mounts", mount["name"])
            os.makedirs(local)
            os.chmod(local, 0o755)
            volume = volumes[mount["name"]]
            if "secret" in volume:
                secret = secrets.get(volume["secret"]["secretName"])
                check(secret is not None, f"Secret {volume['secret']['secretName']} is not in the render")
                data = {k: base64.b64decode(v) for k, v in secret.get("data", {}).items()}
                data.update({k: v.encode() for k, v in secret.get("stringData", {}).items()})
                items = volume["secret"].get("items") or [{"key": k, "path": k} for k in data]
                for item in items:
                    # As the kubelet writes it: the item's mode or defaultMode (0644), group fsGroup.
                    file = os.path.join(local, item["path"])
                    with open(file, "wb") as f:
                        f.write(data[item["key"]])
                    os.chmod(file, item.get("mode", volume["secret"].get("defaultMode", 0o644)))
                    if self.fs_group is not None and os.geteuid() == 0:
                        os.chown(file, 0, self.fs_group)
            else:
                check("emptyDir" in volume, f"volume {mount['name']}: only secret and emptyDir are mapped")
                os.chmod(local, 0o1777)
            self.mounts[mount["mountPath"].rstrip("/")] = local

        # The environment: the runtime's, then the container's, in order ($(VAR) expanded).
        self.env = dict(RUNTIME_ENV)
        for var in container.get("env", []):
            check("value" in var, f"env {var['name']}: only literal values are mapped")
            self.env[var["name"]] = expand(self.map_value(var["value"]), self.env)
        check("envFrom" not in container, "envFrom is not mapped")
        if "ANTHROPIC_BASE_URL" in self.env:
            self.env["ANTHROPIC_BASE_URL"] = upstream_url
        for name in SANITIZER_ENV:
            if name in os.environ:
                self.env[name] = self.readable_suppressions(os.environ[name], tmp)

        # The command: the image's ENTRYPOINT unless the container overrides it.
        command = container.get("command") or image_entrypoint(source_dir)
        check(command[0] == image_entrypoint(source_dir)[0],
              f"the container runs {command[0]}, not the image's server binary")
        self.prefix = self.security_prefix()
        self.argv = self.prefix + [server_binary]
        self.argv += [self.map_value(expand(c, self.env)) for c in command[1:]]
        for arg in container.get("args", []):
            arg = self.map_value(expand(arg, self.env))
            if arg.startswith("--upstream="):
                arg = "--upstream=" + upstream_url
            self.argv.append(arg)

    @staticmethod
    def readable_suppressions(options, tmp):
        """A sanitizer's options with its suppressions file copied under tmp, where the
        securityContext's user can read it (the checkout may be private to the test's user)."""
        def copy(match):
            local = os.path.join(tmp, "sanitizer", os.path.basename(match.group(2)))
            os.makedirs(os.path.dirname(local), mode=0o755, exist_ok=True)
            shutil.copyfile(match.group(2), local)
            os.chmod(local, 0o644)
            return match.group(1) + local
        return re.sub(r"(suppressions=)([^ :]+)", copy, options)

    def security_prefix(self):
        """setpriv arguments that apply the securityContext: its user, group and fsGroup, no new
        privileges, dropped capabilities. Only a root test can switch users; otherwise the server
        runs as the test's user, and the log says so."""
        check(not self.security.get("runAsNonRoot") or self.security.get("runAsUser", 0) != 0,
              "runAsNonRoot with runAsUser 0")
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None or "runAsUser" not in self.security:
            log("securityContext NOT applied (needs root and setpriv): the server runs as the test's user")
            return []
        prefix = [setpriv, f"--reuid={self.security['runAsUser']}",
                  f"--regid={self.security.get('runAsGroup', self.security['runAsUser'])}"]
        prefix.append(f"--groups={self.fs_group}" if self.fs_group is not None else "--clear-groups")
        if self.security.get("allowPrivilegeEscalation") is False:
            prefix.append("--no-new-privs")
        if "ALL" in self.security.get("capabilities", {}).get("drop", []):
            prefix += ["--inh-caps=-all", "--bounding-set=-all"]
        return prefix + ["--"]

    def map_value(self, value):
        # --flag=HOST:PORT with a containerPort -> 127.0.0.1:free port.
        m = re.fullmatch(r"(--[a-z_]+=)(0\.0\.0\.0|\[::\]|localhost|127\.0\.0\.1)?:([0-9]+)", value)
        if m and int(m.group(3)) in self.ports:
            return f"{m.group(1)}127.0.0.1:{self.ports[int(m.group(3))]}"
        # A mounted path, alone or as --flag=PATH -> the same path under the mount's directory.
        head, rest = ("", value)
        if value.startswith("--") and "=" in value:
            head, rest = value.split("=", 1)
            head += "="
        for mount_path, local in self.mounts.items():
            if rest == mount_path or rest.startswith(mount_path + "/"):
                return head + local + rest[len(mount_path):]
        return value

    def flag(self, name):
        values = [a.split("=", 1)[1] for a in self.container.get("args", []) if a.startswith(f"--{name}=")]
        return values[-1] if values else None


# ---- The test ------------------------------------------------------------------------------------

def fixture_events(source_dir):
    with open(os.path.join(source_dir, FIXTURE)) as f:
        return [line.split(":", 1)[1].strip() for line in f if line.startswith("event:")]


def drain_deadline_metric(port):
    """claude_grpc_drain_deadline_timestamp_seconds from the server's /metrics."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5 * SCALE) as response:
        text = response.read().decode()
    m = re.search(r"^claude_grpc_drain_deadline_timestamp_seconds (\S+)$", text, re.M)
    check(m is not None, "/metrics has no claude_grpc_drain_deadline_timestamp_seconds")
    return float(m.group(1))


def wait_for_line(process, log_path, pattern, seconds):
    deadline = time.monotonic() + seconds * SCALE
    while time.monotonic() < deadline:
        with open(log_path) as f:
            m = re.search(pattern, f.read())
        if m:
            return m
        check(process.poll() is None, f"process exited {process.returncode}")
        time.sleep(0.05)
    raise Failure(f"no {pattern!r} in {seconds * SCALE} s")


def run(args, tmp):
    objects = render(args.source_dir)
    if objects is None:
        print("drain_test: SKIPPED: kubectl (with kustomize) is not installed, so the Deployment "
              "cannot be rendered; install kubectl 1.21+ (kustomize v4+) to run this test", flush=True)
        return SKIP

    sys.path.insert(0, args.python_gen)
    import grpc
    from claude.v1 import messages_pb2, messages_pb2_grpc

    # fake-anthropic: the upstream, dripping the fixture's reply.
    fake_log = os.path.join(tmp, "fake.log")
    fake = subprocess.Popen(
        [args.fake, "--listen=127.0.0.1:0", "--replay=" + os.path.join(args.source_dir, FIXTURE),
         f"--chunk_size={CHUNK_SIZE}", f"--chunk_delay_ms={CHUNK_DELAY_MS}"],
        stdout=open(fake_log, "w"), stderr=subprocess.STDOUT)
    processes = [fake]
    with stopped_after(processes, tmp):
        upstream = wait_for_line(fake, fake_log, r"listening on (http://[0-9.]+:[0-9]+)", 10).group(1)
        container = Container(objects, args.source_dir, args.server, upstream, tmp)
        log(f"rendered {OVERLAY}: args {container.container.get('args')}, "
            f"env {[e['name'] for e in container.container.get('env', [])]}")
        log(f"running: {' '.join(container.argv)}")
        log(f"environment: {container.env}")

        # The manifest leaves room for the drain.
        drain_flag = container.flag("drain_timeout")
        check(drain_flag is not None, "the container passes no --drain_timeout")
        drain_timeout = parse_duration(drain_flag)
        pre_stop = container.container.get("lifecycle", {}).get("preStop", {})
        pre_stop_seconds = 0
        if "sleep" in pre_stop:  # the native sleep action (Kubernetes 1.30+)
            pre_stop_seconds = float(pre_stop["sleep"]["seconds"])
        elif pre_stop.get("exec", {}).get("command", [""])[0] == "sleep":  # components/prestop-exec
            pre_stop_seconds = float(pre_stop["exec"]["command"][1])
        check(pre_stop_seconds > 0, f"the container has no preStop sleep: {pre_stop}")
        grace = container.pod.get("terminationGracePeriodSeconds", 30)
        check(grace > pre_stop_seconds + drain_timeout,
              f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop_seconds} s + drain {drain_timeout} s")
        log(f"terminationGracePeriodSeconds {grace} > preStop {pre_stop_seconds} s + --drain_timeout {drain_timeout} s")

        # The probe the manifest declares: gRPC health on a containerPort, service "".
        probe = container.container.get("readinessProbe", {}).get("grpc")
        check(probe is not None, "the container has no gRPC readinessProbe")
        check(probe["port"] in container.ports, f"the probe's port {probe['port']} is no containerPort")
        target = f"127.0.0.1:{container.ports[probe['port']]}"
        service = probe.get("service", "")
        liveness_probe = container.container.get("livenessProbe", {})
        liveness = liveness_probe.get("grpc")
        check(liveness is not None and liveness["port"] == probe["port"], "no gRPC livenessProbe on the same port")
        # A draining pod fails liveness from SIGTERM on; it must not be restarted mid-drain.
        liveness_seconds = (liveness_probe.get("failureThreshold", 3) - 1) * liveness_probe.get("periodSeconds", 10)
        check(liveness_seconds > drain_timeout,
              f"liveness can restart a draining pod after {liveness_seconds} s, before --drain_timeout {drain_timeout} s")

        # The container's user can read the mounted key file (fake-anthropic does not check
        # keys, so the server's calls alone would not show an unreadable one).
        key_flag = container.flag("api_key_file")
        check(key_flag is not None, "the container passes no --api_key_file")
        key_file = container.map_value(key_flag)
        check(key_file != key_flag, f"--api_key_file={key_flag} is not in a mounted volume")
        readable = subprocess.run(container.prefix + ["test", "-r", key_file], env=container.env)
        check(readable.returncode == 0, f"{key_file} is not readable by the container's user")
        log(f"--api_key_file {key_flag} -> {key_file}, readable by the container's user")

        server_log = os.path.join(tmp, "server.log")
        server = subprocess.Popen(container.argv, env=container.env, cwd=tmp,
                                  stdout=open(server_log, "w"), stderr=subprocess.STDOUT)
        processes.append(server)

        # Readiness, as the kubelet probes it.
        deadline = time.monotonic() + 15 * SCALE
        status = None
        while time.monotonic() < deadline:
            check(server.poll() is None, f"claude-grpc-server exited {server.returncode}")
            status = health_check(grpc, target, service, timeout=1 * SCALE)
            if status == "SERVING":
                break
            time.sleep(0.1)
        check(status == "SERVING", f"health of {service!r} on {target} is {status}, not SERVING")
        log(f"health check (port {probe['port']} -> {target}, service {service!r}): SERVING")

        # A stream that is still running when SIGTERM comes.
        expected = fixture_events(args.source_dir)
        events, outcome, first_event = [], {}, threading.Event()

        def stream():
            with grpc.insecure_channel(target) as channel:
                stub = messages_pb2_grpc.MessagesStub(channel)
                request = messages_pb2.CreateMessageRequest(
                    model="claude-sonnet-4-5", max_tokens=64,
                    messages=[messages_pb2.MessageParam(role=messages_pb2.ROLE_USER,
                                                        content_text="Hello")])
                try:
                    for event in stub.StreamMessage(request, timeout=60 * SCALE):
                        events.append(event.WhichOneof("event"))
                        first_event.set()
                    outcome["code"] = "OK"
                except grpc.RpcError as error:
                    outcome["code"] = error.code().name
                    outcome["details"] = error.details()
                outcome["at"] = time.monotonic()
                first_event.set()

        streamer = threading.Thread(target=stream)
        streamer.start()
        check(first_event.wait(20 * SCALE), "no stream event within 20 s")
        check("code" not in outcome, f"the stream ended before SIGTERM: {outcome}")
        metrics_port = next((container.ports[p["containerPort"]] for p in container.container.get("ports", [])
                             if p.get("name") == "metrics"), None)
        check(metrics_port is not None, "the container has no port named metrics")
        check(drain_deadline_metric(metrics_port) == 0, "the drain deadline metric is set before SIGTERM")
        sigterm_wall = time.time()
        server.send_signal(signal.SIGTERM)
        sigterm_at = time.monotonic()
        log(f"SIGTERM after {len(events)} of {len(expected)} events")

        # Health: NOT_SERVING, or the port refuses (the listener is closed).
        deadline = time.monotonic() + 3 * SCALE
        while True:
            status = health_check(grpc, target, service, timeout=1 * SCALE)
            if status in ("NOT_SERVING", "UNAVAILABLE") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(status in ("NOT_SERVING", "UNAVAILABLE"), f"health after SIGTERM is {status}")
        log(f"health after SIGTERM: {status} (stream {'still running' if 'code' not in outcome else 'done'})")

        # /metrics, still served while draining, says when the drain timeout will cut the calls
        # still running (the ClaudeGrpcDrainTimeout alert reads it).
        deadline_metric = drain_deadline_metric(metrics_port)
        check(abs(deadline_metric - (sigterm_wall + drain_timeout)) < 2 * SCALE,
              f"claude_grpc_drain_deadline_timestamp_seconds is {deadline_metric}, "
              f"expected about {sigterm_wall + drain_timeout:.0f} (SIGTERM + --drain_timeout)")
        log(f"drain deadline on /metrics: SIGTERM + {deadline_metric - sigterm_wall:.2f} s")

        # A new call is refused.
        deadline = time.monotonic() + 3 * SCALE
        while True:
            with grpc.insecure_channel(target) as channel:
                stub = messages_pb2_grpc.MessagesStub(channel)
                try:
                    stub.CountTokens(messages_pb2.CountTokensRequest(
                        model="claude-sonnet-4-5",
                        messages=[messages_pb2.MessageParam(role=messages_pb2.ROLE_USER,
                                                            content_text="Hi")]),
                        timeout=2 * SCALE)
                    code = "OK"
                except grpc.RpcError as error:
                    code = error.code().name
            if code == "UNAVAILABLE" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(code == "UNAVAILABLE", f"a new call after SIGTERM ended {code}, not UNAVAILABLE")
        log("new call after SIGTERM: UNAVAILABLE")

        # The in-flight stream completes, whole.
        streamer.join(drain_timeout * SCALE + 10)
        check(not streamer.is_alive(), "the stream did not end")
        check(outcome.get("code") == "OK", f"the stream ended {outcome}, not OK")
        check(events == expected, f"the stream relayed {events}, expected {expected}")
        log(f"stream completed OK with all {len(events)} events, "
            f"{outcome['at'] - sigterm_at:.2f} s after SIGTERM")

        # The process exits 0 within the drain timeout.
        try:
            returncode = server.wait(drain_timeout * SCALE + 5)
        except subprocess.TimeoutExpired:
            raise Failure(f"claude-grpc-server still runs {drain_timeout * SCALE + 5} s after SIGTERM")
        exited_after = time.monotonic() - sigterm_at
        check(returncode == 0, f"claude-grpc-server exited {returncode}")
        # Not scaled for sanitizers: the server itself must end its drain within the timeout.
        check(exited_after <= drain_timeout,
              f"claude-grpc-server exited {exited_after:.2f} s after SIGTERM, past --drain_timeout {drain_timeout} s")
        log(f"claude-grpc-server exited 0, {exited_after:.2f} s after SIGTERM")
        return 0


# ---- What every deploy test's run and main share ---------------------------------------------

@contextlib.contextmanager
def stopped_after(processes, tmp):
    """Kills what is left of `processes` (a list the body may append to) however the body ends;
    on a Failure, prints the server's and the fake's logs from `tmp` first."""
    try:
        yield
    except Failure:
        for name in ("server.log", "fake.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                print(f"--- {name}:\n{open(path).read()}", flush=True)
        raise
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_main(name, description, run):
    """Parses the deploy tests' arguments, runs `run(args, tmp)` in a fresh temporary directory
    and reports PASS or FAIL as `name`; returns the exit code (77 when `run` skipped)."""
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("--server", required=True, help="the built claude-grpc-server")
    parser.add_argument("--fake", required=True, help="the built fake-anthropic")
    parser.add_argument("--python_gen", required=True, help="BUILD_DIR/client/python/gen")
    parser.add_argument("--source_dir", required=True, help="the repository's root")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"{name}.") as tmp:
        os.chmod(tmp, 0o755)  # the server may run as another user (the securityContext's)
        try:
            result = run(args, tmp)
        except Failure as failure:
            print(f"{name}: FAIL: {failure}", flush=True)
            return 1
    if result == 0:
        print(f"{name}: PASS", flush=True)
    return result


def main():
    return test_main("drain_test", __doc__, run)


if __name__ == "__main__":
    sys.exit(main())
