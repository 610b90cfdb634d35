#!/usr/bin/env python3
"""The memory benchmark of `stackc import` (issue 15): whole-process peak memory and wall time on
generated compose files, release build.

- `services`: 100,000 services of one line of image each (about 3.5 MB), which the import
  refuses (it takes at most 100 services) after reading the YAML;
- `wide`: 100 services (the most it takes) with 1,000 env values each (about 3 MB);
- `values`: 20 services with long env values (about 100 MB);
- `dockerrun`: a Dockerrun.aws.json of 20,000 container definitions, refused likewise.

Target: peak memory under 10x the input size. Prints a table and exits 1 if a target is missed.
Usage: python3 bench/import.py   (builds the release binary first; peak memory is read with GNU
time, Debian's `time` package)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def many_services(n):
    lines = ["services:"]
    for i in range(n):
        lines.append(f"  s{i}:\n    image: example/app:{i % 100}")
    return "\n".join(lines) + "\n"


def with_env(services, keys, entry):
    """`services` services of `keys` environment entries each, `entry(k, s)` the k-th of s."""
    lines = ["services:"]
    for s in range(services):
        lines.append(f"  s{s}:\n    image: example/app\n    environment:")
        for k in range(keys):
            lines.append(f"      {entry(k, s)}")
    return "\n".join(lines) + "\n"


def wide(services, keys):
    return with_env(services, keys, lambda k, s: f"SETTING_{k}: value-{k}-{s}")


def long_values(services, keys, size):
    value = "v" * size
    return with_env(services, keys, lambda k, s: f"K{k}: {value}")


def dockerrun(n):
    return json.dumps({
        "AWSEBDockerrunVersion": 2,
        "containerDefinitions": [
            {"name": f"c{i}", "image": "example/app:1", "memory": 128,
             "environment": [{"name": "MODE", "value": "production"}]}
            for i in range(n)
        ],
    }, indent=2)


def peak(binary, path, refused):
    """Peak RSS in bytes (GNU time) and wall seconds of `stackc import PATH`, which must
    succeed, or be refused when `refused`."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        sys.exit("bench/import.py needs GNU time for peak memory: apt-get install time")
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.perf_counter()
        proc = subprocess.run([gnu_time, "-o", out.name, "-f", "%M", binary, "import", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = time.perf_counter() - start
        if (proc.returncode != 0) != refused:
            sys.exit(f"stackc import exited {proc.returncode} on {path}: {proc.stderr.decode()[-2000:]}")
        return int(out.read().split()[-1]) * 1024, took


def main():
    subprocess.run(["cargo", "build", "--release", "--no-default-features", "-q"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "stackc")
    cases = [
        ("services", "docker-compose.yml", lambda: many_services(100_000), True),
        ("wide", "docker-compose.yml", lambda: wide(100, 1000), False),
        ("values", "docker-compose.yml", lambda: long_values(20, 1000, 5000), False),
        ("dockerrun", "Dockerrun.aws.json", lambda: dockerrun(20_000), True),
    ]
    print(f"{'case':>10} {'bytes':>11} {'seconds':>8} {'peak RSS':>11} {'RSS/input':>9}")
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, file, make, refused in cases:
            folder = os.path.join(tmp, name)
            os.mkdir(folder)
            path = os.path.join(folder, file)
            with open(path, "w") as f:
                f.write(make())
            size = os.path.getsize(path)
            rss, took = peak(binary, path, refused)
            print(f"{name:>10} {size:>11} {took:>8.2f} {rss:>11} {rss / size:>9.1f}")
            if rss >= 10 * size:
                missed.append(name)
    print("target: peak memory under 10x the input")
    if missed:
        print("MISSED: " + ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
