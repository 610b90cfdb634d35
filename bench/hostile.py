#!/usr/bin/env python3
"""Time and memory bounds of stackc on hostile inputs (issue 15), release build: the inputs
too big for the corpus in tests/hostile/, which checks what they print and how they exit.

Each case runs the real binary under GNU time (peak RSS) with a wall-clock limit, and has
bounds: seconds, and peak memory either in MB or as a multiple of the input's size. Prints a
table and exits 1 if a bound is missed (or a case exits with a status it should not).
Usage: python3 bench/hostile.py   (builds the release binary first; needs GNU time, Debian's
`time` package, and mkfifo)"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024
HEAD = (
    'stack app { region = "us-east-1" }\n'
    'environment app-env { execution_role = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole" }\n'
)


def env_keys(n):
    keys = "".join(f'    K{i} = "x"\n' for i in range(n))
    return HEAD + f'service web {{\n  image = "nginx"\n  memory = 128 MiB\n  essential = true\n  env {{\n{keys}  }}\n}}\n'


def unknown_attributes(n):
    return "stack app {\n" + "".join(f"  a{i} = 1\n" for i in range(n)) + "}\n"


def errors_on_one_line(n):
    return "stack app { " + " ".join(f"a{i} = 1" for i in range(n)) + " }\n"


def frame(body):
    return f"Content-Length: {len(body)}\r\n\r\n{body}"


INIT = frame('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}')


def run(binary, args, stdin=None, limit=120, cwd=None):
    """(exit status, seconds, peak RSS in bytes, bytes written on stdout); None for the status
    on a timeout."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        sys.exit("bench/hostile.py needs GNU time for peak memory: apt-get install time")
    with tempfile.NamedTemporaryFile("r") as out, tempfile.TemporaryFile() as stdout:
        start = time.perf_counter()
        try:
            proc = subprocess.run([gnu_time, "-o", out.name, "-f", "%M", binary, *args],
                                  stdin=stdin, stdout=stdout,
                                  stderr=subprocess.DEVNULL, timeout=limit, cwd=cwd)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = None
        seconds = time.perf_counter() - start
        text = out.read().split()
        rss = int(text[-1]) * 1024 if text and text[-1].isdigit() else 0
        written = stdout.seek(0, os.SEEK_END)
    return status, seconds, rss, written


def main():
    subprocess.run(["cargo", "build", "--release", "--no-default-features", "-q"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "stackc")
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w", newline="") as f:
                f.write(text)
            return path

        def case(what, args, statuses, seconds, mb=None, times=None, size=None, stdin=None, cwd=None,
                 out_times=0):
            """Bounds: `seconds`, and a peak of `mb` MB, or of `times` the input's `size`
            plus `out_times` the size of what was printed (a report of 100,000 diagnostics
            is itself big)."""
            nonlocal failed
            status, took, rss, written = run(binary, args, stdin=stdin, cwd=cwd)
            bound = mb * MB if mb is not None else times * size + out_times * written
            ok = status in statuses and took <= seconds and rss <= bound
            failed |= not ok
            ratio = f"{rss / size:.1f}x" if size else ""
            rows.append((what, status, took, seconds, rss / MB, bound / MB, ratio, "ok" if ok else "MISSED"))

        # Memory of a big program (the 10x promise), and its time.
        p = write("env-keys.stack", env_keys(1_000_000))
        case("check: 1M env keys", ["check", p], {0}, 10, times=10, size=os.path.getsize(p))
        p = write("unknown.stack", unknown_attributes(100_000))
        size = os.path.getsize(p)
        case("check --format json: 100k unknown attributes", ["check", "--format", "json", p], {1}, 10,
             times=10, size=size, out_times=3)
        case("check: 100k unknown attributes", ["check", p], {1}, 10, times=10, size=size, out_times=3)
        p = write("one-line.stack", errors_on_one_line(10_000))
        case("check: 10k errors on one 160 KB line", ["check", p], {1}, 10, mb=100)
        case("check --format json: 10k errors on one line", ["check", "--format", "json", p], {1}, 10, mb=100)
        long = write("long.stack", HEAD + 'service web { image = "' + "x" * 1_000_000
                     + '" memory = 128 MiB essential = true ports = [8080:80] }\n')
        case("build: a warning at column 1,000,000", ["build", long, "--out", os.path.join(tmp, "out")],
             {0}, 10, mb=60)

        # Unbounded inputs: at most 512 MiB is read.
        case("check /dev/zero", ["check", "/dev/zero"], {1}, 20, mb=600)
        with open("/dev/zero", "rb") as zero:
            case("fmt < /dev/zero", ["fmt"], {1}, 20, mb=600, stdin=zero)
        fifo = os.path.join(tmp, "fifo.stack")
        os.mkfifo(fifo)

        def feed():
            with open(fifo, "wb") as f:
                chunk = b"#" * MB
                try:
                    for _ in range(600):
                        f.write(chunk)
                except BrokenPipeError:
                    pass
        writer = threading.Thread(target=feed)
        writer.start()
        case("check: 600 MB through a FIFO", ["check", fifo], {1}, 30, mb=600)
        writer.join()

        # The language server's frames: what a header claims costs nothing.
        for claim in ["2000000000", "1000000000000", "18446744073709551615"]:
            p = write(f"lsp-{claim}.txt", INIT + f"Content-Length: {claim}\r\n\r\n{{}}")
            with open(p, "rb") as f:
                case(f"lsp: Content-Length {claim}", ["lsp"], {1}, 10, mb=30, stdin=f)
        p = write("lsp-junk.txt", INIT + "X-Junk: " + "x" * 50_000_000)
        with open(p, "rb") as f:
            case("lsp: a 50 MB header line", ["lsp"], {1}, 10, mb=30, stdin=f)

        # fmt over a folder with symlink loops.
        d = os.path.join(tmp, "loops")
        os.mkdir(d)
        write("loops/app.stack", "stack app {   }\n")
        os.symlink(".", os.path.join(d, "l"))
        os.symlink(".", os.path.join(d, "m"))
        case("fmt --check: two `ln -s . x` loops", ["fmt", "--check", d], {1}, 5, mb=30)

    print(f"{'case':<46} {'exit':>4} {'s':>6} {'max s':>6} {'peak MB':>8} {'max MB':>8} {'ratio':>6}")
    for what, status, took, seconds, mb, bound, ratio, verdict in rows:
        print(f"{what:<46} {str(status):>4} {took:6.2f} {seconds:6.0f} {mb:8.1f} {bound:8.1f} {ratio:>6}  {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
