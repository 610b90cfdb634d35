#!/usr/bin/env bash
# Creates or refreshes <repo>/.venv for the moto-backed integration tests.
# Idempotent: does nothing when .venv already matches requirements.txt (tracked
# by a stamp holding the file's sha256); otherwise rebuilds .venv from scratch
# so removed pins do not linger.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv"
reqs="$here/requirements.txt"
stamp="$venv/.stackc-requirements.sha256"

die() { echo "setup-venv: error: $*" >&2; exit 1; }

[ -f "$reqs" ] || die "missing $reqs"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c 'import moto, boto3, pytest' 2>/dev/null; then
    echo "setup-venv: $venv is up to date"
    exit 0
fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
fi
[ -n "$python" ] || die "no python3 found (set PYTHON=/path/to/python3.11)"
command -v "$python" >/dev/null 2>&1 || die "python interpreter '$python' not found"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$python is older than 3.10 (the support scripts need >= 3.10)"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

rm -rf "$venv"
"$python" -m venv "$venv" >"$log" 2>&1 || { cat "$log" >&2; die "'$python -m venv $venv' failed"; }
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -rf "$venv"
    die "pip install -r $reqs failed (output above)"
fi
echo "$want" >"$stamp"
echo "setup-venv: created $venv with $("$venv/bin/python" --version 2>&1) from requirements.txt"
