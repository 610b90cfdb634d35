#!/usr/bin/env python3
"""Local AWS emulator for stackc's integration tests: moto 5.2.5 plus moto_patches.

Listens on 127.0.0.1 only. Prints exactly one line, ``READY <port>``, on stdout once it
accepts connections, then runs until SIGTERM/SIGINT or until its stdin reaches EOF (so a
test that dies cannot leave it behind). Every service and region is served on the one
port; moto picks the service from the SigV4 credential scope of each request.
"""

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import moto_patches  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402


class QuickReplyHandler(MotoRequestHandler):
    """Sends each response at once (no Nagle wait on the client's delayed ACK, 40 ms a call)."""

    disable_nagle_algorithm = True


class SerializedApp:
    """Runs one request at a time: moto's backends are not thread-safe, the SDK is concurrent."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()


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
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument(
        "--no-stdin-watch",
        action="store_true",
        help="keep running when stdin closes (for running by hand in the background)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)
    moto_patches.apply_all()

    app = SerializedApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuickReplyHandler)
    serving = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    serving.start()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if not args.no_stdin_watch:
        threading.Thread(target=watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()

    print(f"READY {server.server_port}", flush=True)
    # Nothing else may go to stdout: a parent that stopped reading it would block us.
    sys.stdout = sys.stderr

    while not stop.wait(0.5):  # a timed wait keeps signal handlers responsive
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
