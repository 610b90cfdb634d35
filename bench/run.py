#!/usr/bin/env python3
"""The speed benchmark of `stackc check` (issue 2): whole-process wall time and peak memory
on generated programs of 1,000 and 10,000 services, release build.

Targets: 10k services (about 3 MB) at 20 MB/s or better; 10k/1k time ratio at most 12;
peak memory under 10x the input size. Prints a table and exits 1 if a target is missed.
Usage: python3 bench/run.py [--runs N]   (builds the release binary first; peak memory is read
with GNU time, Debian's `time` package)"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen  # noqa: E402


# The only errors of a generated program: AWS takes at most 10 containers in a task and 94 host
# ports on an instance, and the big programs have more (every other rule still runs on them).
AWS_LIMITS = {"stack::too_many_containers", "stack::port_conflict"}


def measure(binary, path, runs):
    proc = subprocess.run([binary, "check", "--format", "json", path], capture_output=True)
    codes = {d["code"] for d in json.loads(proc.stdout or b"[]") if d["severity"] == "error"}
    if not codes <= AWS_LIMITS:
        sys.exit(f"stackc check found errors in {path}: {sorted(codes)}")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([binary, "check", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(peak_rss(binary, path) for _ in range(runs))


def peak_rss(binary, path):
    """Peak RSS in bytes, as GNU time reports it. Not this process's own wait4: a child's
    ru_maxrss keeps the high-water mark of the memory it was forked with, and a child of
    Python starts with Python's (about 10 MB, more than stackc needs for 1,000 services)."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        sys.exit("bench/run.py needs GNU time for peak memory: apt-get install time")
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([gnu_time, "-o", out.name, "-f", "%M", binary, "check", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(out.read().split()[-1]) * 1024  # KiB


def main():
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    subprocess.run(["cargo", "build", "--release", "--no-default-features", "-q"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "stackc")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000):
            path = os.path.join(tmp, f"bench-{n}.stack")
            with open(path, "w") as f:
                f.write(gen.program(n))
            size = os.path.getsize(path)
            median, best, peak = measure(binary, path, runs)
            rows[n] = (size, median, best, peak)
    print(f"{'services':>9} {'bytes':>10} {'median s':>9} {'best s':>8} {'MB/s':>7} {'peak RSS':>10} {'RSS/input':>9}")
    for n, (size, median, best, peak) in rows.items():
        print(f"{n:>9} {size:>10} {median:>9.4f} {best:>8.4f} {size / median / 1e6:>7.1f} {peak:>10} {peak / size:>9.1f}")
    size, median, _, peak = rows[10000]
    ratio = median / rows[1000][1]
    speed = size / median / 1e6
    print(f"10k/1k time ratio: {ratio:.1f} (target <= 12); 10k speed {speed:.1f} MB/s (target >= 20); "
          f"peak memory {peak / size:.1f}x input (target < 10)")
    missed = [m for m, bad in (("ratio", ratio > 12), ("speed", speed < 20), ("memory", peak >= 10 * size)) if bad]
    if missed:
        print("MISSED: " + ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
