"""Mock Zoho Books API v3 and Zoho accounts server (OAuth), on one port.

Follows the reference notes on Zoho Books: envelopes {"code": 0, "message": ..., "<object>": ...},
`Authorization: Zoho-oauthtoken <token>`, `organization_id` on every call but GET /organizations,
page/per_page lists with page_context, HTTP 429 with code 44 over the per-organization limit.

Every request is checked against zohobooks-api.json (what Zoho's description of Books v3
documents): a query parameter it does not list is ignored, as a live service may, and recorded
(GET /_mock/undocumented, and "undocumented" in the request log); an enumerated sort column
outside the list, a missing required field, a text over its documented length and a value over
its documented maximum answer 400 code 2. Lists give the documented summaries only (no notes,
custom fields, addresses or persons in contacts; no line items in invoices; no invoices, customer
or modification time in payments), in each list's own default order; contact names and item names
are unique in an organization; a contact update adds every person without a contact_person_id.

Seed format (POST /_mock/seed, or --seed FILE):
  {"clients": {"<client id>": "<client secret>"},
   "grant_codes": {"<code>": {"client_id": "...", "scope": "..."}},
   "organizations": [{"organization_id": "...", "name": "...", "currency_code": "USD"}],
   "refresh_tokens": {"<refresh token>": "<client id>"},
   "taxes": [{"tax_id": "...", "tax_name": "VAT", "tax_percentage": 20}],
   "exchange_rates": [{"currency_code": "EUR", "effective_date": "2026-10-30", "rate": 1.08}],
   "custom_fields": [{"module": "invoices", "api_name": "cf_togai_id", "label": "Togai ID",
                      "customfield_id": "46000000012845", "index": 1, "unique": true}]}
Custom fields (modules contacts, invoices, customerpayments, creditnotes; every organization) are
named in a body by customfield_id, index or label; an object keeps each with its api_name. A
unique field refuses a value another object of the module holds (400, code 1001, "already
exists"). PUT on a module's collection is Zoho's upsert: X-Unique-Identifier-Key names a unique
field by its api_name (else 400 code 2), X-Unique-Identifier-Value the value; the object holding
it is updated (payments and credit notes: their plain fields only; the mock refuses a change of a
payment's amount or invoices, 400 code 2); none holds it: 404 code 1002, or with X-Upsert: true
the body is created. Whether Zoho stores the header's value in the new object is unsure:
upsert_stores_key (false) says whether the mock does; false, only what the body sets is kept.
GET /settings/currencies/{id}/exchangerates?from_date= answers the rate of that date or the closest
before it, as Zoho's description says; none when there is none.
A line item's tax_id must be one of the taxes; its tax is worked out line by line, half up to the
cent, as Zoho Books does with line-level tax rounding; the invoice carries taxes and tax_total.
Settings (POST /_mock/config): token_ttl_seconds (3600), oauth_error_status (200; 400 also seen),
mint_limit (10 tokens per refresh token per 10 minutes), item_id_required (true: a line item
without item_id is refused, as the description marks it required; false: accepted), payments_list_key
("customerpayments", as Zoho's SDKs read; or "customer_payments", as the description writes),
time_sorts_descending (true: time and date columns sort newest first; false: oldest first),
utc_offset ("+0000": the organization's time zone in every timestamp the mock writes),
upsert_stores_key (false: an upsert's create keeps only the custom fields its body sets),
clock_offset_s (0: seconds added to the mock's clock, for changes made "a while ago").
POST /_mock/expire_tokens: every access token minted so far expires at once.

Choices where the reference is unsure, and why:
  - duplicate contact name: 400, code 3062 "The customer "X" already exists." (Zoho's usual code)
  - duplicate invoice number: 400, code 1001 "Invoice "X" already exists."
  - missing organization_id: 400, code 2 "Invalid value passed for organization_id" (invalid-value code)
  - unknown organization: 401, code 57 (not authorized for this organization)
  - a payment applied to a draft or void invoice, or more than its balance, or applying more than
    its amount: 400 (codes 24016, 24017, 24018); Zoho Books refuses each in its UI
  - write-off: only of a sent invoice with a balance (else 400, code 24019); the balance becomes
    write_off_amount, the status paid (how the live service shows a written-off invoice is unsure)
  - void: refused (400, code 24020) while payments or credits are applied, as Zoho Books' UI asks
    to delete them first
  - an invoice update: refused (400, code 24024) when its new total is below what was paid,
    credited and written off on it; its balance is the new total less those
  - credit notes: numbered CN-nnnnn unless ignore_auto_number_generation=true (then
    creditnote_number is required); no adjustment (the description has none: ignored); applying
    credit takes {"invoices": [{invoice_id, amount_applied}]} (Zoho's example) or the top-level
    invoice_id and amount_applied (the description's required fields); more than the credit
    note's balance or the invoice's balance is refused (400, codes 24021, 24022); a refund needs
    a date and an amount within the balance (24023); at balance 0 a credit note is closed
"""

import datetime
import itertools
import json
import os
import re
import secrets
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from mockserver import App, Reply, main, no_auth

API = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zohobooks-api.json")
TIME_COLUMNS = ("created_time", "last_modified_time", "date", "due_date")


def stamp(offset="+0000", at=None):
    """A Zoho timestamp in the organization's time zone: 2026-11-23T15:45:00+0530."""
    sign = -1 if offset[0] == "-" else 1
    delta = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
    t = datetime.datetime.fromtimestamp(at if at is not None else time.time(),
                                        datetime.timezone(delta))
    return t.strftime("%Y-%m-%dT%H:%M:%S") + offset


def parse_time(text):
    """A Zoho timestamp (any offset) as an aware datetime; None when it is not one."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})([+-]\d{2}):?(\d{2})$", text or "")
    if not m:
        return None
    return datetime.datetime.fromisoformat("%sT%s%s:%s" % m.groups())


class ApiTable:
    """zohobooks-api.json: the documented query parameters, bodies and list shapes."""

    def __init__(self, path=API):
        with open(path) as f:
            self.ops = json.load(f)["operations"]
        self.templates = []
        for key in self.ops:
            method, template = key.split(" ", 1)
            rx = re.compile("^/books/v3" + template.replace("{id}", "[^/]+") + "$")
            self.templates.append((template.count("{"), method, rx, key))
        # literal paths before templated ones
        self.templates.sort(key=lambda t: (t[0], t[3]))

    def operation(self, method, path):
        for _, m, rx, key in self.templates:
            if m == method and rx.match(path):
                return key, self.ops[key]
        return None, None


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ZohoBooks(App):
    name = "zohobooks"
    routes = [
        ("POST", r"/oauth/v2/token", "oauth_token"),
        ("POST", r"/oauth/v2/token/revoke", "oauth_revoke"),
        ("GET", r"/books/v3/organizations", "organizations"),
        ("GET", r"/books/v3/settings/currencies", "currencies"),
        ("GET", r"/books/v3/settings/taxes", "taxes_list"),
        ("GET", r"/books/v3/settings/currencies/(?P<id>[^/]+)/exchangerates", "exchange_rates"),
        ("POST", r"/books/v3/contacts", "contact_create"),
        ("PUT", r"/books/v3/(?P<module>contacts|invoices|customerpayments|creditnotes)", "upsert"),
        ("GET", r"/books/v3/contacts", "contact_list"),
        ("GET", r"/books/v3/contacts/(?P<id>[^/]+)", "contact_get"),
        ("PUT", r"/books/v3/contacts/(?P<id>[^/]+)", "contact_update"),
        ("POST", r"/books/v3/invoices", "invoice_create"),
        ("GET", r"/books/v3/invoices", "invoice_list"),
        ("GET", r"/books/v3/invoices/(?P<id>[^/]+)", "invoice_get"),
        ("PUT", r"/books/v3/invoices/(?P<id>[^/]+)", "invoice_update"),
        ("POST", r"/books/v3/invoices/status/sent", "invoices_mark_sent"),
        ("POST", r"/books/v3/invoices/(?P<id>[^/]+)/status/(?P<status>sent|void)", "invoice_status"),
        ("POST", r"/books/v3/invoices/(?P<id>[^/]+)/writeoff", "invoice_write_off"),
        ("GET", r"/books/v3/invoices/(?P<id>[^/]+)/payments", "invoice_payments"),
        ("POST", r"/books/v3/invoices/(?P<id>[^/]+)/credits", "invoice_apply_credits"),
        ("POST", r"/books/v3/customerpayments", "payment_create"),
        ("GET", r"/books/v3/customerpayments", "payment_list"),
        ("GET", r"/books/v3/customerpayments/(?P<id>[^/]+)", "payment_get"),
        ("DELETE", r"/books/v3/customerpayments/(?P<id>[^/]+)", "payment_delete"),
        ("POST", r"/books/v3/creditnotes", "creditnote_create"),
        ("GET", r"/books/v3/creditnotes", "creditnote_list"),
        ("GET", r"/books/v3/creditnotes/(?P<id>[^/]+)", "creditnote_get"),
        ("POST", r"/books/v3/creditnotes/(?P<id>[^/]+)/invoices", "creditnote_apply"),
        ("GET", r"/books/v3/creditnotes/(?P<id>[^/]+)/refunds", "creditnote_refunds"),
        ("POST", r"/books/v3/creditnotes/(?P<id>[^/]+)/refunds", "creditnote_refund"),
        ("POST", r"/books/v3/items", "item_create"),
        ("GET", r"/books/v3/items", "item_list"),
        ("GET", r"/books/v3/items/(?P<id>[^/]+)", "item_get"),
        ("POST", r"/books/v3/settings/webhooks", "webhook_create"),
    ]

    def default_config(self):
        return {"rate_limit_per_minute": None, "latency_ms": 0, "token_ttl_seconds": 3600,
                "oauth_error_status": 200, "mint_limit": 10, "item_id_required": True,
                "payments_list_key": "customerpayments", "time_sorts_descending": True,
                "utc_offset": "+0000", "clock_offset_s": 0, "upsert_stores_key": False}

    def reset_state(self):
        self.clients = {}
        self.grant_codes = {}
        self.refresh_tokens = {}      # refresh token -> client id
        self.access_tokens = {}       # access token -> expiry (monotonic)
        self.mints = {}               # refresh token -> [times]
        self.orgs = []
        self.contacts = {}            # id -> contact (with organization_id)
        self.contact_by_name = {}     # (organization, name) -> contact: creates cost O(1)
        self.invoices = {}
        self.payments = {}
        self.creditnotes = {}
        self.items = {}
        self.taxes = {}               # tax_id -> {tax_id, tax_name, tax_percentage}
        self.rates = []               # {currency_code, effective_date, rate}
        self.webhooks = {}
        self.field_defs = []          # custom fields: module, api_name, label, customfield_id, unique
        self.undocumented = []        # (operation, parameter) sent though not documented
        self.ids = itertools.count(460000000000001)
        self.numbers = itertools.count(1)

    api = ApiTable()

    def now(self):
        return stamp(self.config["utc_offset"], time.time() + float(self.config["clock_offset_s"]))

    def add_arguments(self, ap):
        pass

    def configure(self, args):
        pass

    def seed(self, data):
        with self.lock:
            self.clients.update(data.get("clients", {}))
            self.grant_codes.update(data.get("grant_codes", {}))
            self.refresh_tokens.update(data.get("refresh_tokens", {}))
            self.rates.extend(data.get("exchange_rates", []))
            for f in data.get("custom_fields", []):
                self.field_defs.append(dict(f, customfield_id=str(f["customfield_id"])))
            for tax in data.get("taxes", []):
                self.taxes[str(tax["tax_id"])] = dict(tax, tax_id=str(tax["tax_id"]))
            for org in data.get("organizations", []):
                org = dict({"currency_code": "USD", "is_default_org": not self.orgs,
                            "time_zone": "Asia/Kolkata"}, **org)
                self.orgs.append(org)

    def demo_seed(self):
        return {"clients": {"1000.DEMOCLIENT": "demo-client-secret"},
                "grant_codes": {"demo-grant-code": {"client_id": "1000.DEMOCLIENT",
                                                    "scope": "ZohoBooks.fullaccess.all"}},
                "organizations": [{"organization_id": "60000000001", "name": "Demo Books Inc",
                                   "currency_code": "USD"}]}

    def state(self):
        return {"organizations": self.orgs, "contacts": list(self.contacts.values()),
                "invoices": list(self.invoices.values()), "payments": list(self.payments.values()),
                "creditnotes": list(self.creditnotes.values()),
                "items": list(self.items.values()), "webhooks": list(self.webhooks.values()),
                "refresh_tokens": list(self.refresh_tokens), "access_tokens": len(self.access_tokens)}

    # errors ---------------------------------------------------------------------
    def fail(self, status, code, message):
        return Reply(status, {"code": code, "message": message})

    def rate_limit_reply(self, retry_after):
        return Reply(429, {"code": 44, "message": "You have exceeded the maximum number of requests "
                           "allowed per minute."}, {"Retry-After": retry_after})

    def daily_limit_reply(self):
        # the day's cap: no Retry-After (the reference: 429, code unsure; 44/45 seen)
        return Reply(429, {"code": 45, "message": "You have reached the maximum number of API calls "
                           "allowed for your organization per day."})

    def concurrency_limit_reply(self):
        return Reply(429, {"code": 44, "message": "You have exceeded the maximum number of concurrent "
                           "requests allowed."})

    def expired_token_reply(self):
        return self.fail(401, 14, "Invalid OAuth access token.")

    def error_reply(self, status):
        return self.fail(status, 1, "Internal server error. Please try again later.")

    def rate_key(self, req):
        return req.query.get("organization_id", "-")

    # OAuth ----------------------------------------------------------------------
    def oauth_error(self, error, description=None):
        body = {"error": error}
        if description:
            body["error_description"] = description
        return Reply(self.config["oauth_error_status"], body)

    def mint(self, refresh_token):
        token = "1000." + secrets.token_hex(16)
        self.access_tokens[token] = time.monotonic() + float(self.config["token_ttl_seconds"])
        return token

    @no_auth
    def oauth_token(self, req):
        f = req.form()
        with self.lock:
            cid, secret = f.get("client_id"), f.get("client_secret")
            if cid not in self.clients:
                raise self.oauth_error("invalid_client")
            if self.clients[cid] != secret:
                raise self.oauth_error("invalid_client_secret")
            grant = f.get("grant_type")
            if grant == "authorization_code":
                code = self.grant_codes.pop(f.get("code"), None)
                if code is None or code.get("client_id") != cid:
                    raise self.oauth_error("invalid_code")
                refresh = "1000." + secrets.token_hex(20)
                self.refresh_tokens[refresh] = cid
                access = self.mint(refresh)
                return 200, {"access_token": access, "refresh_token": refresh,
                             "scope": code.get("scope", "ZohoBooks.fullaccess.all"),
                             "api_domain": "%s://127.0.0.1:%d" % (self.scheme, self.port),
                             "token_type": "Bearer", "expires_in": int(self.config["token_ttl_seconds"])}
            if grant == "refresh_token":
                refresh = f.get("refresh_token")
                if self.refresh_tokens.get(refresh) != cid:
                    raise self.oauth_error("invalid_code")
                times = [t for t in self.mints.get(refresh, []) if time.monotonic() - t < 600]
                if len(times) >= int(self.config["mint_limit"]):
                    raise Reply(400, {"error": "Access Denied", "error_description":
                                      "You have made too many requests continuously. "
                                      "Please try again after some time."})
                times.append(time.monotonic())
                self.mints[refresh] = times
                return 200, {"access_token": self.mint(refresh),
                             "api_domain": "%s://127.0.0.1:%d" % (self.scheme, self.port),
                             "token_type": "Bearer", "expires_in": int(self.config["token_ttl_seconds"])}
            raise self.oauth_error("unsupported_grant_type")

    @no_auth
    def oauth_revoke(self, req):
        with self.lock:
            self.refresh_tokens.pop(req.form().get("token"), None)
        return 200, {"status": "success"}

    # API auth -------------------------------------------------------------------
    def authenticate(self, req):
        if not req.path.startswith("/books/v3/"):
            return
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Zoho-oauthtoken "):
            raise self.fail(401, 14, "Invalid OAuth access token.")
        expiry = self.access_tokens.get(auth[len("Zoho-oauthtoken "):])
        if expiry is None or expiry < time.monotonic():
            raise self.fail(401, 14, "Invalid OAuth access token.")
        if req.path != "/books/v3/organizations":
            org = req.query.get("organization_id")
            if not org:
                raise self.fail(400, 2, "Invalid value passed for organization_id")
            if org not in [o["organization_id"] for o in self.orgs]:
                raise self.fail(401, 57, "You are not authorized to perform this operation")
            req.org = org

    # what the description documents ---------------------------------------------------
    def check_request(self, req):
        """Checks the query against the table: undocumented parameters are recorded and
        ignored, documented ones that break a documented rule are refused."""
        key, op = self.api.operation(req.method, req.path)
        req.op = op or {}
        if op is None:
            return
        known = set(op.get("query", [])) | {"organization_id"}
        odd = sorted(k for k in req.query if k not in known)
        if odd:
            with self.lock:
                self.undocumented.extend({"operation": key, "parameter": k} for k in odd)
                if getattr(req, "log_entry", None) is not None:
                    req.log_entry["undocumented"] = odd
            req.query = {k: v for k, v in req.query.items() if k in known}
        for name, limit in op.get("max_length", {}).items():
            if len(req.query.get(name, "")) > limit:
                raise self.fail(400, 2, "Invalid value passed for %s" % name)
        if "sort_column" in req.query and op.get("sort_columns") is not None \
                and req.query["sort_column"] not in op["sort_columns"]:
            raise self.fail(400, 2, "Invalid value passed for sort_column")
        for name in ("page", "per_page"):
            if name in req.query and not req.query[name].isdigit():
                raise self.fail(400, 2, "Invalid value passed for %s" % name)

    def check_body(self, req, body):
        """The documented rules of a create or update body."""
        op = getattr(req, "op", None) or {}
        for name in op.get("required", []):
            if body.get(name) in (None, "", []):
                raise self.fail(400, 2, "Invalid value passed for %s: it is required" % name)
        for name, limit in op.get("max_length", {}).items():
            if len(str(body.get(name) or "")) > limit:
                raise self.fail(400, 2, "Invalid value passed for %s: at most %d characters"
                                % (name, limit))
        for name, limit in op.get("maximum", {}).items():
            v = body.get(name)
            if isinstance(v, (int, float)) and v > limit:
                raise self.fail(400, 2, "Invalid value passed for %s: at most %s" % (name, limit))
        for line in body.get("line_items") or []:
            for name in op.get("line_required", []):
                if self.config["item_id_required"] and not line.get(name):
                    raise self.fail(400, 2, "Invalid value passed for line_items: %s is required"
                                    % name)
            for name, limit in op.get("line_max_length", {}).items():
                if len(str(line.get(name) or "")) > limit:
                    raise self.fail(400, 2, "Invalid value passed for line_items: %s is at most "
                                    "%d characters" % (name, limit))
        keys = op.get("custom_field_keys")
        for field in body.get("custom_fields") or []:
            if keys and not any(k in field for k in keys):
                raise self.fail(400, 2, "Invalid value passed for custom_fields: each needs %s"
                                % " or ".join(keys))
        for person in body.get("contact_persons") or []:
            for name, limit in op.get("person_max_length", {}).items():
                if len(str(person.get(name) or "")) > limit:
                    raise self.fail(400, 2, "Invalid value passed for contact_persons: %s is at "
                                    "most %d characters" % (name, limit))

    def control_expire_tokens(self, req):
        """Every access token minted so far expires now (as an hour passing would)."""
        with self.lock:
            for t in self.access_tokens:
                self.access_tokens[t] = 0.0
            return 200, {"expired": len(self.access_tokens)}

    def control_undocumented(self, req):
        with self.lock:
            if req.method == "DELETE":
                self.undocumented.clear()
            return 200, {"undocumented": list(self.undocumented)}

    def ok(self, message, **objects):
        body = {"code": 0, "message": message}
        body.update(objects)
        return body

    def summary(self, req, obj):
        fields = req.op.get("entry_fields")
        return {k: obj[k] for k in fields if k in obj} if fields else self.public(obj)

    def order(self, req, items):
        """The list's own order, or the documented sort column asked for."""
        column = req.query.get("sort_column") or req.op.get("default_sort")
        if not column:
            return items
        descending = column in TIME_COLUMNS and self.config["time_sorts_descending"]

        def key(o):
            v = o.get(column)
            t = parse_time(v) if isinstance(v, str) else None
            if t is not None:
                return (0, t.timestamp(), o.get("_seq", 0))
            if isinstance(v, (int, float)):
                return (0, float(v), o.get("_seq", 0))
            return (1, str(v or "").lower(), o.get("_seq", 0))
        return sorted(items, key=key, reverse=descending)

    def page(self, req, items, key):
        items = [self.summary(req, o) for o in self.order(req, items)]
        page = max(1, int(req.query.get("page", 1)))
        per_page = min(200, max(1, int(req.query.get("per_page", 200))))
        chunk = items[(page - 1) * per_page:page * per_page]
        column = req.query.get("sort_column") or req.op.get("default_sort") or ""
        return self.ok("success", **{key: chunk, "page_context": {
            "page": page, "per_page": per_page, "has_more_page": page * per_page < len(items),
            "sort_column": column, "applied_filter": req.query.get("filter_by", "Status.All"),
            "sort_order": "D" if column in TIME_COLUMNS and self.config["time_sorts_descending"]
            else "A"}})

    def text_filter(self, q, obj, name, field=None):
        """name, name_startswith and name_contains, as the lists document them."""
        v = str(obj.get(field or name) or "").lower()
        if name in q and v != q[name].lower():
            return False
        if name + "_startswith" in q and not v.startswith(q[name + "_startswith"].lower()):
            return False
        if name + "_contains" in q and q[name + "_contains"].lower() not in v:
            return False
        return True

    def organizations(self, req):
        return 200, self.ok("success", organizations=self.orgs)

    CURRENCIES = ["USD", "EUR", "INR", "GBP", "JPY", "CHF"]

    def currency_code(self, currency_id):
        for i, c in enumerate(self.CURRENCIES):
            if str(460000000000000 + i) == str(currency_id):
                return c
        raise self.fail(400, 2, "Invalid value passed for currency_id")

    def taxes_list(self, req):
        return 200, self.page(req, list(self.taxes.values()), "taxes")

    def exchange_rates(self, req):
        code = self.currency_code(req.params["id"])
        if code is None:
            raise self.fail(404, 1002, "Currency does not exist.")
        day = req.query.get("from_date")
        found = sorted((r for r in self.rates if r["currency_code"] == code
                        and (day is None or r["effective_date"] <= day)), key=lambda r: r["effective_date"])
        out = [dict(found[-1], currency_id=req.params["id"], exchange_rate_id=str(next(self.ids)))] if found else []
        return 200, self.ok("success", exchange_rates=out)

    def currencies(self, req):
        return 200, self.ok("success", currencies=[
            {"currency_id": str(460000000000000 + i), "currency_code": c, "currency_symbol": c}
            for i, c in enumerate(self.CURRENCIES)])

    def new_object(self, **fields):
        """An object with its id, a creation order (ties in sorts) and both timestamps."""
        now = self.now()
        return dict(fields, _seq=next(self.ids), created_time=now, last_modified_time=now)

    def public(self, obj):
        return {k: v for k, v in obj.items() if k != "organization_id" and not k.startswith("_")}

    def find(self, table, req, what):
        obj = table.get(req.params["id"])
        if obj is None or obj["organization_id"] != req.org:
            raise self.fail(404, 1002, "%s does not exist." % what)
        return obj

    # contacts -------------------------------------------------------------------
    def check_contact(self, req, body, current=None):
        self.check_body(req, body)
        name = body.get("contact_name", current and current["contact_name"])
        other = self.contact_by_name.get((req.org, name))
        if other is not None and other is not current:
            raise self.fail(400, 3062, 'The customer "%s" already exists.' % name)

    def persons(self, contact, given):
        """Persons with an id replace theirs; as in Zoho Books, one without is added."""
        persons = contact.setdefault("contact_persons", [])
        for p in given or []:
            p = dict(p)
            same = [x for x in persons if p.get("contact_person_id")
                    and x["contact_person_id"] == p["contact_person_id"]]
            if p.get("contact_person_id") and not same:
                raise self.fail(400, 2, "Invalid value passed for contact_person_id")
            if same:
                same[0].update(p)
            else:
                p["contact_person_id"] = str(next(self.ids))
                persons.append(p)
        primary = [x for x in persons if x.get("is_primary_contact")] or persons[:1]
        for x in persons:
            x["is_primary_contact"] = x is primary[0]
        if primary:
            for k in ("first_name", "last_name", "email", "phone"):
                contact[k] = primary[0].get(k, "")
            contact["primary_contact_id"] = primary[0]["contact_person_id"]

    # custom fields -----------------------------------------------------------------
    MODULES = {"contacts": ("contacts", "contact_id", "Contact"),
               "invoices": ("invoices", "invoice_id", "Invoice"),
               "customerpayments": ("payments", "payment_id", "Payment"),
               "creditnotes": ("creditnotes", "creditnote_id", "Credit note")}

    def field_def(self, module, entry=None, api_name=None):
        """The organization's custom field a body entry (or an api_name) names, if defined."""
        for d in self.field_defs:
            if d["module"] != module:
                continue
            if api_name is not None and d["api_name"] == api_name:
                return d
            if entry is not None and (
                    (entry.get("customfield_id") is not None
                     and str(entry["customfield_id"]) == d["customfield_id"])
                    or (entry.get("index") is not None and entry["index"] == d.get("index"))
                    or (entry.get("label") is not None and entry["label"] == d["label"])):
                return d
        return None

    def check_unique(self, module, obj, given, org):
        """Refuses a body whose unique field holds a value another object holds (obj: the
        object it changes, None for a create); before anything changes."""
        table = getattr(self, self.MODULES[module][0])
        for f in given or []:
            d = self.field_def(module, entry=f)
            value = str(f.get("value", ""))
            if d is None or not d.get("unique") or not value:
                continue
            for other in table.values():
                if other is not obj and other["organization_id"] == org \
                        and self.field_value(other, d) == value:
                    raise self.fail(400, 1001, 'The value "%s" already exists for the field %s.'
                                    % (value, d["label"]))

    def defined_fields(self, module, obj, given, org):
        """The defined custom fields of a body set on an object, unique values checked first;
        returns the entries no definition names."""
        self.check_unique(module, obj, given, org)
        kept, rest = [], []
        for f in given or []:
            d = self.field_def(module, entry=f)
            if d is None:
                rest.append(f)
            else:
                kept.append((d, str(f.get("value", ""))))
        fields = obj.setdefault("custom_fields", [])
        for d, value in kept:
            fields[:] = [x for x in fields if x.get("customfield_id") != d["customfield_id"]]
            entry = {"customfield_id": d["customfield_id"], "label": d["label"],
                     "api_name": d["api_name"], "value": value}
            if d.get("index") is not None:
                entry["index"] = d["index"]
            fields.append(entry)
        return rest

    def field_value(self, obj, d):
        for x in obj.get("custom_fields") or []:
            if x.get("customfield_id") == d["customfield_id"]:
                return x.get("value")
        return None

    def set_fields(self, module, obj, body, org):
        """A body's custom fields on an object that is not a contact: defined ones as Zoho
        keeps them, others as given."""
        rest = self.defined_fields(module, obj, body.get("custom_fields"), org)
        obj.setdefault("custom_fields", []).extend(rest)

    def upsert(self, req):
        """PUT on a collection: the object whose unique field holds the value, updated or made."""
        module = req.params["module"]
        key_name = req.headers.get("x-unique-identifier-key")
        value = req.headers.get("x-unique-identifier-value")
        with self.lock:
            d = self.field_def(module, api_name=key_name) if key_name else None
            if d is None or not d.get("unique") or not value:
                raise self.fail(400, 2, "Invalid value passed for X-Unique-Identifier-Key")
            table_name, id_key, what = self.MODULES[module]
            table = getattr(self, table_name)
            found = [o for o in table.values() if o["organization_id"] == req.org
                     and self.field_value(o, d) == value]
            if found:
                req.params["id"] = found[0][id_key]
                return {"contacts": self.contact_update, "invoices": self.invoice_update,
                        "customerpayments": self.payment_update_found,
                        "creditnotes": self.creditnote_update_found}[module](req)
            if str(req.headers.get("x-upsert", "")).lower() != "true":
                raise self.fail(404, 1002, "%s does not exist." % what)
            status, answer = {"contacts": self.contact_create, "invoices": self.invoice_create,
                              "customerpayments": self.payment_create,
                              "creditnotes": self.creditnote_create}[module](req)
            made = table[answer[{"customerpayments": "payment", "creditnotes": "creditnote"}.get(
                module, module[:-1])][id_key]]
            if self.config["upsert_stores_key"] and self.field_value(made, d) is None:
                self.defined_fields(module, made, [{"customfield_id": d["customfield_id"],
                                                    "value": value}], req.org)
            return status, self.ok(answer["message"], **{k: self.public(made) if isinstance(v, dict) else v
                                                         for k, v in answer.items()
                                                         if k not in ("code", "message")})

    def payment_update_found(self, req):
        """An upsert's payment found: its plain fields change, never its money."""
        body = req.json()
        payment = self.find(self.payments, req, "Payment")
        wanted = sorted((str(a.get("invoice_id")), money(a.get("amount_applied", 0)))
                        for a in body.get("invoices", []))
        has = sorted((a["invoice_id"], money(a["amount_applied"])) for a in payment["invoices"])
        if money(body.get("amount", 0)) != money(payment.get("amount", 0)) or wanted != has:
            raise self.fail(400, 2, "The mock does not change a payment's amount or invoices.")
        self.set_fields("customerpayments", payment, body, req.org)
        for k in ("date", "reference_number", "description", "payment_mode"):
            if k in body:
                payment[k] = body[k]
        return 200, self.ok("The payment has been updated.", payment=self.public(payment))

    def creditnote_update_found(self, req):
        """An upsert's credit note found: its plain fields change, not its lines."""
        body = req.json()
        note = self.find(self.creditnotes, req, "Credit note")
        self.set_fields("creditnotes", note, body, req.org)
        for k in ("date", "reference_number", "notes"):
            if k in body:
                note[k] = body[k]
        note["last_modified_time"] = self.now()
        return 200, self.ok("Credit note information has been updated.", creditnote=self.public(note))

    def custom_fields(self, contact, given, org):
        """Custom fields: defined ones by customfield_id, index or label; others by index (1
        to 10) or label, the label naming the index."""
        given = self.defined_fields("contacts", contact, given, org)
        fields = contact.setdefault("custom_fields", [])
        for f in given or []:
            index = f.get("index")
            if index is None:
                m = re.match(r"^cf(\d+)$", str(f.get("label", "")))
                index = int(m.group(1)) if m else len(fields) + 1
            if not isinstance(index, int) or not 1 <= index <= 10:
                raise self.fail(400, 2, "Invalid value passed for custom_fields: index 1 to 10")
            fields[:] = [x for x in fields if x["index"] != index]
            fields.append({"index": index, "label": f.get("label", "cf%d" % index),
                           "value": str(f.get("value", ""))})

    def contact_create(self, req):
        body = req.json()
        with self.lock:
            self.check_contact(req, body)
            self.check_unique("contacts", None, body.get("custom_fields"), req.org)
            cid = str(next(self.ids))
            org_currency = [o for o in self.orgs if o["organization_id"] == req.org][0]["currency_code"]
            fields = {k: v for k, v in body.items() if k not in ("contact_persons", "custom_fields")}
            contact = self.new_object(**dict(
                fields, contact_id=cid, organization_id=req.org,
                currency_code=self.currency_code(body["currency_id"])
                if body.get("currency_id") else org_currency,
                contact_type=body.get("contact_type", "customer"), status="active",
                outstanding_receivable_amount=0.0))
            self.persons(contact, body.get("contact_persons"))
            self.custom_fields(contact, body.get("custom_fields"), req.org)
            self.contacts[cid] = contact
            self.contact_by_name[(req.org, contact["contact_name"])] = contact
            return 201, self.ok("The contact has been added.", contact=self.public(contact))

    def contact_get(self, req):
        return 200, self.ok("success", contact=self.public(self.find(self.contacts, req, "Contact")))

    def contact_update(self, req):
        body = req.json()
        with self.lock:
            contact = self.find(self.contacts, req, "Contact")
            self.check_contact(req, body, contact)
            self.check_unique("contacts", contact, body.get("custom_fields"), req.org)
            if body.get("currency_id"):
                contact["currency_code"] = self.currency_code(body["currency_id"])
            self.contact_by_name.pop((req.org, contact["contact_name"]), None)
            contact.update({k: v for k, v in body.items()
                            if k not in ("contact_persons", "custom_fields")})
            self.persons(contact, body.get("contact_persons"))
            self.custom_fields(contact, body.get("custom_fields"), req.org)
            self.contact_by_name[(req.org, contact["contact_name"])] = contact
            contact["last_modified_time"] = self.now()
            return 200, self.ok("Contact information has been saved.", contact=self.public(contact))

    def rename_contact(self, contact_id, name):
        """What a Zoho user does in the web app (tests call it through /_mock/rename)."""
        with self.lock:
            c = self.contacts[contact_id]
            self.contact_by_name.pop((c["organization_id"], c["contact_name"]), None)
            c["contact_name"] = name
            c["last_modified_time"] = self.now()
            self.contact_by_name[(c["organization_id"], name)] = c

    def control_rename(self, req):
        b = req.json()
        self.rename_contact(b["contact_id"], b["contact_name"])
        return 200, {"ok": True}

    def contact_list(self, req):
        q = req.query

        def matches(c):
            if c["organization_id"] != req.org:
                return False
            if "contact_type" in q and c.get("contact_type") != q["contact_type"]:
                return False
            for key in ("contact_name", "company_name", "first_name", "last_name", "email", "phone"):
                if not self.text_filter(q, c, key):
                    return False
            if "search_text" in q:
                # the contact name or the notes, as documented: nothing else
                hay = [c.get("contact_name"), c.get("notes")]
                if not any(q["search_text"].lower() in str(h).lower() for h in hay if h):
                    return False
            return True

        items = [c for c in self.contacts.values() if matches(c)]
        return 200, self.page(req, items, "contacts")

    # webhooks (the reference notes: likely) -----------------------------------------
    def webhook_create(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            if not re.match(r"^[A-Za-z0-9]{12,50}$", str(body.get("secret") or "")):
                raise self.fail(400, 2, "Invalid value passed for secret: 12 to 50 letters and digits")
            if not isinstance(body.get("events"), list) or not body["events"]:
                raise self.fail(400, 2, "Invalid value passed for events")
            hook = {"webhook_id": str(next(self.ids)), "organization_id": req.org, "url": body["url"],
                    "events": body["events"], "secret": body["secret"]}
            self.webhooks[hook["webhook_id"]] = hook
            return 201, self.ok("The webhook has been created.",
                                webhook={k: v for k, v in hook.items() if k != "secret"})

    # items ----------------------------------------------------------------------
    def item_create(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            for it in self.items.values():
                if it["organization_id"] == req.org and it["name"].lower() == body["name"].lower():
                    raise self.fail(400, 1001, 'The item "%s" already exists.' % body["name"])
            iid = str(next(self.ids))
            item = self.new_object(**dict(body, item_id=iid, organization_id=req.org,
                                          status="active"))
            self.items[iid] = item
            return 201, self.ok("The item has been added.", item=self.public(item))

    def item_get(self, req):
        return 200, self.ok("success", item=self.public(self.find(self.items, req, "Item")))

    def item_list(self, req):
        q = req.query
        items = [i for i in self.items.values() if i["organization_id"] == req.org
                 and self.text_filter(q, i, "name") and self.text_filter(q, i, "description")
                 and ("search_text" not in q or q["search_text"].lower()
                      in (i.get("name", "") + " " + i.get("description", "")).lower())]
        return 200, self.page(req, items, "items")

    def customer_of(self, req, body):
        customer = self.contacts.get(str(body.get("customer_id")))
        if customer is None or customer["organization_id"] != req.org:
            raise self.fail(400, 2, "Invalid value passed for customer_id")
        return customer

    def check_items(self, req, lines):
        for li in lines:
            item = self.items.get(str(li.get("item_id")))
            if li.get("item_id") and (item is None or item["organization_id"] != req.org):
                raise self.fail(400, 2, "Invalid value passed for item_id")

    def priced_lines(self, lines):
        """Line items with their totals, the sum, and the tax of each tax_id: line by line,
        half up to the cent, as Zoho Books does with line-level tax rounding."""
        items, total, taxes = [], Decimal("0"), {}
        for li in lines:
            rate = Decimal(str(li.get("rate", 0)))
            qty = Decimal(str(li.get("quantity", 1)))
            item_total = money(rate * qty - Decimal(str(li.get("discount", 0) or 0)))
            total += item_total
            if li.get("tax_id"):
                tax = self.taxes.get(str(li["tax_id"]))
                if tax is None:
                    raise self.fail(400, 2, "Invalid value passed for tax_id")
                amount = money(item_total * Decimal(str(tax["tax_percentage"])) / 100)
                taxes[tax["tax_id"]] = taxes.get(tax["tax_id"], Decimal("0")) + amount
            items.append(dict(li, line_item_id=str(next(self.ids)), item_total=float(item_total)))
        return items, total, taxes

    def tax_list(self, taxes):
        return [{"tax_id": k, "tax_name": self.taxes[k]["tax_name"], "tax_amount": float(v)}
                for k, v in taxes.items()]

    # invoices -------------------------------------------------------------------
    def invoice_create(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            customer = self.customer_of(req, body)
            lines = body.get("line_items") or []
            self.check_items(req, lines)
            self.check_unique("invoices", None, body.get("custom_fields"), req.org)
            if req.query.get("ignore_auto_number_generation") == "true" and body.get("invoice_number"):
                number = body["invoice_number"]
            else:
                number = "INV-%06d" % next(self.numbers)
            for inv in self.invoices.values():
                if inv["organization_id"] == req.org and inv["invoice_number"] == number:
                    raise self.fail(400, 1001, 'Invoice "%s" already exists.' % number)
            items, total, taxes = self.priced_lines(lines)
            sub_total = total
            tax_total = sum(taxes.values(), Decimal("0"))
            # the invoice-level adjustment (discounts, rounding) is added to the total as given
            adjustment = Decimal(str(body.get("adjustment", 0) or 0))
            total = money(total + tax_total + adjustment)
            iid = str(next(self.ids))
            inv = self.new_object(**dict(
                body, invoice_id=iid, invoice_number=number, organization_id=req.org,
                status="draft", line_items=items, sub_total=float(sub_total), total=float(total),
                tax_total=float(tax_total), taxes=self.tax_list(taxes),
                balance=float(total), payment_made=0.0, credits_applied=0.0, currency_code=customer.get("currency_code", "USD"),
                customer_name=customer["contact_name"], custom_fields=[]))
            self.set_fields("invoices", inv, body, req.org)
            self.invoices[iid] = inv
            customer["outstanding_receivable_amount"] = float(
                money(customer.get("outstanding_receivable_amount", 0)) + total)
            return 201, self.ok("The invoice has been created.", invoice=self.public(inv))

    def invoice_update(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            inv = self.find(self.invoices, req, "Invoice")
            if str(body.get("customer_id")) != inv["customer_id"]:
                raise self.fail(400, 2, "Invalid value passed for customer_id")
            self.check_unique("invoices", inv, body.get("custom_fields"), req.org)
            self.check_items(req, body["line_items"])
            items, sub_total, taxes = self.priced_lines(body["line_items"])
            tax_total = sum(taxes.values(), Decimal("0"))
            total = money(sub_total + tax_total + Decimal(str(body.get("adjustment", 0) or 0)))
            settled = sum((money(inv.get(k, 0) or 0) for k in
                           ("payment_made", "credits_applied", "write_off_amount")), Decimal("0"))
            if total < settled:
                raise self.fail(400, 24024, "The invoice total cannot be less than what was paid "
                                "or credited on it.")
            fields = {k: v for k, v in body.items() if k not in ("invoice_number", "custom_fields")}
            fields.setdefault("adjustment", 0.0)
            inv.update(fields)
            self.set_fields("invoices", inv, body, req.org)
            inv.update(line_items=items, sub_total=float(sub_total), total=float(total),
                       tax_total=float(tax_total), taxes=self.tax_list(taxes),
                       balance=float(total - settled), last_modified_time=self.now())
            return 200, self.ok("Invoice information has been updated.", invoice=self.public(inv))

    def invoice_get(self, req):
        return 200, self.ok("success", invoice=self.public(self.find(self.invoices, req, "Invoice")))

    def invoice_list(self, req):
        q = req.query
        since = parse_time(q.get("last_modified_time"))
        if "last_modified_time" in q and since is None:
            raise self.fail(400, 2, "Invalid value passed for last_modified_time")

        def matches(i):
            if i["organization_id"] != req.org:
                return False
            for k in ("reference_number", "invoice_number", "customer_name"):
                if not self.text_filter(q, i, k):
                    return False
            for k in ("customer_id", "status"):
                if k in q and str(i.get(k)) != q[k]:
                    return False
            # "modified after that time"
            return since is None or parse_time(i["last_modified_time"]) > since

        items = [i for i in self.invoices.values() if matches(i)]
        return 200, self.page(req, items, "invoices")

    def invoice_status(self, req):
        with self.lock:
            inv = self.find(self.invoices, req, "Invoice")
            if req.params["status"] == "sent":
                if inv["status"] == "draft":
                    inv["status"] = "sent"
                message = "Invoice status has been changed to Sent."
            else:
                if money(inv.get("payment_made", 0)) > 0 or money(inv.get("credits_applied", 0)) > 0:
                    raise self.fail(400, 24020, "The invoice has payments or credits applied: "
                                    "delete them before you void it.")
                inv["status"] = "void"
                message = "Invoice status has been changed to Void."
            inv["last_modified_time"] = self.now()
            return 200, self.ok(message)

    def invoice_write_off(self, req):
        with self.lock:
            inv = self.find(self.invoices, req, "Invoice")
            balance = money(inv["balance"])
            if inv["status"] in ("draft", "void") or balance <= 0:
                raise self.fail(400, 24019, "The invoice has no balance that can be written off.")
            inv["write_off_amount"] = float(money(inv.get("write_off_amount", 0)) + balance)
            inv["balance"] = 0.0
            inv["status"] = "paid"
            inv["last_modified_time"] = self.now()
            return 200, self.ok("Invoice has been written off.")

    def invoice_apply_credits(self, req):
        """Applies a customer's excess payments (invoice_payments) and credit notes
        (apply_creditnotes) to one invoice: both lists are required, one may be empty."""
        body = req.json()
        lists = (body.get("invoice_payments"), body.get("apply_creditnotes"))
        if not all(isinstance(x, list) for x in lists) or not any(lists):
            raise self.fail(400, 2, "Invalid value passed for invoice_payments and apply_creditnotes")
        with self.lock:
            inv = self.find(self.invoices, req, "Invoice")
            if inv["status"] in ("draft", "void"):
                raise self.fail(400, 24016, "Credits can only be applied to sent invoices.")
            moves = []
            for kind, list_key, key, store in (
                    ("payment", "invoice_payments", "payment_id", self.payments),
                    ("note", "apply_creditnotes", "creditnote_id", self.creditnotes)):
                for a in body[list_key]:
                    src = store.get(str(a.get(key)))
                    amount = money(a.get("amount_applied") or 0)
                    left = src and money(src["unused_amount" if kind == "payment" else "balance"])
                    if src is None or src["organization_id"] != req.org \
                            or src.get("customer_id") != inv["customer_id"]:
                        raise self.fail(400, 2, "Invalid value passed for %s" % key)
                    if amount <= 0 or amount > left:
                        raise self.fail(400, 24021, "The amount applied exceeds the credit available.")
                    moves.append((kind, src, amount))
            if sum((m[2] for m in moves), Decimal("0")) > money(inv["balance"]):
                raise self.fail(400, 24022, "The credits applied to invoice %s exceed its balance."
                                % inv["invoice_number"])
            for kind, src, amount in moves:
                if kind == "payment":
                    src["unused_amount"] = float(money(src["unused_amount"]) - amount)
                    src["invoices"].append({"invoice_id": inv["invoice_id"],
                                            "invoice_number": inv["invoice_number"],
                                            "amount_applied": float(amount),
                                            "invoice_payment_id": str(next(self.ids))})
                    self.settle(inv, amount, "payment_made")
                else:
                    self.credit_invoice(src, inv, amount)
            return 200, self.ok("Credits have been applied to the invoice(s).")

    def invoices_mark_sent(self, req):
        """The bulk call: invoice_ids, comma-separated numeric ids (required)."""
        ids = req.query.get("invoice_ids", "")
        if not re.match(r"^\d+(,\d+)*$", ids):
            raise self.fail(400, 2, "Invalid value passed for invoice_ids")
        with self.lock:
            found = [self.invoices.get(i) for i in ids.split(",")]
            if any(inv is None or inv["organization_id"] != req.org for inv in found):
                raise self.fail(404, 1002, "Invoice does not exist.")
            for inv in found:
                if inv["status"] == "draft":
                    inv["status"] = "sent"
                    inv["last_modified_time"] = self.now()
            return 200, self.ok("The invoices have been marked as sent.")

    def invoice_payments(self, req):
        with self.lock:
            inv = self.find(self.invoices, req, "Invoice")
            out = []
            for p in self.payments.values():
                for a in p["invoices"]:
                    if a["invoice_id"] == inv["invoice_id"]:
                        out.append({"payment_id": p["payment_id"],
                                    "payment_number": p["payment_number"],
                                    "invoice_id": inv["invoice_id"],
                                    "invoice_payment_id": a["invoice_payment_id"],
                                    "payment_mode": p.get("payment_mode"),
                                    "date": p.get("date"),
                                    "reference_number": p.get("reference_number", ""),
                                    "amount": a["amount_applied"],
                                    "is_single_invoice_payment": len(p["invoices"]) == 1})
            return 200, self.ok("success", payments=out)

    # payments -------------------------------------------------------------------
    def payment_create(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            applied = []
            wanted = sum((money(a.get("amount_applied", 0)) for a in body.get("invoices", [])),
                         Decimal("0"))
            if wanted > money(body.get("amount", 0)):
                raise self.fail(400, 24018, "The amount applied to invoices exceeds the payment amount.")
            self.check_unique("customerpayments", None, body.get("custom_fields"), req.org)
            for a in body.get("invoices", []):
                inv = self.invoices.get(str(a.get("invoice_id")))
                if inv is None or inv["organization_id"] != req.org:
                    raise self.fail(400, 2, "Invalid value passed for invoice_id")
                if inv["status"] in ("draft", "void"):
                    raise self.fail(400, 24016, "Payments can only be recorded for sent invoices.")
                if money(a.get("amount_applied", 0)) > money(inv["balance"]):
                    raise self.fail(400, 24017, "The amount applied to invoice %s exceeds its balance."
                                    % inv["invoice_number"])
            for a in body.get("invoices", []):
                inv = self.invoices.get(str(a.get("invoice_id")))
                amount = money(a.get("amount_applied", 0))
                self.settle(inv, amount, "payment_made")
                inv["last_payment_date"] = body.get("date", "")
                applied.append({"invoice_id": inv["invoice_id"], "invoice_number": inv["invoice_number"],
                                "amount_applied": float(amount),
                                "invoice_payment_id": str(next(self.ids))})
            pid = str(next(self.ids))
            payment = self.new_object(**dict(
                body, payment_id=pid, payment_number=str(len(self.payments) + 1),
                organization_id=req.org, invoices=applied,
                unused_amount=float(money(body.get("amount", 0)) - wanted),
                invoice_number=",".join(a["invoice_number"] for a in applied)))
            # the description's payment object has no modification time
            del payment["last_modified_time"]
            payment["custom_fields"] = []
            self.set_fields("customerpayments", payment, body, req.org)
            self.payments[pid] = payment
            return 201, self.ok("The payment has been recorded.", payment=self.public(payment))

    def payment_list(self, req):
        q = req.query
        items = [p for p in self.payments.values()
                 if p["organization_id"] == req.org
                 and ("customer_id" not in q or p.get("customer_id") == q["customer_id"])
                 and self.text_filter(q, p, "reference_number")
                 and ("date" not in q or p.get("date") == q["date"])]
        return 200, self.page(req, items, self.config["payments_list_key"])

    def payment_get(self, req):
        return 200, self.ok("success", payment=self.public(self.find(self.payments, req, "Payment")))

    def payment_delete(self, req):
        """A payment deleted (by a user): what it paid on invoices is owed again."""
        with self.lock:
            payment = self.find(self.payments, req, "Payment")
            for a in payment["invoices"]:
                inv = self.invoices.get(a["invoice_id"])
                if inv is None:
                    continue
                amount = money(a["amount_applied"])
                inv["balance"] = float(money(inv["balance"]) + amount)
                inv["payment_made"] = float(money(inv.get("payment_made", 0)) - amount)
                inv["status"] = "partially_paid" if money(inv["payment_made"]) > 0 or \
                    money(inv.get("credits_applied", 0)) > 0 else "sent"
                inv["last_modified_time"] = self.now()
            del self.payments[payment["payment_id"]]
            return 200, self.ok("The payment has been deleted.")

    # credit notes ---------------------------------------------------------------
    def creditnote_create(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            customer = self.customer_of(req, body)
            # the invoice credited: the parameter, or the lines' invoice_id (the upsert has no parameter)
            named = {str(li["invoice_id"]) for li in body.get("line_items") or [] if li.get("invoice_id")}
            invoice_id = req.query.get("invoice_id")
            if invoice_id is None and len(named) == 1:
                invoice_id = next(iter(named))
            for iid in named | ({invoice_id} if invoice_id is not None else set()):
                inv = self.invoices.get(iid)
                if inv is None or inv["organization_id"] != req.org:
                    raise self.fail(400, 2, "Invalid value passed for invoice_id")
            if req.query.get("ignore_auto_number_generation") == "true":
                number = body.get("creditnote_number")
                if not number:
                    raise self.fail(400, 2, "Invalid value passed for creditnote_number: it is required")
            else:
                number = "CN-%05d" % next(self.numbers)
            self.check_items(req, body.get("line_items") or [])
            self.check_unique("creditnotes", None, body.get("custom_fields"), req.org)
            items, sub_total, taxes = self.priced_lines(body.get("line_items") or [])
            total = money(sub_total + sum(taxes.values(), Decimal("0")))
            if total <= 0:
                raise self.fail(400, 2, "Invalid value passed for line_items: the total must be positive")
            cid = str(next(self.ids))
            fields = {k: v for k, v in body.items()
                      if k not in ("adjustment", "adjustment_description", "custom_fields")}
            note = self.new_object(**dict(
                fields, creditnote_id=cid, creditnote_number=number, organization_id=req.org,
                status="open", line_items=items, sub_total=float(sub_total), total=float(total),
                tax_total=float(sum(taxes.values(), Decimal("0"))), taxes=self.tax_list(taxes),
                balance=float(total), currency_code=customer.get("currency_code", "USD"),
                customer_name=customer["contact_name"], invoice_id=invoice_id, invoices=[],
                _refunds=[], custom_fields=[]))
            self.set_fields("creditnotes", note, body, req.org)
            self.creditnotes[cid] = note
            return 201, self.ok("Credit Note has been created.", creditnote=self.public(note))

    def creditnote_list(self, req):
        q = req.query
        items = [c for c in self.creditnotes.values()
                 if c["organization_id"] == req.org
                 and self.text_filter(q, c, "reference_number")
                 and self.text_filter(q, c, "creditnote_number")
                 and ("customer_id" not in q or c.get("customer_id") == q["customer_id"])
                 and ("status" not in q or c.get("status") == q["status"])]
        return 200, self.page(req, items, "creditnotes")

    def creditnote_get(self, req):
        return 200, self.ok("success", creditnote=self.public(self.find(self.creditnotes, req,
                                                                        "Credit note")))

    def settle(self, inv, amount, how):
        """That much of the invoice's balance paid (how: payment_made) or credited (credits_applied)."""
        inv["balance"] = float(money(inv["balance"]) - amount)
        inv[how] = float(money(inv.get(how, 0)) + amount)
        inv["status"] = "paid" if money(inv["balance"]) <= 0 else "partially_paid"
        inv["last_modified_time"] = self.now()

    def credit_invoice(self, note, inv, amount):
        """That much of a credit note applied to an invoice."""
        self.settle(inv, amount, "credits_applied")
        note["invoices"].append({"invoice_id": inv["invoice_id"], "invoice_number": inv["invoice_number"],
                                 "amount_applied": float(amount),
                                 "creditnote_invoice_id": str(next(self.ids))})
        self.spend_credit(note, amount)

    def spend_credit(self, note, amount):
        note["balance"] = float(money(note["balance"]) - amount)
        if money(note["balance"]) <= 0:
            note["status"] = "closed"
        note["last_modified_time"] = self.now()

    def creditnote_apply(self, req):
        body = req.json()
        wanted = body.get("invoices")
        if not wanted and body.get("invoice_id"):
            wanted = [{"invoice_id": body["invoice_id"], "amount_applied": body.get("amount_applied")}]
        with self.lock:
            note = self.find(self.creditnotes, req, "Credit note")
            if not wanted:
                raise self.fail(400, 2, "Invalid value passed for invoices: it is required")
            asked = sum((money(a.get("amount_applied") or 0) for a in wanted), Decimal("0"))
            if note["status"] in ("void", "draft") or asked > money(note["balance"]):
                raise self.fail(400, 24021, "The amount applied exceeds the credit note's balance.")
            for a in wanted:
                inv = self.invoices.get(str(a.get("invoice_id")))
                if inv is None or inv["organization_id"] != req.org:
                    raise self.fail(400, 2, "Invalid value passed for invoice_id")
                if inv["status"] in ("draft", "void") or money(a.get("amount_applied") or 0) <= 0 \
                        or money(a["amount_applied"]) > money(inv["balance"]):
                    raise self.fail(400, 24022, "The credits applied to invoice %s exceed its balance."
                                    % inv["invoice_number"])
            for a in wanted:
                self.credit_invoice(note, self.invoices[str(a["invoice_id"])], money(a["amount_applied"]))
            return 200, self.ok("Credits have been applied to the invoice(s).")

    def creditnote_refunds(self, req):
        with self.lock:
            note = self.find(self.creditnotes, req, "Credit note")
            return 200, self.page(req, list(note["_refunds"]), "creditnote_refunds")

    def creditnote_refund(self, req):
        body = req.json()
        with self.lock:
            self.check_body(req, body)
            note = self.find(self.creditnotes, req, "Credit note")
            amount = money(body.get("amount") or 0)
            if not body.get("date"):
                raise self.fail(400, 2, "Invalid value passed for date: it is required")
            if note["status"] in ("void", "draft") or amount <= 0 or amount > money(note["balance"]):
                raise self.fail(400, 24023, "The refund amount exceeds the credit note's balance.")
            refund = {"creditnote_refund_id": str(next(self.ids)), "creditnote_id": note["creditnote_id"],
                      "date": body["date"], "refund_mode": body.get("refund_mode", ""),
                      "reference_number": body.get("reference_number", ""), "amount": float(amount),
                      "from_account_id": body.get("from_account_id", ""),
                      "customer_name": note["customer_name"], "description": body.get("description", "")}
            note["_refunds"].append(refund)
            self.spend_credit(note, amount)
            return 200, self.ok("The credit note amount is refunded successfully.",
                                creditnote_refund=refund)


if __name__ == "__main__":
    main(ZohoBooks(), sys.argv[1:])
