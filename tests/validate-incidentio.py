#!/usr/bin/python3
"""validate-incidentio.py: check JSON documents against incident.io's OpenAPI
excerpt, so the simulator (and any recorded response) cannot drift from the
real API.

Usage: validate-incidentio.py [--spec FILE] [--strict] SCHEMA [FILE...]
       validate-incidentio.py [--spec FILE] [--strict] --batch <LIST

SCHEMA is a component name (SchedulesListResultV2, SchedulesShowResultV2,
SchedulesListScheduleEntriesResultV2, UsersListResultV2, UsersShowResultV2,
...), or an API path ("/v2/schedules", "/v2/schedules/{id}", ...) meaning
the schema of its 200 response, or "Error" for incident.io's error body
(not in the excerpt; shape from reference/incidentio.md). Each FILE (default
stdin) holds one JSON document. --strict also rejects properties the
specification does not declare. Exit 0 when all are valid, 1 when one is
not (violations on stderr), 2 on usage errors.

--batch reads lines "SCHEMA FILE" (tab or space separated) on stdin and
writes one line per document on stdout, "ok FILE" or "not-ok FILE: why",
so a test checks many answers with one interpreter start.

The spec is --spec, else $INCIDENTIO_OPENAPI, else
../shared/reference/incidentio-openapi.json beside the repository (the
excerpt of incident.io's official specification), else the project's own
tests/fixtures/incidentio/api-schema.json: the same answers' shapes (field
names, types, required fields, formats) written as a schema of ours, so a
plain clone checks the simulator too.  "validate-incidentio.py --which"
prints the file in use.
"""
import copy
import datetime
import json
import os
import re
import sys

import jsonschema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["type", "status", "request_id", "errors"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "source": {"type": "object",
                               "properties": {"field": {"type": "string"}}},
                },
            },
        },
    },
}

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _date_time(value):
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    v = re.sub(r"\.\d+", "", value.upper()).replace("Z", "+00:00")
    try:
        datetime.datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def _strict(node):
    """Forbid undeclared properties wherever an object declares some."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node \
                and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            _strict(v)
    elif isinstance(node, list):
        for v in node:
            _strict(v)


def spec_file(spec_path=None):
    """The specification to check against (see the usage above)."""
    if spec_path or os.environ.get("INCIDENTIO_OPENAPI"):
        return spec_path or os.environ["INCIDENTIO_OPENAPI"]
    here = os.path.dirname(os.path.abspath(__file__))
    official = os.path.join(here, "..", "..", "shared", "reference",
                            "incidentio-openapi.json")
    if os.path.exists(official):
        return official
    return os.path.join(here, "fixtures", "incidentio", "api-schema.json")


def load_validator(schema_name, spec_path=None, strict=False):
    spec_path = spec_file(spec_path)
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    components = copy.deepcopy(spec["components"])
    if schema_name == "Error":
        schema = copy.deepcopy(ERROR_SCHEMA)
    elif schema_name.startswith("/"):
        op = spec["paths"][schema_name]["get"]
        schema = copy.deepcopy(
            op["responses"]["200"]["content"]["application/json"]["schema"])
    else:
        if schema_name not in components["schemas"]:
            raise KeyError(schema_name)
        schema = {"$ref": "#/components/schemas/" + schema_name}
    if strict:
        _strict(components)
        _strict(schema)
    schema = dict(schema, components=components)
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_date_time)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def _load_doc(fn):
    if fn == "-":
        return json.load(sys.stdin)
    with open(fn, encoding="utf-8") as f:
        return json.load(f)


def _problems(validator, name, fn):
    try:
        doc = _load_doc(fn)
    except (OSError, ValueError) as e:
        return ["%s: not JSON: %s" % (fn, e)]
    out = []
    for e in sorted(validator.iter_errors(doc),
                    key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append("%s: %s: %s: %s" % (fn, name, where, e.message))
    return out


def batch(spec, strict):
    validators = {}
    status = 0
    for line in sys.stdin:
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        name, fn = parts[0], parts[1].strip()
        try:
            if name not in validators:
                validators[name] = load_validator(name, spec, strict)
            probs = _problems(validators[name], name, fn)
        except (OSError, ValueError, KeyError) as e:
            probs = ["cannot load schema %s: %s" % (name, e)]
        if probs:
            status = 1
            print("not-ok %s: %s" % (fn, "; ".join(probs)))
        else:
            print("ok %s" % fn)
    return status


def main(argv):
    args = list(argv)
    spec, strict, is_batch = None, False, False
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--which":
            print(os.path.normpath(spec_file(spec)))
            return 0
        if a == "--batch":
            is_batch = True
        elif a == "--strict":
            strict = True
        elif a == "--spec" and args:
            spec = args.pop(0)
        elif a.startswith("--spec="):
            spec = a[len("--spec="):]
        else:
            print("validate-incidentio: unknown option " + a, file=sys.stderr)
            return 2
    if is_batch:
        return batch(spec, strict)
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    name, files = args[0], args[1:] or ["-"]
    try:
        validator = load_validator(name, spec, strict)
    except (OSError, ValueError, KeyError) as e:
        print("validate-incidentio: cannot load schema %s: %s" % (name, e),
              file=sys.stderr)
        return 2
    status = 0
    for fn in files:
        for p in _problems(validator, name, fn):
            print("validate-incidentio: " + p, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
