# validate.py CASES.json: checks each case's instance against its schema
# with python3-jsonschema (Draft 2020-12, formats asserted where the module
# can) and prints one line per case whose outcome differs from "valid".
# Each schema is first checked against the 2020-12 meta-schema.
import json
import sys

import jsonschema

V = jsonschema.Draft202012Validator
with open(sys.argv[1], encoding="utf-8") as f:
    cases = json.load(f)
schemas = {}
bad = 0
for c in cases:
    with open(c["schema"], encoding="utf-8") as f:
        schema = json.load(f)
    if c["schema"] not in schemas:
        try:
            V.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            print(f"{c['schema']}: not a valid 2020-12 schema: {e.message}")
            bad += 1
        schemas[c["schema"]] = V(schema, format_checker=V.FORMAT_CHECKER)
    with open(c["instance"], encoding="utf-8") as f:
        instance = json.load(f)
    errs = sorted(schemas[c["schema"]].iter_errors(instance), key=lambda e: list(e.path))
    if c["valid"] and errs:
        for e in errs[:5]:
            print(f"{c['name']}: {c['instance']} at {list(e.absolute_path)}: {e.message}")
        bad += 1
    elif not c["valid"] and not errs:
        print(f"{c['name']}: {c['instance']} was accepted but must be rejected")
        bad += 1
print(f"{len(cases)} cases, {bad} unexpected")
sys.exit(1 if bad else 0)
