#!/usr/bin/env python3
"""Validates Dockerrun.aws.json v2 files against AWS's own ECS API model.

Elastic Beanstalk turns a Dockerrun.aws.json v2 into an ECS RegisterTaskDefinition call, so
its `containerDefinitions`, `volumes` and `executionRoleArn` are checked against that
operation's input shape in botocore's `data/ecs/2014-11-13/service-2.json(.gz)`: every member
name must exist with its exact casing, every value must have the member's type (string,
integer, boolean, list, structure, map), structures must hold their required members and
strings their enum values. `AWSEBDockerrunVersion` (must be 2) and `authentication` are Elastic
Beanstalk's own sections; anything else at the top level is an error.

Usage: ecs_model.py FILE...

Prints one JSON object on stdout:
  {"botocore": VERSION, "operation": "RegisterTaskDefinition", "shape": NAME,
   "container_members": N,
   "files": [{"file", "containers", "values", "errors": [{"path", "message"}]}]}
where `containers` counts container definitions and `values` every value checked, so that a
caller can refuse a vacuous pass. Exit status: 0 when every file is valid, 1 when a file has
errors, 2 when the model cannot be loaded or a file cannot be read.
"""

import difflib
import json
import sys

try:
    import botocore
    import botocore.loaders
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(f"ecs_model.py: cannot import botocore ({e}); run `bash tests/support/setup-venv.sh`", file=sys.stderr)
    sys.exit(2)

OPERATION = "RegisterTaskDefinition"
# The sections of a Dockerrun.aws.json v2 that are RegisterTaskDefinition input members.
FROM_TASK_DEFINITION = ("executionRoleArn", "volumes", "containerDefinitions")


def load_model():
    # The loader reads service-2.json or, in recent botocore, service-2.json.gz.
    model = botocore.loaders.Loader().load_service_model("ecs", "service-2", api_version="2014-11-13")
    shapes = model["shapes"]
    request = shapes[model["operations"][OPERATION]["input"]["shape"]]
    return shapes, request


class Validator:
    def __init__(self, shapes):
        self.shapes = shapes
        self.errors = []
        self.values = 0
        self.containers = 0

    def error(self, path, message):
        self.errors.append({"path": path, "message": message})

    def value(self, path, shape_name, v):
        """Checks value `v` at `path` against the shape named `shape_name`."""
        self.values += 1
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "structure":
            if not isinstance(v, dict):
                return self.error(path, f"expected a structure ({shape_name}), found {kind(v)}")
            self.structure(path, shape_name, v)
        elif t == "list":
            if not isinstance(v, list):
                return self.error(path, f"expected a list ({shape_name}), found {kind(v)}")
            for i, item in enumerate(v):
                self.value(f"{path}[{i}]", shape["member"]["shape"], item)
            self.bounds(path, shape, len(v), "length")
        elif t == "map":
            if not isinstance(v, dict):
                return self.error(path, f"expected a map ({shape_name}), found {kind(v)}")
            for k, item in v.items():
                self.value(f"{path}.<key {k!r}>", shape["key"]["shape"], k)
                self.value(f"{path}.{k}", shape["value"]["shape"], item)
        elif t in ("string", "timestamp", "blob"):
            if not isinstance(v, str):
                return self.error(path, f"expected a string, found {kind(v)}")
            if "enum" in shape and v not in shape["enum"]:
                close = difflib.get_close_matches(v, shape["enum"], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                return self.error(path, f"{v!r} is not one of {shape_name} {shape['enum']}{hint}")
            self.bounds(path, shape, len(v), "length")
        elif t in ("integer", "long"):
            if isinstance(v, bool) or not isinstance(v, int):
                return self.error(path, f"expected an integer, found {kind(v)}")
            self.bounds(path, shape, v, "value")
        elif t in ("double", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return self.error(path, f"expected a number, found {kind(v)}")
        elif t == "boolean":
            if not isinstance(v, bool):
                return self.error(path, f"expected a boolean, found {kind(v)}")
        else:
            self.error(path, f"shape {shape_name} has a type this validator does not know: {t}")

    def bounds(self, path, shape, n, what):
        if "min" in shape and n < shape["min"]:
            self.error(path, f"{what} {n} is below the model's minimum {shape['min']}")
        if "max" in shape and n > shape["max"]:
            self.error(path, f"{what} {n} is above the model's maximum {shape['max']}")

    def structure(self, path, shape_name, obj, only=None):
        """Checks a structure's members; `only` restricts which members may appear."""
        shape = self.shapes[shape_name]
        members = shape.get("members", {})
        allowed = [m for m in members if only is None or m in only]
        for key, v in obj.items():
            if key in members and key not in allowed:
                self.error(f"{path}.{key}", f"`{key}` is a {shape_name} member that this file does not take")
                continue
            if key not in allowed:
                self.error(f"{path}.{key}", unknown_member(key, allowed, shape_name))
                continue
            self.value(f"{path}.{key}", members[key]["shape"], v)
        for req in shape.get("required", []):
            if (only is None or req in only) and req not in obj:
                self.error(f"{path}.{req}", f"required member `{req}` of {shape_name} is missing")

    def dockerrun(self, doc, request_name):
        if not isinstance(doc, dict):
            return self.error("$", f"expected a JSON object, found {kind(doc)}")
        version = doc.get("AWSEBDockerrunVersion")
        if version != 2 or isinstance(version, bool):
            self.error("$.AWSEBDockerrunVersion", f"must be the integer 2 for ECS-managed Docker, found {version!r}")
        auth = doc.get("authentication")
        if auth is not None:
            ok = isinstance(auth, dict) and set(auth) == {"bucket", "key"} and all(isinstance(x, str) for x in auth.values())
            if not ok:
                self.error("$.authentication", 'expected {"bucket": STRING, "key": STRING}')
        defs = doc.get("containerDefinitions")
        if not isinstance(defs, list) or not defs:
            self.error("$.containerDefinitions", "a Dockerrun.aws.json v2 needs a non-empty containerDefinitions list")
        else:
            self.containers += len(defs)
        rest = {k: v for k, v in doc.items() if k not in ("AWSEBDockerrunVersion", "authentication")}
        # Only the task-definition sections EB passes through; `family` and the rest are EB's.
        self.structure("$", request_name, rest, only=FROM_TASK_DEFINITION)


def unknown_member(key, allowed, shape_name):
    msg = f"`{key}` is not a member of {shape_name}"
    same_case = [m for m in allowed if m.lower() == key.lower()]
    if same_case:
        return f"{msg}; member names are case-sensitive: `{same_case[0]}`"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)
    return f"{msg}; did you mean `{close[0]}`?" if close else msg


def kind(v):
    if isinstance(v, bool):
        return f"a boolean ({json.dumps(v)})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    if isinstance(v, str):
        return f"a string ({json.dumps(v)})"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return "null"


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        shapes, request = load_model()
    except Exception as e:  # noqa: BLE001 - any failure here is an environment problem
        print(f"ecs_model.py: cannot load the ECS model from botocore {botocore.__version__}: {e}", file=sys.stderr)
        return 2
    request_name = next(n for n, s in shapes.items() if s is request)
    container_shape = shapes[request["members"]["containerDefinitions"]["shape"]]["member"]["shape"]
    report = {
        "botocore": botocore.__version__,
        "operation": OPERATION,
        "shape": container_shape,
        "container_members": len(shapes[container_shape]["members"]),
        "files": [],
    }
    failed = False
    for path in argv:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"ecs_model.py: {path}: {e}", file=sys.stderr)
            return 2
        v = Validator(shapes)
        v.dockerrun(doc, request_name)
        failed |= bool(v.errors)
        report["files"].append({"file": path, "containers": v.containers, "values": v.values, "errors": v.errors})
    print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
