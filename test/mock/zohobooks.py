"""Mock Zoho Books API v3 and Zoho accounts server (OAuth), on one port.

Follows the reference notes on Zoho Books: envelopes {"code": 0, "message": ..., "<object>": ...},
`Authorization: Zoho-oauthtoken <token>`, `organization_id` on every call but GET /organizations,
page/per_page lists with page_context, HTTP 429 with code 44 over the per-organization limit.

Seed format (POST /_mock/seed, or --seed FILE):
  {"clients": {"<client id>": "<client secret>"},
   "grant_codes": {"<code>": {"client_id": "...", "scope": "..."}},
   "organizations": [{"organization_id": "...", "name": "...", "currency_code": "USD"}],
   "refresh_tokens": {"<refresh token>": "<client id>"}}
Settings (POST /_mock/config): token_ttl_seconds (3600), oauth_error_status (200; 400 also seen),
mint_limit (10 tokens per refresh token per 10 minutes), cf_search (true: cf_<api_name> filters).

Choices where the reference is unsure, and why:
  - duplicate contact name: 400, code 3062 "The customer "X" already exists." (Zoho's usual code)
  - duplicate invoice number: 400, code 1001 "Invoice "X" already exists."
  - missing organization_id: 400, code 2 "Invalid value passed for organization_id" (invalid-value code)
  - unknown organization: 401, code 57 (not authorized for this organization)
"""

import itertools
import secrets
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from mockserver import App, Reply, main, no_auth

STAMP = "%Y-%m-%dT%H:%M:%S+0000"


def now_stamp():
    return time.strftime(STAMP, time.gmtime())


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ZohoBooks(App):
    name = "zohobooks"
    routes = [
        ("POST", r"/oauth/v2/token", "oauth_token"),
        ("POST", r"/oauth/v2/token/revoke", "oauth_revoke"),
        ("GET", r"/books/v3/organizations", "organizations"),
        ("GET", r"/books/v3/settings/currencies", "currencies"),
        ("POST", r"/books/v3/contacts", "contact_create"),
        ("GET", r"/books/v3/contacts", "contact_list"),
        ("GET", r"/books/v3/contacts/(?P<id>[^/]+)", "contact_get"),
        ("PUT", r"/books/v3/contacts/(?P<id>[^/]+)", "contact_update"),
        ("POST", r"/books/v3/invoices", "invoice_create"),
        ("GET", r"/books/v3/invoices", "invoice_list"),
        ("GET", r"/books/v3/invoices/(?P<id>[^/]+)", "invoice_get"),
        ("POST", r"/books/v3/invoices/(?P<id>[^/]+)/status/(?P<status>sent|void)", "invoice_status"),
        ("POST", r"/books/v3/customerpayments", "payment_create"),
        ("GET", r"/books/v3/customerpayments", "payment_list"),
        ("GET", r"/books/v3/customerpayments/(?P<id>[^/]+)", "payment_get"),
    ]

    def default_config(self):
        return {"rate_limit_per_minute": None, "latency_ms": 0, "token_ttl_seconds": 3600,
                "oauth_error_status": 200, "mint_limit": 10, "cf_search": True}

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
        self.ids = itertools.count(460000000000001)
        self.numbers = itertools.count(1)

    def add_arguments(self, ap):
        pass

    def configure(self, args):
        pass

    def seed(self, data):
        with self.lock:
            self.clients.update(data.get("clients", {}))
            self.grant_codes.update(data.get("grant_codes", {}))
            self.refresh_tokens.update(data.get("refresh_tokens", {}))
            for org in data.get("organizations", []):
                org = dict({"currency_code": "USD", "is_default_org": not self.orgs}, **org)
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
                "refresh_tokens": list(self.refresh_tokens), "access_tokens": len(self.access_tokens)}

    # errors ---------------------------------------------------------------------
    def fail(self, status, code, message):
        return Reply(status, {"code": code, "message": message})

    def rate_limit_reply(self, retry_after):
        return Reply(429, {"code": 44, "message": "You have exceeded the maximum number of requests "
                           "allowed per minute."}, {"Retry-After": retry_after})

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

    def ok(self, message, **objects):
        body = {"code": 0, "message": message}
        body.update(objects)
        return body

    def page(self, req, items, key):
        if req.query.get("sort_column") == "last_modified_time":
            items = sorted(items, key=lambda o: o.get("last_modified_time", ""),
                           reverse=req.query.get("sort_order") == "D")
        page = max(1, int(req.query.get("page", 1)))
        per_page = min(200, max(1, int(req.query.get("per_page", 200))))
        chunk = items[(page - 1) * per_page:page * per_page]
        return self.ok("success", **{key: chunk, "page_context": {
            "page": page, "per_page": per_page, "has_more_page": page * per_page < len(items)}})

    def organizations(self, req):
        return 200, self.ok("success", organizations=self.orgs)

    CURRENCIES = ["USD", "EUR", "INR", "GBP", "JPY", "CHF"]

    def currency_code(self, currency_id):
        for i, c in enumerate(self.CURRENCIES):
            if str(460000000000000 + i) == str(currency_id):
                return c
        raise self.fail(400, 2, "Invalid value passed for currency_id")

    def currencies(self, req):
        return 200, self.ok("success", currencies=[
            {"currency_id": str(460000000000000 + i), "currency_code": c, "currency_symbol": c}
            for i, c in enumerate(self.CURRENCIES)])

    # contacts -------------------------------------------------------------------
    def check_contact(self, req, body, current=None):
        name = body.get("contact_name", current and current["contact_name"])
        if not name:
            raise self.fail(400, 2, "Contact name is required")
        other = self.contact_by_name.get((req.org, name))
        if other is not None and other is not current:
            raise self.fail(400, 3062, 'The customer "%s" already exists.' % name)

    def contact_create(self, req):
        body = req.json()
        with self.lock:
            self.check_contact(req, body)
            cid = str(next(self.ids))
            org_currency = [o for o in self.orgs if o["organization_id"] == req.org][0]["currency_code"]
            contact = dict(body, contact_id=cid, organization_id=req.org,
                           currency_code=self.currency_code(body["currency_id"])
                           if body.get("currency_id") else org_currency,
                           contact_type=body.get("contact_type", "customer"),
                           created_time=now_stamp(), last_modified_time=now_stamp())
            self.contacts[cid] = contact
            self.contact_by_name[(req.org, contact["contact_name"])] = contact
            return 201, self.ok("The contact has been added.", contact=self.public(contact))

    def public(self, obj):
        return {k: v for k, v in obj.items() if k != "organization_id"}

    def find(self, table, req, what):
        obj = table.get(req.params["id"])
        if obj is None or obj["organization_id"] != req.org:
            raise self.fail(404, 1002, "%s does not exist." % what)
        return obj

    def contact_get(self, req):
        return 200, self.ok("success", contact=self.public(self.find(self.contacts, req, "Contact")))

    def contact_update(self, req):
        body = req.json()
        with self.lock:
            contact = self.find(self.contacts, req, "Contact")
            self.check_contact(req, body, contact)
            if body.get("currency_id"):
                contact["currency_code"] = self.currency_code(body["currency_id"])
            self.contact_by_name.pop((req.org, contact["contact_name"]), None)
            contact.update(body)
            self.contact_by_name[(req.org, contact["contact_name"])] = contact
            contact["last_modified_time"] = now_stamp()
            return 200, self.ok("Contact information has been saved.", contact=self.public(contact))

    def contact_list(self, req):
        q = req.query

        def matches(c):
            if c["organization_id"] != req.org:
                return False
            if "last_modified_time" in q and c["last_modified_time"] < q["last_modified_time"]:
                return False
            for key in ("contact_name", "company_name", "email"):
                if key in q and c.get(key) != q[key]:
                    return False
            if "search_text" in q:
                hay = [c.get("contact_name"), c.get("company_name"), c.get("email"), c.get("notes")]
                hay += [f.get("value") for f in c.get("custom_fields", [])]
                if not any(q["search_text"] in str(h) for h in hay if h):
                    return False
            for key, value in q.items():
                if key.startswith("cf_") and self.config["cf_search"]:
                    fields = {f.get("api_name"): f.get("value") for f in c.get("custom_fields", [])}
                    if fields.get(key) != value:
                        return False
            return True

        items = [self.public(c) for c in self.contacts.values() if matches(c)]
        return 200, self.page(req, items, "contacts")

    # invoices -------------------------------------------------------------------
    def invoice_create(self, req):
        body = req.json()
        with self.lock:
            customer = self.contacts.get(str(body.get("customer_id")))
            if customer is None or customer["organization_id"] != req.org:
                raise self.fail(400, 2, "Invalid value passed for customer_id")
            lines = body.get("line_items") or []
            if not lines:
                raise self.fail(400, 2, "Line items are required")
            if req.query.get("ignore_auto_number_generation") == "true" and body.get("invoice_number"):
                number = body["invoice_number"]
            else:
                number = "INV-%06d" % next(self.numbers)
            for inv in self.invoices.values():
                if inv["organization_id"] == req.org and inv["invoice_number"] == number:
                    raise self.fail(400, 1001, 'Invoice "%s" already exists.' % number)
            items, total = [], Decimal("0")
            for i, li in enumerate(lines):
                rate = Decimal(str(li.get("rate", 0)))
                qty = Decimal(str(li.get("quantity", 1)))
                item_total = money(rate * qty - Decimal(str(li.get("discount", 0) or 0)))
                total += item_total
                items.append(dict(li, line_item_id=str(next(self.ids)), item_total=float(item_total)))
            # the invoice-level adjustment (discounts, rounding) is added to the total as given
            adjustment = Decimal(str(body.get("adjustment", 0) or 0))
            total = money(total + adjustment)
            iid = str(next(self.ids))
            inv = dict(body, invoice_id=iid, invoice_number=number, organization_id=req.org,
                       status="draft", line_items=items, sub_total=float(total), total=float(total),
                       balance=float(total), currency_code=customer.get("currency_code", "USD"),
                       customer_name=customer["contact_name"], created_time=now_stamp(),
                       last_modified_time=now_stamp())
            self.invoices[iid] = inv
            return 201, self.ok("The invoice has been created.", invoice=self.public(inv))

    def invoice_get(self, req):
        return 200, self.ok("success", invoice=self.public(self.find(self.invoices, req, "Invoice")))

    def invoice_list(self, req):
        q = req.query
        keys = ("invoice_number", "reference_number", "customer_id", "status")
        items = [self.public(i) for i in self.invoices.values()
                 if i["organization_id"] == req.org and all(k not in q or str(i.get(k)) == q[k] for k in keys)
                 and ("last_modified_time" not in q or i["last_modified_time"] >= q["last_modified_time"])]
        return 200, self.page(req, items, "invoices")

    def invoice_status(self, req):
        with self.lock:
            inv = self.find(self.invoices, req, "Invoice")
            if req.params["status"] == "sent":
                if inv["status"] == "draft":
                    inv["status"] = "sent"
                message = "Invoice status has been changed to Sent."
            else:
                inv["status"] = "void"
                message = "Invoice status has been changed to Void."
            inv["last_modified_time"] = now_stamp()
            return 200, self.ok(message)

    # payments -------------------------------------------------------------------
    def payment_create(self, req):
        body = req.json()
        with self.lock:
            applied = []
            for a in body.get("invoices", []):
                inv = self.invoices.get(str(a.get("invoice_id")))
                if inv is None or inv["organization_id"] != req.org:
                    raise self.fail(400, 2, "Invalid value passed for invoice_id")
                if inv["status"] in ("draft", "void"):
                    raise self.fail(400, 24016, "Payments can only be recorded for sent invoices.")
                amount = money(a.get("amount_applied", 0))
                balance = money(inv["balance"]) - amount
                inv["balance"] = float(balance)
                inv["status"] = "paid" if balance <= 0 else "partially_paid"
                inv["last_modified_time"] = now_stamp()
                applied.append({"invoice_id": inv["invoice_id"], "invoice_number": inv["invoice_number"],
                                "amount_applied": float(amount)})
            pid = str(next(self.ids))
            payment = dict(body, payment_id=pid, organization_id=req.org, invoices=applied,
                           invoice_numbers=",".join(a["invoice_number"] for a in applied),
                           created_time=now_stamp(), last_modified_time=now_stamp())
            self.payments[pid] = payment
            return 201, self.ok("The payment has been recorded.", payment=self.public(payment))

    def payment_list(self, req):
        q = req.query
        items = [self.public(p) for p in self.payments.values()
                 if p["organization_id"] == req.org
                 and ("customer_id" not in q or p.get("customer_id") == q["customer_id"])
                 and ("last_modified_time" not in q or p["last_modified_time"] >= q["last_modified_time"])]
        # as in Zoho Books, a list entry names the invoices but does not carry the amounts applied
        items = [{k: v for k, v in p.items() if k != "invoices"} for p in items]
        return 200, self.page(req, items, "customerpayments")

    def payment_get(self, req):
        return 200, self.ok("success", payment=self.public(self.find(self.payments, req, "Payment")))


if __name__ == "__main__":
    main(ZohoBooks(), sys.argv[1:])
