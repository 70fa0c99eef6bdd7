"""Shared set-up of the flows suites: the extension in the worker's database, both mocks,
the ready flows installed by install_default_flows, and a Togai corpus builder."""

import json
import time
import urllib.request
from decimal import ROUND_HALF_UP, Decimal

from harness import WorkerDatabaseCase, literal, sql, value, wait_until

TOKEN = "togai.token.flows"
ACCOUNTS_FLOW = "Sync accounts created from Togai to ZohoBooks"
INVOICES_FLOW = "Create an invoice in ZohoBooks on Togai invoice"
VOID_FLOW = "Void the ZohoBooks invoice of a voided Togai invoice"
PAYMENTS_FLOW = "Record ZohoBooks payments in Togai"


def stamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def cents(value, digits=2):
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def account(aid, cid, name, currency="USD", email=None, address=None, metadata=None):
    return {"id": aid, "customerId": cid, "name": name, "invoiceCurrency": currency,
            "primaryEmail": email or "billing@%s.example" % aid.replace(".", "-"),
            "address": address or {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345",
                                   "country": "US"},
            "status": "ACTIVE", "netTermDays": 30, "metadata": metadata or {}, "tags": []}


def customer(cid, name):
    return {"id": cid, "name": name, "primaryEmail": "ap@%s.example" % cid.replace(".", "-"),
            "status": "ACTIVE", "createdAt": stamp(), "updatedAt": stamp()}


def line(description, quantity=None, rate=None, value=None, currency="USD", children=()):
    """A revenue node: value = round(quantity x rate) unless given."""
    if value is None:
        value = cents(Decimal(str(quantity)) * Decimal(str(rate)))
    node = {"id": "li.%s" % abs(hash((description, str(quantity), str(rate)))), "description": description,
            "type": "USAGE_RATE_CARD_AMOUNT", "units": currency, "value": float(value),
            "lineItems": list(children)}
    if quantity is not None:
        node["quantity"] = quantity
        node["valuePerQuantity"] = rate
    return node


def invoice(iid, owner, cid, number, nodes, currency="USD", status="DUE", total=None, wrap=False):
    """A Togai invoice whose total is the sum of its nodes' values unless given."""
    if total is None:
        total = sum((Decimal(str(n["value"])) for n in nodes), Decimal(0))
    tree = {"id": iid + ".total", "description": "Total", "type": "TOTAL_AMOUNT", "units": currency,
            "value": float(total), "lineItems": nodes}
    if wrap:
        # Togai's own example: grand total > total > net > gross > rate cards
        gross = {"id": iid + ".gross", "description": "Sum Total", "type": "GROSS_AMOUNT",
                 "units": currency, "value": float(sum(Decimal(str(n["value"])) for n in nodes)),
                 "lineItems": nodes}
        net = {"id": iid + ".net", "description": "Total amount due", "type": "NET_AMOUNT",
               "units": currency, "value": float(total), "lineItems": [gross]}
        tree = {"id": iid + ".grand", "description": "Grand Total Amount", "type": "GRAND_TOTAL_AMOUNT",
                "units": currency, "value": float(total),
                "lineItems": [{"id": iid + ".total", "description": "Total Amount", "type": "TOTAL_AMOUNT",
                               "units": currency, "value": float(total), "lineItems": [net]}]}
    return {"id": iid, "customerId": cid, "ownerId": owner, "status": status, "invoiceClass": "INVOICE",
            "invoiceType": "STANDARD", "sequenceId": number, "invoiceDate": "2026-10-31T00:00:00.000Z",
            "dueDate": "2026-11-30T00:00:00.000Z", "startDate": "2026-10-01T00:00:00.000Z",
            "endDate": "2026-10-31T00:00:00.000Z", "generatedAt": stamp(), "updatedAt": stamp(),
            "netTermDays": 30, "totalAmount": float(total), "paidAmount": 0, "revenueInfo": tree}


class FlowsCase(WorkerDatabaseCase):
    """The ready flows, installed by install_default_flows."""

    togai_token = TOKEN

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = [r[0] for r in sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")]
        sql("SELECT togai_zoho.set_rate_limit('zoho', 100000)")

    def setUp(self):
        self.assertTrue(self.idle(30), "the previous test left work behind")
        for m in (self.zoho, self.togai):
            m.call("DELETE", "faults")
            m.call("POST", "stats/reset")
            m.clear_requests()
        self.prefix = "%s.%d" % (self._testMethodName[5:17], int(time.time() * 1000) % 100000)

    def custom_flow(self, name, direction, source, trigger, actions, instead_of=None):
        """A flow made with create_flow and add_flow_action, dropped after the test; the ready
        flow it stands in for is disabled meanwhile."""
        if instead_of:
            sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % literal(instead_of))
            self.addCleanup(sql, "SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(instead_of))
        sql("SELECT togai_zoho.create_flow(%s, %s, %s, %s)"
            % (literal(name), literal(direction), literal(source), literal(trigger)))
        self.addCleanup(sql, "SELECT togai_zoho.drop_flow(%s, force => true)" % literal(name))
        for connection, action, options in actions:
            sql("SELECT togai_zoho.add_flow_action(%s, %s, %s, %s)"
                % (literal(name), literal(connection), literal(action), literal(json.dumps(options))))
        sql("SELECT togai_zoho.set_flow_enabled(%s)" % literal(name))

    # Togai side -------------------------------------------------------------------------
    def seed_accounts(self, n, currency="USD", **kw):
        """n accounts (each with its customer) in the Togai mock; returns the account ids."""
        customers, accounts = [], []
        for i in range(1, n + 1):
            cid, aid = "%s.cus.%d" % (self.prefix, i), "%s.acc.%d" % (self.prefix, i)
            customers.append(customer(cid, "Customer %s" % cid))
            accounts.append(account(aid, cid, "Account %s" % aid, currency, **kw))
        self.togai.seed({"customers": customers, "accounts": accounts})
        return [a["id"] for a in accounts]

    def poll_togai(self, max_pages=100):
        return self.json("SELECT togai_zoho.poll_togai('togai', %d)" % max_pages)

    def poll_zoho(self):
        return self.json("SELECT togai_zoho.poll_zohobooks('zoho')")

    def idle(self, timeout=60):
        return value("SELECT togai_zoho.wait_for_idle(%s)" % literal("%d s" % timeout),
                     timeout=timeout + 30) == "t"

    # Zoho side --------------------------------------------------------------------------
    def contact_of(self, account_id):
        """The Zoho contacts made for a Togai account (by the marker in notes)."""
        marker = "Togai account %s " % account_id
        return [c for c in self.zoho.state()["contacts"] if (c.get("notes") or "").startswith(marker)]

    def zoho_invoices(self):
        return {i["reference_number"]: i for i in self.zoho.state()["invoices"]
                if i.get("reference_number", "").startswith(self.prefix)}

    def zoho_api(self, method, path, body=None):
        """Calls the Zoho Books mock as a Zoho user would (with the connection's access token)."""
        token = value("SELECT access_token FROM togai_zoho.connection_secret s "
                      "JOIN togai_zoho.connection c ON c.id = s.connection_id WHERE c.name = 'zoho'")
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(
            self.zoho.url + "/books/v3" + path + sep + "organization_id=600001",
            data=None if body is None else json.dumps(body).encode(), method=method,
            headers={"Authorization": "Zoho-oauthtoken " + token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def zoho_payment(self, zoho_invoice, amount, mode="Bank Transfer"):
        return self.zoho_api("POST", "/customerpayments", {
            "customer_id": zoho_invoice["customer_id"], "payment_mode": mode, "amount": amount,
            "date": "2026-11-20", "reference_number": "UTR-%s" % self.prefix,
            "invoices": [{"invoice_id": zoho_invoice["invoice_id"], "amount_applied": amount}]})["payment"]

    def togai_payments(self):
        return self.togai.state()["payments"]


__all__ = ["FlowsCase", "ACCOUNTS_FLOW", "INVOICES_FLOW", "VOID_FLOW", "PAYMENTS_FLOW", "account",
           "customer", "invoice", "line", "cents", "sql", "value", "literal", "wait_until"]
