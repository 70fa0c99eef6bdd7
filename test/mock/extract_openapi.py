"""Extracts from Togai's OpenAPI document the operations the extension calls, with every schema
they reference, into test/mock/togai-openapi-subset.json, so the mock and the tests work from a
clone of this repository alone.

Usage: python3 test/mock/extract_openapi.py FULL.json [OUT.json]
       python3 test/mock/extract_openapi.py --check FULL.json   (exit 1 if the subset is stale)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUBSET = os.path.join(HERE, "togai-openapi-subset.json")
PATHS = ["/customers", "/customers/{customer_id}", "/accounts", "/accounts/{account_id}",
         "/invoices", "/invoices/{invoice_id}", "/payments", "/payments/{payment_id}",
         "/settings", "/settings/{setting_id_str}"]


def refs(node, found):
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"])
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def extract(doc):
    out = {"openapi": doc["openapi"], "info": doc["info"], "paths": {}, "components": {}}
    for p in PATHS:
        out["paths"][p] = doc["paths"][p]
    done, todo = set(), set()
    refs(out["paths"], todo)
    while todo:
        ref = todo.pop()
        if ref in done:
            continue
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = doc["components"][kind][name]
        out["components"].setdefault(kind, {})[name] = node
        refs(node, todo)
    return out


def main(argv):
    check = argv[:1] == ["--check"]
    args = argv[1:] if check else argv
    with open(args[0]) as f:
        subset = extract(json.load(f))
    text = json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if check:
        with open(SUBSET) as f:
            same = f.read() == text
        print("openapi subset: %s" % ("matches the full document" if same else "STALE: regenerate it"))
        return 0 if same else 1
    with open(args[1] if len(args) > 1 else SUBSET, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
