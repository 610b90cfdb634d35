#!/usr/bin/env python3
"""Fault-injecting reverse proxy in front of stackc_moto.py, for stackc's integration tests.

Listens on 127.0.0.1 and forwards every request (method, path, query, headers including
Host, body) to --upstream. Each AWS call is classified by service and operation, and a
configurable fraction is answered with a protocol-correct throttling or "service
unavailable" error instead of being forwarded. Prints ``READY <port>`` on stdout, then
runs until SIGTERM/SIGINT or until its stdin reaches EOF.

Control API on the same port:
  GET  /__proxy/stats   {"total", "reads", "mutating", "faults", "calls": [...]}
  POST /__proxy/reset   clears the counters and re-seeds the fault RNG
  GET  /__proxy/config  current fault settings
  POST /__proxy/config  JSON object with any of throttle_rate, unavailable_rate,
                        reset_rate, latency_ms, seed, echo_operations; answers with the
                        resulting settings
"""

import argparse
import http.client
import html
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CONTROL_PREFIX = "/__proxy/"
READ_PREFIXES = ("Describe", "List", "Get", "Head")
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Hop-by-hop headers (RFC 7230 section 6.1), plus Expect, which this proxy answers itself.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}


class FaultConfig:
    FIELDS = {
        "throttle_rate": float,
        "unavailable_rate": float,
        "reset_rate": float,
        "latency_ms": float,
        "seed": int,
        "echo_operations": list,
    }

    def __init__(
        self,
        throttle_rate: float,
        unavailable_rate: float,
        latency_ms: float,
        seed: int,
        echo_operations: list[str] | None = None,
        reset_rate: float = 0.0,
    ):
        self.throttle_rate = throttle_rate
        self.unavailable_rate = unavailable_rate
        self.reset_rate = reset_rate
        self.latency_ms = latency_ms
        self.seed = seed
        self.echo_operations = list(echo_operations or [])

    def updated(self, changes: dict[str, Any]) -> "FaultConfig":
        unknown = set(changes) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        values = {name: self.FIELDS[name](changes.get(name, getattr(self, name))) for name in self.FIELDS}
        new = FaultConfig(**values)
        rates = (new.throttle_rate, new.unavailable_rate, new.reset_rate)
        if not all(0 <= r <= 1 for r in rates):
            raise ValueError("rates must be between 0 and 1")
        if sum(rates) > 1:
            raise ValueError("throttle_rate + unavailable_rate + reset_rate must not exceed 1")
        if new.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if not all(isinstance(op, str) for op in new.echo_operations):
            raise ValueError("echo_operations must be a list of operation names")
        return new

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}


class ProxyState:
    """Fault settings, RNG and call log, shared by all handler threads."""

    def __init__(self, upstream: str, config: FaultConfig):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"--upstream must look like http://127.0.0.1:PORT, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.lock = threading.Lock()
        self.config = config
        self.rng = random.Random(config.seed)
        self.epoch = time.monotonic()
        self.calls: list[dict[str, Any]] = []
        # Services that have had an answer from upstream: only their connections are reset.
        self.answered: set[str] = set()

    def now_ms(self) -> float:
        return round((time.monotonic() - self.epoch) * 1000, 3)

    def echoes(self, operation: str) -> bool:
        with self.lock:
            return operation in self.config.echo_operations

    def draw_fault(self, service: str) -> tuple[str | None, float]:
        """One RNG draw per call, in arrival order, so a seed fixes the fault sequence."""
        with self.lock:
            roll = self.rng.random()
            config = self.config
            answered = service in self.answered
        if roll < config.throttle_rate:
            return "throttle", config.latency_ms
        if roll < config.throttle_rate + config.unavailable_rate:
            return "unavailable", config.latency_ms
        # A connection that breaks mid-run. Before a service has answered, a broken connection
        # is what a wrong endpoint looks like, which stackc reports at once instead of retrying.
        if roll < config.throttle_rate + config.unavailable_rate + config.reset_rate and answered:
            return "reset", config.latency_ms
        return None, config.latency_ms

    def mark_answered(self, service: str) -> None:
        with self.lock:
            self.answered.add(service)

    def record(self, call: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(call)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            calls = sorted((dict(call) for call in self.calls), key=lambda call: call["start_ms"])
        faults = sum(1 for call in calls if call["fault"])
        mutating = sum(1 for call in calls if call["mutating"] and not call["fault"])
        return {
            "total": len(calls),
            "reads": len(calls) - faults - mutating,
            "mutating": mutating,
            "faults": faults,
            "calls": calls,
        }

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.rng.seed(self.config.seed)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.config = self.config.updated(changes)
            if "seed" in changes:
                self.rng.seed(self.config.seed)
            return self.config.as_dict()


def classify(method: str, path: str, query: str, headers: Any, body: bytes) -> tuple[str, str, bool, str]:
    """(service, operation, mutating, protocol) of one AWS call; protocol is ec2, s3, json or query."""
    scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", "")) or CREDENTIAL_SCOPE.search(
        "Credential=" + unquote(parse_qs(query).get("X-Amz-Credential", [""])[0])
    )
    service = scope.group(2) if scope else "unknown"
    if service == "s3":
        subresources = [name for name, value in parse_qs(query, keep_blank_values=True).items() if value == [""]]
        operation = f"{method} {unquote(path).lstrip('/')}" + (f"?{'&'.join(subresources)}" if subresources else "")
        return service, operation, method not in ("GET", "HEAD"), "s3"
    target = headers.get("X-Amz-Target")
    form = parse_qs(query)
    if "Action" not in form and "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form = parse_qs(body.decode("utf-8", "replace"))
    if target:
        operation, protocol = target.rsplit(".", 1)[-1], "json"
    elif "Action" in form:
        operation, protocol = form["Action"][0], "ec2" if service == "ec2" else "query"
    else:
        # REST services: the method says whether it reads. Route 53 (REST-XML) answers errors
        # in the query services' <ErrorResponse> shape; the REST-JSON ones like awsJson.
        protocol = "query" if service == "route53" else "json"
        return service, f"{method} {path}", method not in ("GET", "HEAD"), protocol
    return service, operation, not operation.startswith(READ_PREFIXES), protocol


def echo_response(body: bytes) -> tuple[int, dict[str, str], bytes]:
    """A validation error that quotes every value of the request (query protocol), as AWS's
    validation messages quote the value they refuse ("1 validation error detected: Value 'x' at
    'name' failed to satisfy constraint: ..."): it proves that whatever AWS echoes, stackc
    never shows a secret it sent."""
    request_id = str(uuid.uuid4())
    values = [
        f"Value '{v}' at '{k}' failed to satisfy constraint: the proxy's echo fault"
        for k, vs in parse_qs(body.decode(errors="replace")).items()
        for v in vs
        if k not in ("Action", "Version")
    ]
    message = html.escape(f"{len(values)} validation errors detected: " + "; ".join(values))
    payload = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>{message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    headers = {"x-amzn-RequestId": request_id, "Content-Type": "text/xml", "Content-Length": str(len(payload))}
    return 400, headers, payload


def fault_response(protocol: str, kind: str, has_body: bool) -> tuple[int, dict[str, str], bytes]:
    """The error AWS itself sends for throttling / unavailability, in the call's protocol."""
    request_id = str(uuid.uuid4())
    throttle = kind == "throttle"
    headers = {"x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    if protocol == "ec2":
        code, message = (
            ("RequestLimitExceeded", "Request limit exceeded.")
            if throttle
            else ("ServiceUnavailable", "Service is unavailable. Please try again later.")
        )
        status, content_type = 503, "text/xml;charset=UTF-8"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif protocol == "s3":
        code, message = (
            ("SlowDown", "Please reduce your request rate.")
            if throttle
            else ("ServiceUnavailable", "Service is unable to handle request.")
        )
        status, content_type = 503, "application/xml"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{request_id}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
        )
    elif protocol == "query":
        code, message, status, fault_type = (
            ("Throttling", "Rate exceeded", 400, "Sender")
            if throttle
            else ("ServiceUnavailable", "Service is unavailable. Please try again later.", 503, "Receiver")
        )
        content_type = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{fault_type}</Type><Code>{code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:
        code, message, status = (
            ("ThrottlingException", "Rate exceeded", 400)
            if throttle
            else ("ServiceUnavailableException", "Service is unavailable. Please try again later.", 503)
        )
        content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message})
        headers["x-amzn-ErrorType"] = code
    headers.update({"Content-Type": content_type, "Content-Length": str(len(body.encode()))})
    return status, headers, body.encode() if has_body else b""


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    # Send each response at once: with Nagle on, a reply written in pieces waits for the
    # client's delayed ACK (40 ms) and every call looks that much slower than it is.
    disable_nagle_algorithm = True
    server: "ProxyServer"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per call would fill a stderr pipe nobody reads

    def do_request(self) -> None:
        body = self.read_body()
        parts = urlsplit(self.path)
        if parts.path.startswith(CONTROL_PREFIX):
            self.control(parts.path[len(CONTROL_PREFIX) :], body)
            return
        state = self.server.state
        service, operation, mutating, protocol = classify(self.command, parts.path, parts.query, self.headers, body)
        call = {
            "service": service,
            "operation": operation,
            "mutating": mutating,
            "fault": None,
            "start_ms": state.now_ms(),
        }
        fault, latency_ms = state.draw_fault(service)
        if fault == "reset":
            # Read the request, then hang up without an answer (the SDK sees the connection
            # closed before the response: hyper's IncompleteMessage).
            call.update(fault=fault, status=None, end_ms=state.now_ms())
            state.record(call)
            self.close_connection = True
            return
        if protocol == "query" and state.echoes(operation):
            fault = "echo"
            status, headers, payload = echo_response(body)
        elif fault:
            status, headers, payload = fault_response(protocol, fault, self.command != "HEAD")
        else:
            time.sleep(latency_ms / 1000)
            status, headers, payload = self.forward(body)
            state.mark_answered(service)
        call.update(fault=fault, status=status, end_ms=state.now_ms())
        state.record(call)
        self.reply(status, headers, payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_request

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        state = self.server.state
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            headers.append(("Content-Length", str(len(body))))
        connection = http.client.HTTPConnection(state.upstream_host, state.upstream_port, timeout=60)
        try:
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
            response_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            if self.command != "HEAD" and not any(k.lower() == "content-length" for k, _ in response_headers):
                response_headers.append(("Content-Length", str(len(payload))))
            return response.status, response_headers, payload
        except OSError as error:
            message = f"faultproxy: upstream unreachable: {error}".encode()
            return 502, [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))], message
        finally:
            connection.close()

    def reply(self, status: int, headers: Any, payload: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers.items() if isinstance(headers, dict) else headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def control(self, endpoint: str, body: bytes) -> None:
        state = self.server.state
        status, result = 200, None
        if endpoint == "stats" and self.command == "GET":
            result = state.stats()
        elif endpoint == "reset" and self.command == "POST":
            state.reset()
            result = {"ok": True}
        elif endpoint == "config" and self.command == "GET":
            result = state.config.as_dict()
        elif endpoint == "config" and self.command == "POST":
            try:
                result = state.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError) as error:
                status, result = 400, {"error": str(error)}
        else:
            status, result = 404, {"error": f"no control endpoint {self.command} {CONTROL_PREFIX}{endpoint}"}
        payload = json.dumps(result).encode()
        self.reply(status, {"Content-Type": "application/json", "Content-Length": str(len(payload))}, payload)


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a client opening a dozen connections at once
    # (stackc's refresh) would see some wait for a retransmission, which AWS never imposes.
    request_queue_size = 128

    def __init__(self, port: int, state: ProxyState):
        super().__init__(("127.0.0.1", port), ProxyHandler)
        self.state = state


def watch_stdin(stop: threading.Event) -> None:
    # os.read on the raw fd: a buffered sys.stdin read would hold a lock that aborts
    # interpreter shutdown while this daemon thread is still blocked in it.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass  # no stdin at all counts as closed
    stop.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--unavailable-rate", type=float, default=0.0)
    parser.add_argument("--reset-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-stdin-watch",
        action="store_true",
        help="keep running when stdin closes (for running by hand in the background)",
    )
    args = parser.parse_args()
    try:
        config = FaultConfig(0, 0, 0, 0).updated(
            {
                "throttle_rate": args.throttle_rate,
                "unavailable_rate": args.unavailable_rate,
                "reset_rate": args.reset_rate,
                "latency_ms": args.latency_ms,
                "seed": args.seed,
            }
        )
        state = ProxyState(args.upstream, config)
    except ValueError as error:
        parser.error(str(error))

    server = ProxyServer(args.port, state)
    threading.Thread(target=server.serve_forever, name="faultproxy", daemon=True).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if not args.no_stdin_watch:
        threading.Thread(target=watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()

    print(f"READY {server.server_port}", flush=True)
    sys.stdout = sys.stderr
    while not stop.wait(0.5):  # a timed wait keeps signal handlers responsive
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
