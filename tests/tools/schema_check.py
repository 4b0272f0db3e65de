#!/usr/bin/python3
"""Validates wm policy files or workflows' front matter against a JSON Schema.

    schema_check.py SCHEMA.json policy FILE.yaml...
    schema_check.py SCHEMA.json frontmatter FILE.md...

Prints one line per file, "ok FILE" or "invalid FILE: where: why", and exits
0 when every file is valid, 1 when one is not, 2 on bad usage or a schema
that is not a valid draft 2020-12 schema. YAML is read as YAML 1.2 types it
(true/false only for booleans, as yaml-language-server does), not as PyYAML's
YAML 1.1 (where yes, no, on and off are booleans too), since that is what the
schemas describe. Needs Debian's python3-yaml and python3-jsonschema.
"""
import json
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's booleans, ints and floats."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def construct_yaml12_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_yaml12_int)


def front_matter(text):
    """The front matter's YAML text, or None when the file has none."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].rstrip(" \t") != "---":
        return None
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip(" \t") == "---":
            return "\n".join(lines[1:i]) + "\n"
    raise ValueError("unterminated front matter: no closing --- line")


def check(validator, kind, path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if kind == "frontmatter":
            text = front_matter(text)
            if text is None:
                return None
        doc = yaml.load(text, Loader=Yaml12Loader)
    except (OSError, ValueError, yaml.YAMLError) as e:
        return str(e).replace("\n", " ")
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "(top)"
    return f"{where}: {e.message}"


def main(argv):
    if len(argv) < 4 or argv[2] not in ("policy", "frontmatter"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"{argv[1]}: not a valid draft 2020-12 schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    status = 0
    for path in argv[3:]:
        problem = check(validator, argv[2], path)
        if problem is None:
            print(f"ok {path}")
        else:
            print(f"invalid {path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
