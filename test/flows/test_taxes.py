"""Togai's tax lines become Zoho Books line taxes through the tax mapping: Zoho's tax total equals
Togai's to the cent; an unmapped tax stops the invoice naming it (or, by option, travels in the
adjustment); a rounding difference between Togai's tax and Zoho's line-by-line tax is said."""

import json
import urllib.request
from decimal import Decimal

from flows_case import INVOICES_FLOW, FlowsCase, cents, invoice, line, literal, sql, value

VAT, GST, LOW, HST = "910000000000001", "910000000000002", "910000000000003", "910000000000004"


def taxed(iid, owner, cid, number, nodes, taxes, currency="USD"):
    """A Togai invoice: total > [net > lines, total tax > tax lines], as Togai nests them."""
    net = sum((Decimal(str(n["value"])) for n in nodes), Decimal(0))
    tax = sum((Decimal(str(v)) for _, v in taxes), Decimal(0))
    inv = invoice(iid, owner, cid, number, nodes, total=net + tax, currency=currency)
    inv["revenueInfo"]["lineItems"] = [
        {"id": iid + ".net", "description": "Net", "type": "NET_AMOUNT", "units": currency,
         "value": float(net), "lineItems": nodes},
        {"id": iid + ".tax", "description": "Taxes", "type": "TOTAL_TAX_AMOUNT", "units": currency,
         "value": float(tax), "lineItems": [
             {"id": "%s.tax.%d" % (iid, k), "description": name, "type": "TAX_AMOUNT", "units": currency,
              "value": float(v), "lineItems": []} for k, (name, v) in enumerate(taxes)]}]
    return inv


class Taxes(FlowsCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho.seed({"taxes": [{"tax_id": VAT, "tax_name": "VAT", "tax_percentage": 20},
                                 {"tax_id": GST, "tax_name": "GST", "tax_percentage": 10},
                                 {"tax_id": LOW, "tax_name": "Low", "tax_percentage": 12.5},
                                 {"tax_id": HST, "tax_name": "HST", "tax_percentage": 13}]})
        sql("SELECT togai_zoho.map_tax('zoho', 'VAT', %s, 20)" % literal(VAT))
        sql("SELECT togai_zoho.map_tax('zoho', 'Reduced', %s)" % literal(LOW))

    def togai_payment(self, aid, amounts):
        """A payment collected in Togai (its gateway), through the Togai mock's API."""
        req = urllib.request.Request(self.togai.url + "/payments", method="POST", data=json.dumps({
            "accountId": aid, "currency": "USD", "totalAmount": sum(amounts.values()),
            "externalPaymentReference": {"sourceName": "Stripe", "sourceType": "GATEWAY",
                                         "transactionNumber": "ch_" + self.prefix},
            "lineItemRecords": [{"togaiId": k, "amount": v, "type": "INVOICE", "order": n}
                                for n, (k, v) in enumerate(amounts.items(), 1)]}).encode(),
            headers={"Authorization": "Bearer " + self.togai_token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def account(self):
        (aid,) = self.seed_accounts(1)
        return aid, aid.replace(".acc.", ".cus.")

    def zoho_of(self, inv):
        return self.zoho_invoices()[inv["sequenceId"]]

    def assert_same_money(self, inv, z, tax):
        self.assertEqual(cents(z["total"]), cents(inv["totalAmount"]))
        self.assertEqual(cents(z["tax_total"]), Decimal(tax))

    def test_mapped_tax_becomes_line_taxes_with_the_same_tax_total(self):
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.vat", aid, cid, self.prefix + "-VAT",
                    [line("Seats", quantity=3, rate=33.33), line("Support", quantity=1, rate=50)],
                    [("VAT", "30.00")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        self.assert_same_money(inv, z, "30.00")
        self.assertEqual([li.get("tax_id") for li in z["line_items"]], [VAT, VAT])
        self.assertEqual([li["name"] for li in z["line_items"]], ["Seats", "Support"])
        self.assertIn(cents(z.get("adjustment", 0)), (Decimal("0.00"),))
        self.assertEqual(cents(z["sub_total"]), Decimal("149.99"))

    def test_a_refund_reverses_the_lines_and_their_tax_to_the_cent(self):
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.ref", aid, cid, self.prefix + "-REF",
                    [line("Seats", quantity=3, rate=33.33), line("Support", quantity=1, rate=50)],
                    [("VAT", "30.00")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.togai_payment(aid, {inv["id"]: 179.99})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.togai.call("POST", "invoice_status", {"id": inv["id"], "status": "REFUND_COMPLETED"})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        (note,) = [c for c in self.zoho.state()["creditnotes"]
                   if c.get("reference_number") == "Refund " + inv["sequenceId"]]
        # the credit note reverses each line with its tax: totals and tax totals equal
        self.assertEqual((cents(note["total"]), cents(note["tax_total"])),
                         (cents(z["total"]), cents(z["tax_total"])))
        self.assertEqual((cents(note["total"]), cents(note["tax_total"])),
                         (Decimal("179.99"), Decimal("30.00")))
        self.assertEqual([li.get("tax_id") for li in note["line_items"]], [VAT, VAT])
        self.assertEqual([cents(r["amount"]) for r in note["_refunds"]], [Decimal("179.99")])
        self.assertEqual(cents(z["balance"]), Decimal("0.00"))

    def test_unmapped_tax_stops_the_invoice_until_mapped_then_retry(self):
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.gst", aid, cid, self.prefix + "-GST",
                    [line("API calls", quantity=1000, rate=0.25)], [("GST", "25.00")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertNotIn(inv["sequenceId"], self.zoho_invoices())
        job, error = sql("SELECT job, last_error FROM togai_zoho.dead_jobs WHERE source_id = %s"
                         % literal(inv["id"]))[0]
        self.assertIn("Togai tax GST (10.00%) has no Zoho Books tax", error)
        self.assertIn("togai_zoho.map_tax(", error)
        self.assertEqual([r for r in self.zoho.requests("/books/v3/invoices") if r["method"] == "POST"], [])
        sql("SELECT togai_zoho.map_tax('zoho', 'gst', %s, 10)" % literal(GST))
        sql("SELECT togai_zoho.retry(%s)" % job)
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        self.assert_same_money(inv, z, "25.00")
        self.assertEqual(z["line_items"][0]["tax_id"], GST)

    def test_a_rate_not_mapped_is_another_tax(self):
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.vat5", aid, cid, self.prefix + "-VAT5",
                    [line("Seats", quantity=2, rate=50)], [("VAT", "5.00")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        error = value("SELECT last_error FROM togai_zoho.dead_jobs WHERE source_id = %s"
                      % literal(inv["id"]))
        self.assertIn("Togai tax VAT (5.00%)", error)
        sql("DELETE FROM togai_zoho.outbox WHERE source_id = %s" % literal(inv["id"]))

    def test_unmapped_tax_travels_in_the_adjustment_by_option(self):
        self.custom_flow("Invoices, taxes in the adjustment", "outbound", "togai", "invoice_generated",
                         [("zoho", "invoice_create", {"mark_sent": True, "unmapped_tax": "adjustment"})],
                         instead_of=INVOICES_FLOW)
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.misc", aid, cid, self.prefix + "-MISC",
                    [line("Seats", quantity=4, rate=10)], [("City levy", "1.20")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        self.assert_same_money(inv, z, "0.00")
        self.assertEqual(cents(z["adjustment"]), Decimal("1.20"))

    def test_a_rounding_difference_is_said_and_the_total_stays_exact(self):
        """Three lines of 0.05 at 12.5%: Togai taxes the sum (0.02), Zoho each line (0.03)."""
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.round", aid, cid, self.prefix + "-ROUND",
                    [line("A", quantity=1, rate=0.05), line("B", quantity=1, rate=0.05),
                     line("C", quantity=1, rate=0.05)], [("Reduced", "0.02")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        self.assertEqual(cents(z["total"]), cents(inv["totalAmount"]))
        self.assertEqual(cents(z["tax_total"]), Decimal("0.03"))
        self.assertEqual(cents(z["adjustment"]), Decimal("-0.01"))
        result = value("SELECT o.result::text FROM togai_zoho.outbox o WHERE o.source_id = %s"
                       % literal(inv["id"]))
        self.assertIn("line taxes differ from Togai's by -0.01", result)

    def test_bad_tax_mappings_are_refused(self):
        for call, state, message in (
                ("map_tax('zoho', NULL, '1')", "22004", "togai_tax must not be null"),
                ("map_tax('zoho', ' ', '1')", "22023", "togai_tax must be the name"),
                ("map_tax('zoho', 'VAT', 'abc')", "22023", 'tax_id "abc" is not a Zoho Books tax id'),
                ("map_tax('zoho', 'VAT', '1', 120)", "22023", "rate 120 is not a percentage"),
                ("map_tax('togai', 'VAT', '1')", "42809", "not a zohobooks connection"),
                ("map_tax('nope', 'VAT', '1')", "42704", 'connection "nope" does not exist')):
            self.assertSQLState(self.error("SELECT togai_zoho." + call), state, message)
        # NULL tax_id removes a mapping
        sql("SELECT togai_zoho.map_tax('zoho', 'Gone', '1')")
        sql("SELECT togai_zoho.map_tax('zoho', 'Gone', NULL)")
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.tax_mapping WHERE togai_tax = 'Gone'"), "0")

    def test_a_payment_of_an_invoice_that_did_not_reach_zoho_stops_until_retried(self):
        """Nothing is applied, nothing lost: the payment's job dies naming the invoice's job."""
        aid, cid = self.account()
        inv = taxed(self.prefix + ".inv.hst", aid, cid, self.prefix + "-HST",
                    [line("Seats", quantity=2, rate=50)], [("HST", "13.00")])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        invoice_job = value("SELECT job FROM togai_zoho.dead_jobs WHERE source_id = %s" % literal(inv["id"]))
        pay = self.togai_payment(aid, {inv["id"]: 113.0})
        self.poll_togai()
        self.assertTrue(self.idle())
        payment_job, error = sql("SELECT job, last_error FROM togai_zoho.dead_jobs WHERE source_id = %s"
                                 % literal(pay["id"]))[0]
        self.assertIn("invoice %s did not reach Zoho Books (its job %s is dead)" % (inv["id"], invoice_job),
                      error)
        sql("SELECT togai_zoho.map_tax('zoho', 'HST', %s, 13)" % literal(HST))
        sql("SELECT togai_zoho.retry(%s)" % invoice_job)
        self.assertTrue(self.idle())
        sql("SELECT togai_zoho.retry(%s)" % payment_job)
        self.assertTrue(self.idle())
        z = self.zoho_of(inv)
        self.assertEqual((z["status"], cents(z["balance"])), ("paid", Decimal("0.00")),
                         sql("SELECT state, last_error, result FROM togai_zoho.outbox WHERE id = %s" % payment_job))
