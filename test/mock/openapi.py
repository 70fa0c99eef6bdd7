"""Checks JSON bodies against an OpenAPI 3 document (the subset of JSON Schema it uses).

Used by the Togai mock on every request body it receives and every answer it sends, so the
mock cannot drift from Togai's published API.
"""

import json
import re


class OpenAPI:
    def __init__(self, path):
        with open(path) as f:
            self.doc = json.load(f)
        self.operations = []
        for template, item in self.doc["paths"].items():
            rx = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    # literal paths before templated ones: /invoices/bill_runs before /invoices/{id}
                    self.operations.append((template.count("{"), rx, method.upper(), template, op))
        self.operations.sort(key=lambda o: o[0])

    def operation(self, method, path):
        for _, rx, m, template, op in self.operations:
            if m == method and rx.match(path):
                return template, op
        return None, None

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            node = self.doc
            for p in parts:
                node = node[p]
        return node

    def request_schema(self, method, path):
        _, op = self.operation(method, path)
        if not op or "requestBody" not in op:
            return None
        body = self.deref(op["requestBody"])
        return body.get("content", {}).get("application/json", {}).get("schema")

    def response_schema(self, method, path, status):
        _, op = self.operation(method, path)
        if not op:
            return None
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get("default")
        if not resp:
            return None
        return self.deref(resp).get("content", {}).get("application/json", {}).get("schema")

    def validate(self, schema, value, where="$"):
        """Returns a list of violations (empty when the value conforms)."""
        errors = []
        self._check(self.deref(schema), value, where, errors, 0)
        return errors

    def _check(self, s, v, where, errors, depth):
        if depth > 40 or s is None:
            return
        s = self.deref(s)
        if v is None:
            if not s.get("nullable") and s.get("type") is not None:
                errors.append("%s: null where %s is expected" % (where, s.get("type")))
            return
        for key in ("allOf",):
            for sub in s.get(key, []):
                self._check(sub, v, where, errors, depth + 1)
        for key in ("oneOf", "anyOf"):
            if key in s:
                if not any(not self.validate(sub, v, where) for sub in s[key]):
                    errors.append("%s: matches none of %s" % (where, key))
        t = s.get("type")
        checks = {"string": lambda x: isinstance(x, str),
                  "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
                  "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
                  "boolean": lambda x: isinstance(x, bool),
                  "array": lambda x: isinstance(x, list),
                  "object": lambda x: isinstance(x, dict)}
        if t in checks and not checks[t](v):
            errors.append("%s: %r is not of type %s" % (where, v, t))
            return
        if "enum" in s and v not in s["enum"]:
            errors.append("%s: %r is not one of %s" % (where, v, s["enum"]))
        if isinstance(v, dict) and (t == "object" or "properties" in s):
            props = s.get("properties", {})
            for req in s.get("required", []):
                if req not in v:
                    errors.append("%s: required field %s is missing" % (where, req))
            extra = s.get("additionalProperties", True)
            for k, item in v.items():
                if k in props:
                    self._check(props[k], item, "%s.%s" % (where, k), errors, depth + 1)
                elif extra is False:
                    errors.append("%s: field %s is not in the schema" % (where, k))
                elif isinstance(extra, dict):
                    self._check(extra, item, "%s.%s" % (where, k), errors, depth + 1)
        if isinstance(v, list) and "items" in s:
            for i, item in enumerate(v):
                self._check(s["items"], item, "%s[%d]" % (where, i), errors, depth + 1)
