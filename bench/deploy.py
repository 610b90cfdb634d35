#!/usr/bin/env python3
"""The deploy benchmark (issue 3): a fresh `stackc apply` of the reference program against the
moto emulator through the fault proxy with 100 ms added to every call.

Target: wall time <= 1.25 x the critical-path bound, where the bound is the longest chain of
calls that must happen one after the other, x 100 ms:
  - one round of reads (refresh: every lookup is independent of the others), then
  - the longest path through the plan's dependency graph (plan.json), each step weighing the
    calls it cannot avoid: 1 for a create/update call, +1 for a resource whose readiness must be
    polled at least once (RDS, ElastiCache, an EB environment, an application version being
    processed); lookups already done by refresh weigh 0.
When the stores are ready before the environment is created (always on the emulator), apply
folds the `environment.stores` update into the creation call, so the executed chain is two
calls shorter than this bound; the note on issue 3 reports both.
Also reports the total and mutating call counts, and checks that a second apply makes no
mutating call and at most 2 reads per resource.
With --timeline, also prints every call of the fresh apply: start and end (ms from the first
call's start), service and operation; the gaps between dependent calls are stackc's own time.
Usage: python3 bench/deploy.py [--timeline] [FILE]   (needs `bash tests/support/setup-venv.sh` and a built
`target/debug/stackc`: `cargo build`)"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, ".venv", "bin", "python")
LATENCY_MS = 100

# Calls a step cannot avoid on a fresh account (see the docstring).
WEIGHT = {
    "rds:CreateDBInstance": 2,
    "elasticache:CreateCacheCluster": 2,
    "elasticache:CreateReplicationGroup": 2,
    "elasticbeanstalk:CreateEnvironment": 2,
    "elasticbeanstalk:UpdateEnvironment": 2,
    "elasticbeanstalk:CreateApplicationVersion": 2,
    # On a fresh account the app servers start with the environment: no call.
    "elasticbeanstalk:RestartAppServer": 0,
}
READS_AT_REFRESH = {"ec2:DescribeVpcs", "ec2:DescribeSubnets", "elasticbeanstalk:ListPlatformVersions"}


def start(args):
    p = subprocess.Popen([PY] + args + ["--port", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    assert line.startswith("READY "), line
    return p, int(line.split()[1])


def critical_path(plan):
    longest = {}
    for s in plan["steps"]:
        w = 0 if s["action"] in READS_AT_REFRESH else WEIGHT.get(s["action"], 1)
        longest[s["id"]] = w + max((longest[d] for d in s["depends_on"]), default=0)
    return 1 + max(longest.values())


def stats(port):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/__proxy/stats"))


def main():
    args = [a for a in sys.argv[1:] if a != "--timeline"]
    timeline = "--timeline" in sys.argv[1:]
    file = args[0] if args else os.path.join(ROOT, "examples", "complex-docker.stack")
    binary = os.environ.get("STACKC_BIN") or os.path.join(ROOT, "target", "debug", "stackc")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "build", file, "--out", out], check=True, capture_output=True)
        plan = json.load(open(os.path.join(out, "plan.json")))
    bound_calls = critical_path(plan)
    moto, moto_port = start([os.path.join(ROOT, "tests/support/stackc_moto.py")])
    proxy, proxy_port = start([os.path.join(ROOT, "tests/support/faultproxy.py"), "--upstream", f"http://127.0.0.1:{moto_port}", "--latency-ms", str(LATENCY_MS)])
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", STACKC_POLL_MS="20")
    env.pop("AWS_PROFILE", None)
    cmd = [binary, "apply", file, "--yes", "--endpoint-url", f"http://127.0.0.1:{proxy_port}"]
    try:
        # Warm-up: moto builds each service's backend on its first call (seconds for EC2 and
        # IAM's managed policies); a plan reads every service once, changing nothing.
        subprocess.run([binary, "plan", file, "--endpoint-url", f"http://127.0.0.1:{moto_port}"], env=env, capture_output=True, check=True)
        t = time.perf_counter()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode != 0:
            sys.exit(f"apply failed:\n{r.stdout}{r.stderr}")
        first = stats(proxy_port)
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{proxy_port}/__proxy/reset", data=b"{}", method="POST"))
        r2 = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r2.returncode != 0:
            sys.exit(f"second apply failed:\n{r2.stdout}{r2.stderr}")
        second = stats(proxy_port)
    finally:
        for p in (proxy, moto):
            p.stdin.close()
            p.wait(timeout=10)
    if timeline:
        t0 = first["calls"][0]["start_ms"]
        for c in first["calls"]:
            print(f"{c['start_ms'] - t0:7.0f} {c['end_ms'] - t0:7.0f}  {c['service']}:{c['operation']}")
    bound = bound_calls * LATENCY_MS / 1000
    resources = sum(1 for s in plan["steps"])
    print(f"program: {os.path.relpath(file, ROOT)} ({resources} plan steps)")
    print(f"fresh apply: {first['total']} calls ({first['mutating']} mutating, {first['reads']} reads), wall {wall:.2f} s")
    print(f"critical path: {bound_calls} calls x {LATENCY_MS} ms = {bound:.2f} s; ratio {wall / bound:.2f} (target <= 1.25)")
    print(f"second apply: {second['mutating']} mutating calls (target 0), {second['reads']} reads for {resources} resources "
          f"({second['reads'] / resources:.2f} per resource, target <= 2)")
    missed = [m for m, bad in (("ratio", wall > 1.25 * bound), ("mutating", second["mutating"] != 0),
                               ("reads", second["reads"] > 2 * resources)) if bad]
    if missed:
        print("MISSED: " + ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
