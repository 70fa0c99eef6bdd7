"""Mock Togai API, checked against Togai's real OpenAPI document (the operations it serves).

`Authorization: Bearer <token>`; errors {"message": "..."}; lists paginated by an opaque
nextToken (absent on the last page) and pageSize (at most 50, 50 when not given). A token names
the last item of its page, as Togai's do ({"lastItemId", "pageSize", "sortOrder"}): the next page
starts after that item in creation order, so an item that moves or is added meanwhile does not
shift the pages, and a token kept from an earlier walk reads what was created since. The invoice
list filters by status, owner_id, customer_id and start_time (epoch milliseconds; the spec does
not say which date it compares: this mock compares startDate, and a client must not count on
it); nothing else, and no list of accounts or customers filters at all. Every request body is checked
against the operation's schema (a violation answers 400, as Togai does) and every answer the
mock sends is checked too; violations are listed at GET /_mock/schema_violations.

Seed format (POST /_mock/seed, or --seed FILE):
  {"tokens": ["<api token>", ...],
   "customers": [Customer objects], "accounts": [Account objects], "invoices": [Invoice objects]}
DELETE /_mock/schema_violations returns them and forgets them.
POST /_mock/invoice_status {"id": ..., "status": "DUE", "paidAmount": n} moves an invoice (and its
updatedAt).
"""

import base64
import copy
import itertools
import json
import os
import sys
import time

from mockserver import App, Reply, main
from openapi import OpenAPI

HERE = os.path.dirname(os.path.abspath(__file__))
# The operations the extension calls, extracted from Togai's published OpenAPI document by
# extract_openapi.py (a test checks it against the full document when that is at hand).
DEFAULT_OPENAPI = os.path.join(HERE, "togai-openapi-subset.json")


def stamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class Togai(App):
    name = "togai"
    routes = [
        ("GET", r"/customers", "customer_list"),
        ("GET", r"/customers/(?P<id>[^/]+)", "customer_get"),
        ("GET", r"/accounts", "account_list"),
        ("GET", r"/accounts/(?P<id>[^/]+)", "account_get"),
        ("PATCH", r"/accounts/(?P<id>[^/]+)", "account_patch"),
        ("GET", r"/invoices", "invoice_list"),
        ("GET", r"/invoices/(?P<id>[^/]+)", "invoice_get"),
        ("POST", r"/payments", "payment_create"),
        ("GET", r"/payments", "payment_list"),
        ("GET", r"/payments/(?P<id>[^/]+)", "payment_get"),
    ]

    def reset_state(self):
        self.tokens = set(getattr(self, "cli_tokens", []))
        self.customers = {}
        self.accounts = {}
        self.invoices = {}
        self.payments = {}
        self.violations = []
        self.ids = itertools.count(1)
        self.order = {}             # id -> creation order, for the keyset pages
        self.created = itertools.count(1)

    def add_arguments(self, ap):
        ap.add_argument("--token", action="append", default=[])
        ap.add_argument("--openapi", default=DEFAULT_OPENAPI)

    def configure(self, args):
        self.cli_tokens = args.token
        self.tokens.update(args.token)
        self.spec = OpenAPI(args.openapi)

    def seed(self, data):
        with self.lock:
            self.tokens.update(data.get("tokens", []))
            for kind, table, schema in (("customers", self.customers, "Customer"),
                                        ("accounts", self.accounts, "Account"),
                                        ("invoices", self.invoices, "Invoice")):
                for obj in data.get(kind, []):
                    errors = self.spec.validate({"$ref": "#/components/schemas/" + schema}, obj,
                                                "seed." + kind)
                    self.violations.extend(errors)
                    table[obj["id"]] = copy.deepcopy(obj)
                    self.order.setdefault((kind, obj["id"]), next(self.created))

    def state(self):
        return {"customers": list(self.customers.values()), "accounts": list(self.accounts.values()),
                "invoices": list(self.invoices.values()), "payments": list(self.payments.values())}

    def demo_seed(self):
        customers, accounts, invoices = [], [], []
        people = [("Acme Inc", "Acme Main", "billing@acme.example", "USD",
                   {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postalCode": "94105",
                    "country": "US"}),
                  ("Zürich Analytics AG", "Zürich Analytics", "ap@zuerich.example", "EUR",
                   {"line1": "Bahnhofstrasse 1", "city": "Zürich", "postalCode": "8001", "country": "CH"}),
                  ("Globex Ltd", "Globex EU", "finance@globex.example", "EUR",
                   {"line1": "2 Fleet St", "city": "London", "postalCode": "EC4Y", "country": "GB"})]
        for i, (company, name, email, currency, address) in enumerate(people, 1):
            cid, aid = "cus.demo.%d" % i, "acc.demo.%d" % i
            customers.append({"id": cid, "togaiCustomerId": cid, "name": company, "primaryEmail": email,
                              "billingAddress": "", "address": address, "status": "ACTIVE",
                              "createdAt": stamp(), "updatedAt": stamp()})
            accounts.append({"id": aid, "togaiAccountId": aid, "togaiCustomerId": cid, "customerId": cid,
                             "name": name, "invoiceCurrency": currency, "primaryEmail": email,
                             "address": address, "status": "ACTIVE", "netTermDays": 30,
                             "metadata": {}, "tags": []})
        lines = [[("API calls", 12500, 0.002), ("Storage GB-month", 12.5, 0.35)],
                 [("Auswertungen (Analysen)", 3, 199.99)],
                 [("Seats", 7, 49), ("Overage", 0.333, 3.03)],
                 [("API calls", 1000, 0.0015)],
                 [("Free tier", 1, 0)]]
        statuses = ["DUE", "DUE", "DUE", "DRAFT", "DUE"]
        owners = [1, 2, 3, 1, 3]
        for n, (items, status, owner) in enumerate(zip(lines, statuses, owners), 1):
            invoices.append(self.make_invoice("inv.demo.%d" % n, "acc.demo.%d" % owner,
                                              "cus.demo.%d" % owner, "INV-%04d" % n, status,
                                              people[owner - 1][3], items))
        return {"tokens": ["demo-togai-token"], "customers": customers, "accounts": accounts,
                "invoices": invoices}

    @staticmethod
    def make_invoice(iid, owner, customer, number, status, currency, items):
        from decimal import ROUND_HALF_UP, Decimal
        nodes, total = [], Decimal("0")
        for k, (desc, qty, rate) in enumerate(items):
            value = (Decimal(str(qty)) * Decimal(str(rate))).quantize(Decimal("0.01"), ROUND_HALF_UP)
            total += value
            nodes.append({"id": "%s.li.%d" % (iid, k), "description": desc, "type": "USAGE_RATE_CARD_AMOUNT",
                          "units": currency, "quantity": qty, "valuePerQuantity": rate,
                          "value": float(value), "lineItems": []})
        return {"id": iid, "customerId": customer, "ownerId": owner, "status": status,
                "invoiceClass": "INVOICE", "invoiceType": "STANDARD", "sequenceId": number,
                "invoiceDate": stamp(), "dueDate": stamp(), "startDate": stamp(), "endDate": stamp(),
                "generatedAt": stamp(), "updatedAt": stamp(), "netTermDays": 30,
                "totalAmount": float(total), "paidAmount": 0,
                "revenueInfo": {"id": iid + ".total", "description": "Total", "type": "TOTAL_AMOUNT",
                                "units": currency, "value": float(total), "lineItems": nodes}}

    # errors -----------------------------------------------------------------------
    def rate_limit_reply(self, retry_after):
        return Reply(429, {"message": "Too many requests"}, {"Retry-After": retry_after})

    def expired_token_reply(self):
        return Reply(401, {"message": "Unauthorized"})

    def error_reply(self, status):
        return Reply(status, {"message": "Internal server error"})

    def rate_key(self, req):
        return req.headers.get("authorization", "")

    def authenticate(self, req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] not in self.tokens:
            raise Reply(401, {"message": "Unauthorized"})

    # schema checks ------------------------------------------------------------------
    def body(self, req):
        data = req.json()
        schema = self.spec.request_schema(req.method, req.path)
        if schema:
            errors = self.spec.validate(schema, data, "request %s %s" % (req.method, req.path))
            if errors:
                with self.lock:
                    self.violations.extend(errors)
                raise Reply(400, {"message": "; ".join(errors)})
        return data

    def answer(self, req, status, body):
        schema = self.spec.response_schema(req.method, req.path, status)
        if schema:
            errors = self.spec.validate(schema, body, "response %s %s" % (req.method, req.path))
            with self.lock:
                self.violations.extend(errors)
        return status, body

    def control_schema_violations(self, req):
        with self.lock:
            seen = list(self.violations)
            if req.method == "DELETE":
                self.violations.clear()
            return 200, {"violations": seen}

    def control_invoice_status(self, req):
        data = req.json()
        with self.lock:
            inv = self.invoices.get(data.get("id"))
            if inv is None:
                return 404, {"message": "no such invoice"}
            inv["status"] = data["status"]
            if "paidAmount" in data:
                inv["paidAmount"] = data["paidAmount"]
            inv["updatedAt"] = stamp()
            return 200, inv

    def page(self, req, kind, items, shown=lambda o: o):
        size = req.query.get("pageSize", "50")
        if not size.isdigit() or not 1 <= int(size) <= 50:
            raise Reply(400, {"message": "pageSize must be between 1 and 50"})
        size = int(size)
        # the tables keep creation order (a re-seeded object keeps its place)
        token = req.query.get("nextToken")
        after = 0
        if token:
            try:
                last = json.loads(base64.b64decode(token.encode()).decode())["lastItemId"]
                after = self.order[(kind, last)]
            except (ValueError, KeyError, TypeError):
                raise Reply(400, {"message": "Invalid nextToken"})
        rest = [o for o in items if self.order.get((kind, o["id"]), 0) > after]
        out = {"data": [shown(o) for o in rest[:size]]}
        if len(rest) > size:
            out["nextToken"] = base64.b64encode(json.dumps(
                {"lastItemId": rest[size - 1]["id"], "pageSize": size, "sortOrder": "asc"}).encode()).decode()
        return out

    def get(self, table, req, what):
        obj = table.get(req.params["id"])
        if obj is None:
            raise Reply(404, {"message": "%s with id %s not found" % (what, req.params["id"])})
        return obj

    # handlers ---------------------------------------------------------------------------
    def customer_list(self, req):
        return self.answer(req, 200, self.page(req, "customers", list(self.customers.values())))

    def customer_get(self, req):
        return self.answer(req, 200, self.get(self.customers, req, "Customer"))

    def account_list(self, req):
        return self.answer(req, 200, self.page(req, "accounts", list(self.accounts.values())))

    def account_get(self, req):
        return self.answer(req, 200, self.get(self.accounts, req, "Account"))

    def account_patch(self, req):
        data = self.body(req)
        with self.lock:
            acc = self.get(self.accounts, req, "Account")
            for k, v in data.items():
                acc[k] = v  # metadata replaces the whole map, as Togai does
            return self.answer(req, 200, acc)

    STATUSES = ("DRAFT", "DUE", "PAID", "VOID", "UN_COLLECTIBLE", "REFUND_INITIATED",
                "REFUND_COMPLETED", "MERGED", "PARTIALLY_PAID")

    def invoice_list(self, req):
        q = req.query
        if "status" in q and q["status"] not in self.STATUSES:
            raise Reply(400, {"message": "Invalid status %s" % q["status"]})
        since = None
        if "start_time" in q:
            if not q["start_time"].isdigit():
                raise Reply(400, {"message": "start_time must be epoch milliseconds"})
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(q["start_time"]) / 1000.0))
        items = [i for i in self.invoices.values()
                 if ("status" not in q or i["status"] == q["status"])
                 and ("owner_id" not in q or i.get("ownerId") == q["owner_id"])
                 and ("customer_id" not in q or i.get("customerId") == q["customer_id"])
                 and (since is None or (i.get("startDate") or "") >= since)]
        # list entries are summaries: no line items
        return self.answer(req, 200, self.page(req, "invoices", items, lambda i: {
            k: v for k, v in i.items() if k not in ("revenueInfo", "usageInfo", "info", "metadata",
                                                   "autoAdvance")}))

    def invoice_get(self, req):
        return self.answer(req, 200, self.get(self.invoices, req, "Invoice"))

    def payment_create(self, req):
        data = self.body(req)
        with self.lock:
            if data["accountId"] not in self.accounts:
                raise Reply(400, {"message": "Account %s not found" % data["accountId"]})
            for rec in data.get("lineItemRecords", []):
                inv = self.invoices.get(rec.get("togaiId"))
                if rec.get("type") == "INVOICE" and inv is None:
                    raise Reply(400, {"message": "Invoice %s not found" % rec.get("togaiId")})
                if inv is not None:
                    inv["paidAmount"] = round(inv["paidAmount"] + float(rec.get("amount", 0)), 2)
                    inv["status"] = "PAID" if inv["paidAmount"] >= inv["totalAmount"] else "PARTIALLY_PAID"
                    inv["updatedAt"] = stamp()
            ref = data["externalPaymentReference"]
            payment = {"id": "pay.%d" % next(self.ids), "accountId": data["accountId"],
                       "currency": data["currency"], "totalAmount": data["totalAmount"],
                       # a single object despite the plural name: the spec wins over the name
                       "externalPaymentReferences": ref, "lineItemRecords": data["lineItemRecords"],
                       "version": 1, "createdBy": "api", "createdAt": stamp()}
            for k in ("description", "notes"):
                if k in data:
                    payment[k] = data[k]
            self.payments[payment["id"]] = payment
            self.order[("payments", payment["id"])] = next(self.created)
            return self.answer(req, 201, payment)

    def payment_list(self, req):
        return self.answer(req, 200, self.page(req, "payments", list(self.payments.values())))

    def payment_get(self, req):
        return self.answer(req, 200, self.get(self.payments, req, "Payment"))


if __name__ == "__main__":
    main(Togai(), sys.argv[1:])
