"""The money life cycle through the ready flows: payments collected in Togai reach Zoho Books
(full, partial, several invoices in one payment, once, never echoed back either way), and an
uncollectible Togai invoice is written off in Zoho Books, a refunded one gets a credit note applied
to what is unpaid and the paid amount refunded; balances equal on both sides to the cent after
each step."""

import json
import time
import urllib.request
from decimal import Decimal

from flows_case import FlowsCase, account, cents, customer, invoice, line, literal, sql, value
from test_taxes import taxed

TOGAI_PAYMENTS_FLOW = "Record Togai payments in ZohoBooks"
WRITE_OFF_FLOW = "Write off the ZohoBooks invoice of an uncollectible Togai invoice"
REFUND_FLOW = "Refund the ZohoBooks invoice of a refunded Togai invoice"


class MoneyFlows(FlowsCase):

    def togai_api(self, method, path, body=None):
        """Calls the Togai mock as Togai's own gateway or a person in its UI would."""
        req = urllib.request.Request(
            self.togai.url + path, data=None if body is None else json.dumps(body).encode(),
            method=method, headers={"Authorization": "Bearer " + self.togai_token,
                                    "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def collect(self, aid, amounts, source="GATEWAY", currency="USD"):
        """A payment collected in Togai: {invoice id: amount}."""
        records = [{"togaiId": iid, "amount": float(a), "type": "INVOICE", "order": n}
                   for n, (iid, a) in enumerate(amounts.items(), 1)]
        return self.togai_api("POST", "/payments", {
            "accountId": aid, "currency": currency,
            "totalAmount": float(sum(Decimal(str(a)) for a in amounts.values())),
            "externalPaymentReference": {"sourceName": "Stripe", "sourceType": source,
                                         "transactionNumber": "ch_%s_%d" % (self.prefix, len(amounts))},
            "lineItemRecords": records})

    def synced(self, n_invoices, totals):
        """An account with n generated invoices of the given totals, synced to Zoho Books."""
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        invs = [invoice("%s.inv.%d" % (self.prefix, k), aid, cid, "%s-%d" % (self.prefix, k),
                        [line("Usage %d" % k, value=Decimal(totals[k]))])
                for k in range(n_invoices)]
        self.togai.seed({"invoices": invs})
        self.poll_togai()
        self.assertTrue(self.idle())
        return aid, invs

    def zoho_payments(self, aid):
        """The Zoho Books payments made for the account's Togai payments (by their reference)."""
        ours = {p["id"] for p in self.togai_payments() if p["accountId"] == aid}
        return [p for p in self.zoho.state()["payments"] if p.get("reference_number") in ours]

    def assert_balances_equal(self, invs):
        """Each invoice owes the same on both sides, to the cent."""
        togai = {i["id"]: i for i in self.togai.state()["invoices"]}
        zoho = self.zoho_invoices()
        for inv in invs:
            t = togai[inv["id"]]
            z = zoho[inv["sequenceId"]]
            owed = cents(t["totalAmount"]) - cents(t["paidAmount"])
            if t["status"] in ("UN_COLLECTIBLE", "REFUND_COMPLETED"):
                owed = Decimal("0.00")
            self.assertEqual(cents(z["balance"]), owed, (inv["id"], t["status"], z))

    def job_result(self, trigger, source_id):
        """What each action of the latest job of that trigger for the object did (outbox.result)."""
        return json.loads(value(
            "SELECT o.result::text FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id "
            "WHERE f.trigger = %s AND o.source_id = %s ORDER BY o.id DESC LIMIT 1"
            % (literal(trigger), literal(source_id))))

    def differences(self, invs):
        return sql("SELECT togai_invoice, togai_status, zohobooks_status, togai_owed, zohobooks_balance, "
                   "difference FROM togai_zoho.money_differences WHERE togai_invoice = ANY(%s) ORDER BY 1"
                   % literal("{%s}" % ",".join(i["id"] for i in invs)))

    def test_ready_flows_include_togai_payments_and_write_offs(self):
        rows = dict(sql("SELECT name, trigger || ' -> ' || replace(actions, E'\\n', ' | ') "
                        "FROM togai_zoho.flows"))
        self.assertEqual(rows[TOGAI_PAYMENTS_FLOW], "payment_collected -> 1. zoho: payment_apply")
        self.assertEqual(rows[WRITE_OFF_FLOW], "invoice_written_off -> 1. zoho: invoice_write_off")
        self.assertEqual(rows[REFUND_FLOW], "invoice_refunded -> 1. zoho: invoice_refund")

    def test_togai_payments_full_partial_and_several_invoices_reach_zoho_once(self):
        aid, invs = self.synced(3, ["100.00", "250.50", "19.99"])
        self.assertEqual(self.poll_togai()["lists"].get("payments:new", {}).get("changed", 0), 0)
        p1 = self.collect(aid, {invs[0]["id"]: "40.00"})                       # partial
        p2 = self.collect(aid, {invs[0]["id"]: "60.00", invs[1]["id"]: "250.50"})  # rest + full
        self.zoho.clear_requests()
        out = self.poll_togai()
        self.assertEqual(out["lists"]["payments:new"]["changed"], 2, out)
        self.assertTrue(self.idle())
        made = {p["reference_number"]: p for p in self.zoho_payments(aid)}
        self.assertEqual(sorted(made), sorted([p1["id"], p2["id"]]))
        zoho = self.zoho_invoices()
        first = made[p1["id"]]
        self.assertEqual(cents(first["amount"]), Decimal("40.00"))
        self.assertEqual([(a["invoice_id"], cents(a["amount_applied"])) for a in first["invoices"]],
                         [(zoho[invs[0]["sequenceId"]]["invoice_id"], Decimal("40.00"))])
        self.assertEqual(first["payment_mode"], "others")
        self.assertNotIn("exchange_rate", first, "USD is the organization's base currency")
        self.assertEqual(first["customer_id"], zoho[invs[0]["sequenceId"]]["customer_id"])
        self.assertIn("Stripe GATEWAY ch_", first["description"])
        second = made[p2["id"]]
        self.assertEqual(cents(second["amount"]), Decimal("310.50"))
        self.assertEqual(sorted(cents(a["amount_applied"]) for a in second["invoices"]),
                         [Decimal("60.00"), Decimal("250.50")])
        self.assertEqual(zoho[invs[0]["sequenceId"]]["status"], "paid")
        self.assertEqual(zoho[invs[1]["sequenceId"]]["status"], "paid")
        self.assertEqual(zoho[invs[2]["sequenceId"]]["status"], "sent")
        self.assert_balances_equal(invs)
        # one call each, and the mapping both ways
        posts = [r for r in self.zoho.requests("/books/v3/customerpayments") if r["method"] == "POST"]
        self.assertEqual(len(posts), 2)
        self.assertEqual(value("SELECT togai_zoho.zohobooks_id('payment', %s)" % literal(p1["id"])),
                         first["payment_id"])
        # re-polls of both sides: nothing sent again, nothing echoed back to Togai
        before = len(self.togai_payments())
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.poll_togai()
        self.poll_zoho()
        self.assertTrue(self.idle())
        self.assertEqual(len(self.zoho_payments(aid)), 2)
        self.assertEqual(len(self.togai_payments()), before)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.inbox WHERE entity = 'payment' "
                               "AND payload ->> 'reference_number' LIKE 'pay.%'"), "0")
        self.assert_balances_equal(invs)
        # both sides read again: they agree, so nothing shows among the differences
        self.assertEqual(self.differences(invs), [])

    def test_a_zoho_books_payment_recorded_in_togai_is_not_sent_back(self):
        aid, invs = self.synced(1, ["80.00"])
        self.poll_togai()                       # the payments list walked once
        zinv = self.zoho_invoices()[invs[0]["sequenceId"]]
        zp = self.zoho_payment(zinv, 30.0)
        self.poll_zoho()
        self.assertTrue(self.idle())
        (tp,) = [p for p in self.togai_payments()
                 if p["externalPaymentReferences"]["transactionNumber"] == zp["payment_id"]]
        self.zoho.clear_requests()
        out = self.poll_togai()
        self.assertEqual(out["lists"]["payments:new"]["changed"], 1, out)
        self.assertTrue(self.idle())
        self.assertEqual([r for r in self.zoho.requests("/books/v3/customerpayments")
                          if r["method"] == "POST"], [])
        self.assertEqual(self.job_result("payment_collected", tp["id"])[0]["did"],
                         "recorded in Togai from Zoho Books payment %s: not sent back" % zp["payment_id"])
        self.assert_balances_equal(invs)

    def test_payment_waits_for_its_invoice_then_applies(self):
        """A new account, its invoice born paid and its payment, all in one poll."""
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        inv = invoice(self.prefix + ".inv.0", aid, cid, self.prefix + "-0",
                      [line("Seats", quantity=3, rate=33.33)])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()                       # the lists walked once; the invoice is on its way
        pay = self.collect(aid, {inv["id"]: "99.99"}, source="CARD")
        self.poll_togai()
        self.assertTrue(self.idle(90))
        (made,) = [p for p in self.zoho_payments(aid) if p["reference_number"] == pay["id"]]
        self.assertEqual(made["payment_mode"], "creditcard")
        self.assertEqual(self.zoho_invoices()[inv["sequenceId"]]["status"], "paid")
        self.assert_balances_equal([inv])

    def test_payment_made_before_a_lost_answer_is_found_not_doubled(self):
        aid, invs = self.synced(1, ["55.55"])
        self.poll_togai()
        self.zoho.faults({"kind": "after_success_drop", "count": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/customerpayments"}})
        pay = self.collect(aid, {invs[0]["id"]: "55.55"}, source="BANK_TRANSFER")
        self.poll_togai()
        self.assertTrue(self.idle(90))
        made = [p for p in self.zoho_payments(aid) if p["reference_number"] == pay["id"]]
        self.assertEqual(len(made), 1, made)
        self.assertEqual(made[0]["payment_mode"], "banktransfer")
        # the retry looked for it by its reference and read the candidate whole
        self.assertTrue([r for r in self.zoho.requests("/books/v3/customerpayments")
                         if r["method"] == "GET" and r["query"].get("reference_number") == pay["id"]])
        self.assertTrue(self.zoho.requests("/books/v3/customerpayments/" + made[0]["payment_id"]))
        self.assertEqual(value("SELECT togai_zoho.zohobooks_id('payment', %s)" % literal(pay["id"])),
                         made[0]["payment_id"])
        self.assert_balances_equal(invs)

    def test_uncollectible_invoice_is_written_off_after_a_partial_payment(self):
        aid, invs = self.synced(2, ["120.00", "75.25"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "20.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.togai.call("POST", "invoice_status", {"id": invs[0]["id"], "status": "UN_COLLECTIBLE"})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        self.assertEqual((cents(z["balance"]), cents(z["write_off_amount"]), cents(z["payment_made"])),
                         (Decimal("0.00"), Decimal("100.00"), Decimal("20.00")))
        self.assertEqual(self.zoho_invoices()[invs[1]["sequenceId"]].get("write_off_amount"), None)
        self.assert_balances_equal(invs)
        # written off once: a re-poll and a repeat of the move send nothing
        self.zoho.clear_requests()
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(self.zoho.requests("/books/v3/invoices/%s/writeoff" % z["invoice_id"]), [])

    def test_void_after_a_payment_ends_with_zoho_books_refusal(self):
        aid, invs = self.synced(1, ["64.00"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "10.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.togai.call("POST", "invoice_status", {"id": invs[0]["id"], "status": "VOID"})
        self.poll_togai()
        self.assertTrue(self.idle())
        error = value("SELECT last_error FROM togai_zoho.dead_jobs WHERE source_id = %s"
                      % literal(invs[0]["id"]))
        self.assertIn("payments or credits applied", error)
        self.assertEqual(self.zoho_invoices()[invs[0]["sequenceId"]]["status"], "partially_paid")
        # where a person looks: Togai owes nothing on a void invoice, Zoho Books still 54.00
        self.poll_zoho()
        self.assertEqual(self.differences(invs), [(invs[0]["id"], "VOID", "partially_paid", "0", "54.00", "54.00")])
        sql("DELETE FROM togai_zoho.outbox WHERE source_id = %s" % literal(invs[0]["id"]))

    def test_foreign_currency_invoice_and_payment_carry_zoho_books_exchange_rate(self):
        """The organization's base is USD: a EUR invoice and its payment carry Zoho Books' rate of
        their dates (the closest before them), and the jobs' results say whose rate it is."""
        self.zoho.seed({"exchange_rates": [
            {"currency_code": "EUR", "effective_date": "2026-10-30", "rate": 1.08},
            {"currency_code": "EUR", "effective_date": "2026-11-05", "rate": 1.1}]})
        (aid,) = self.seed_accounts(1, currency="EUR")
        cid = aid.replace(".acc.", ".cus.")
        inv = invoice(self.prefix + ".inv.eur", aid, cid, self.prefix + "-EUR",
                      [line("Seats", quantity=2, rate=45, currency="EUR")], currency="EUR")
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[inv["sequenceId"]]
        self.assertEqual((z["currency_code"], z["exchange_rate"]), ("EUR", 1.08))
        self.assertIn("exchange rate EUR/USD 1.08, Zoho Books' of 2026-10-30",
                      self.job_result("invoice_generated", inv["id"])[0]["note"])
        pay = self.collect(aid, {inv["id"]: "90.00"}, currency="EUR")
        self.poll_togai()
        self.assertTrue(self.idle())
        (made,) = [p for p in self.zoho_payments(aid) if p["reference_number"] == pay["id"]]
        self.assertEqual(made["exchange_rate"], 1.1)
        self.assertEqual(cents(made["amount"]), Decimal("90.00"))
        self.assert_balances_equal([inv])

    def refund(self, inv):
        """Togai refunds the invoice (no refund object: only the status moves)."""
        self.togai.call("POST", "invoice_status", {"id": inv["id"], "status": "REFUND_COMPLETED"})
        self.poll_togai()
        self.assertTrue(self.idle(90))

    def credit_notes(self, inv):
        return [c for c in self.zoho.state()["creditnotes"]
                if c.get("reference_number") == "Refund " + inv["sequenceId"]]

    def refund_result(self, inv):
        return self.job_result("invoice_refunded", inv["id"])[0]

    def test_refunded_paid_invoice_gets_a_credit_note_refunded_whole_once(self):
        aid, invs = self.synced(1, ["80.40"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "80.40"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.refund(invs[0])
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        (note,) = self.credit_notes(invs[0])
        self.assertEqual((cents(note["total"]), cents(note["balance"]), note["status"]),
                         (Decimal("80.40"), Decimal("0.00"), "closed"))
        # the invoice's own lines and items, for its contact, tied to it
        self.assertEqual([(li["item_id"], li["rate"]) for li in note["line_items"]],
                         [(li["item_id"], li["rate"]) for li in z["line_items"]])
        self.assertEqual((note["customer_id"], note["invoice_id"]), (z["customer_id"], z["invoice_id"]))
        self.assertEqual([cents(r["amount"]) for r in note["_refunds"]], [Decimal("80.40")])
        self.assertEqual(note["_refunds"][0]["reference_number"], "Refund " + invs[0]["sequenceId"])
        self.assertEqual((cents(z["balance"]), cents(z["payment_made"])), (Decimal("0.00"), Decimal("80.40")))
        result = self.refund_result(invs[0])
        self.assertEqual((result["did"], result["zohobooks_id"]), ("credited and refunded", note["creditnote_id"]))
        self.assertIn("0.00 applied to the invoice, 80.40 refunded", result["note"])
        # once: a sweep and a repeat of the move make nothing more
        self.zoho.clear_requests()
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(self.zoho.requests("/books/v3/creditnotes"), [])
        self.assertEqual(len(self.credit_notes(invs[0])), 1)

    def test_refund_of_a_partly_paid_invoice_credits_the_rest_and_refunds_the_paid(self):
        aid, invs = self.synced(2, ["120.00", "30.00"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "20.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.refund(invs[0])
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        (note,) = self.credit_notes(invs[0])
        self.assertEqual((cents(z["balance"]), cents(z["credits_applied"]), cents(z["payment_made"])),
                         (Decimal("0.00"), Decimal("100.00"), Decimal("20.00")))
        self.assertEqual([(a["invoice_id"], cents(a["amount_applied"])) for a in note["invoices"]],
                         [(z["invoice_id"], Decimal("100.00"))])
        self.assertEqual([cents(r["amount"]) for r in note["_refunds"]], [Decimal("20.00")])
        self.assertEqual((cents(note["balance"]), note["status"]), (Decimal("0.00"), "closed"))
        self.assertIn("100.00 applied to the invoice, 20.00 refunded", self.refund_result(invs[0])["note"])
        # the other invoice is untouched
        self.assertEqual(self.credit_notes(invs[1]), [])
        self.assertEqual(cents(self.zoho_invoices()[invs[1]["sequenceId"]]["balance"]), Decimal("30.00"))

    def test_refund_after_a_lost_answer_is_found_not_doubled(self):
        aid, invs = self.synced(1, ["42.00"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "42.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.zoho.faults({"kind": "after_success_drop", "count": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/creditnotes/"}})
        self.refund(invs[0])
        (note,) = self.credit_notes(invs[0])
        self.assertEqual([cents(r["amount"]) for r in note["_refunds"]], [Decimal("42.00")])
        # the retry found the credit note by its reference and read what it had refunded
        self.assertTrue([r for r in self.zoho.requests("/books/v3/creditnotes")
                         if r["method"] == "GET"
                         and r["query"].get("reference_number") == "Refund " + invs[0]["sequenceId"]])
        self.assertTrue(self.zoho.requests("/books/v3/creditnotes/%s/refunds" % note["creditnote_id"]))
        self.assertEqual(self.refund_result(invs[0])["did"], "found its credit note; settled")

    def test_refund_of_an_invoice_never_synced_waits_then_stops_naming_it(self):
        aid, invs = self.synced(1, ["10.00"])
        other = invoice(self.prefix + ".inv.x", aid, aid.replace(".acc.", ".cus."), self.prefix + "-X",
                        [line("Usage", value=Decimal("15.00"))], status="REFUND_COMPLETED")
        sql("SELECT togai_zoho.set_flow_enabled('Create an invoice in ZohoBooks on Togai invoice', false)")
        self.addCleanup(sql, "SELECT togai_zoho.set_flow_enabled("
                        "'Create an invoice in ZohoBooks on Togai invoice', true)")
        self.togai.seed({"invoices": [other]})
        self.poll_togai()
        self.assertTrue(self.idle())
        # no invoice in Zoho Books and none on its way: nothing to credit
        self.assertEqual(self.refund_result(other)["did"], "no Zoho Books invoice to refund")
        self.assertEqual(self.credit_notes(other), [])

    def changed(self, inv, amount):
        """The Togai invoice gets another line (a miscellaneous charge) while it stays generated."""
        current = {i["id"]: i for i in self.togai.state()["invoices"]}[inv["id"]]
        fresh = invoice(inv["id"], inv["ownerId"], inv["customerId"], inv["sequenceId"],
                        [line("Usage", value=Decimal(str(inv["totalAmount"]))),
                         line("Miscellaneous charge", value=Decimal(amount))])
        # Togai stamps the change (to the second: a later second than the invoice's)
        again = dict(current, revenueInfo=fresh["revenueInfo"], totalAmount=fresh["totalAmount"],
                     updatedAt=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 2)))
        self.togai.seed({"invoices": [again]})
        self.poll_togai()
        self.assertTrue(self.idle())
        return again

    def update_result(self, inv):
        return self.job_result("invoice_updated", inv["id"])[0]

    def test_invoice_changed_before_any_payment_is_updated_in_zoho_books(self):
        aid, invs = self.synced(1, ["70.00"])
        before = self.zoho_invoices()[invs[0]["sequenceId"]]
        again = self.changed(invs[0], "12.50")
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        self.assertEqual(z["invoice_id"], before["invoice_id"])
        self.assertEqual((cents(z["total"]), cents(z["balance"])), (Decimal("82.50"), Decimal("82.50")))
        self.assertEqual([li["name"] for li in z["line_items"]], ["Usage", "Miscellaneous charge"])
        self.assertEqual(self.update_result(again)["did"], "updated")
        puts = [r for r in self.zoho.requests("/books/v3/invoices/" + z["invoice_id"]) if r["method"] == "PUT"]
        self.assertEqual(len(puts), 1)
        self.assert_balances_equal([again])
        # a re-poll of the same invoice changes nothing and sends nothing
        self.zoho.clear_requests()
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual([r for r in self.zoho.requests("/books/v3/invoices") if r["method"] != "GET"], [])

    def test_invoice_changed_after_a_payment_says_the_difference(self):
        aid, invs = self.synced(1, ["40.00"])
        self.poll_togai()
        self.collect(aid, {invs[0]["id"]: "15.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        again = self.changed(invs[0], "5.00")
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        self.assertEqual(cents(z["total"]), Decimal("40.00"))
        result = self.update_result(again)
        self.assertEqual(result["did"], "not updated: money was applied to it")
        self.assertIn("Togai total 45", result["note"])
        self.assertIn("payment_made 15", result["note"])
        self.assertEqual([r for r in self.zoho.requests("/books/v3/invoices/" + z["invoice_id"])
                          if r["method"] == "PUT"], [])
        # and where a person looks: 5.00 more owed in Togai than in Zoho Books
        self.poll_zoho()
        self.assertEqual([r[3:] for r in self.differences([again])], [("30.00", "25.00", "-5.00")])

    def test_prepaid_credits_become_a_credit_note_applied_to_the_invoice(self):
        (aid,) = self.seed_accounts(1)
        credits = {"id": self.prefix + ".credits", "description": "Credits", "type": "TOTAL_CREDITS",
                   "units": "USD", "value": -30.0, "lineItems": [
                       {"id": self.prefix + ".grant", "description": "Prepaid grant", "type": "SUB_CREDITS",
                        "units": "USD", "value": -30.0, "lineItems": []}]}
        inv = invoice(self.prefix + ".inv.cr", aid, aid.replace(".acc.", ".cus."), self.prefix + "-CR",
                      [line("Usage", value=Decimal("100.00")), credits])
        self.assertEqual(inv["totalAmount"], 70.0)
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        z = self.zoho_invoices()[inv["sequenceId"]]
        # the charges before credits, no silent adjustment; the credits as a credit note applied
        self.assertEqual((cents(z["total"]), cents(z.get("adjustment") or 0)), (Decimal("100.00"), Decimal("0.00")))
        (note,) = [c for c in self.zoho.state()["creditnotes"]
                   if c.get("reference_number") == "Credits " + inv["sequenceId"]]
        self.assertEqual((cents(note["total"]), cents(note["balance"])), (Decimal("30.00"), Decimal("0.00")))
        self.assertEqual((cents(z["credits_applied"]), cents(z["balance"])), (Decimal("30.00"), Decimal("70.00")))
        result = self.job_result("invoice_generated", inv["id"])
        self.assertEqual(result[-1]["did"], "credited")
        self.assertIn("prepaid credits 30.00: 30.00 applied to the invoice", result[-1]["note"])
        self.assert_balances_equal([inv])
        # paid in Togai: both sides owe nothing; no difference to show
        self.collect(aid, {inv["id"]: "70.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assert_balances_equal([inv])
        self.poll_zoho()
        self.assertEqual(self.differences([inv]), [])
        # once: a sweep makes no second credit note
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(len([c for c in self.zoho.state()["creditnotes"]
                              if c.get("reference_number") == "Credits " + inv["sequenceId"]]), 1)

    def test_wallet_and_credit_records_become_a_customer_advance(self):
        aid, invs = self.synced(1, ["50.00"])
        self.poll_togai()
        pay = self.togai_api("POST", "/payments", {
            "accountId": aid, "currency": "USD", "totalAmount": 95.0,
            "externalPaymentReference": {"sourceName": "Stripe", "sourceType": "CARD",
                                         "transactionNumber": "ch_%s_w" % self.prefix},
            "lineItemRecords": [{"togaiId": invs[0]["id"], "amount": 50.0, "type": "INVOICE", "order": 1},
                                {"togaiId": "wallet", "amount": 20.0, "type": "WALLET_CREDIT", "order": 2},
                                {"togaiId": "credits", "amount": 25.0, "type": "CREDIT", "order": 3}]})
        top_up = self.togai_api("POST", "/payments", {
            "accountId": aid, "currency": "USD", "totalAmount": 10.0,
            "externalPaymentReference": {"sourceName": "Stripe", "sourceType": "CARD",
                                         "transactionNumber": "ch_%s_t" % self.prefix},
            "lineItemRecords": [{"togaiId": "wallet", "amount": 10.0, "type": "WALLET_CREDIT", "order": 1}]})
        self.poll_togai()
        self.assertTrue(self.idle())
        made = {p["reference_number"]: p for p in self.zoho_payments(aid)}
        # the invoice is paid; the rest is the customer's unused credit, not lost, not an invoice
        self.assertEqual((cents(made[pay["id"]]["amount"]), cents(made[pay["id"]]["unused_amount"])),
                         (Decimal("95.00"), Decimal("45.00")))
        self.assertEqual([(a["invoice_id"], cents(a["amount_applied"])) for a in made[pay["id"]]["invoices"]],
                         [(self.zoho_invoices()[invs[0]["sequenceId"]]["invoice_id"], Decimal("50.00"))])
        self.assertEqual((cents(made[top_up["id"]]["amount"]), made[top_up["id"]]["invoices"]),
                         (Decimal("10.00"), []))
        note = self.job_result("payment_collected", pay["id"])[0]["note"]
        self.assertIn("45 to prepaid credits or the wallet in Togai", note)
        self.assert_balances_equal(invs)

    def credits_invoice(self, aid, suffix, charges, credits):
        tree = {"id": "%s.credits.%s" % (self.prefix, suffix), "description": "Credits", "type": "TOTAL_CREDITS",
                "units": "USD", "value": -credits, "lineItems": []}
        return invoice("%s.inv.%s" % (self.prefix, suffix), aid, aid.replace(".acc.", ".cus."),
                       "%s-%s" % (self.prefix, suffix.upper()), [line("Usage", value=Decimal(charges)), tree])

    def buy_credits(self, aid, tag, amount):
        """A Togai payment that buys prepaid credits (one CREDIT record)."""
        return self.togai_api("POST", "/payments", {
            "accountId": aid, "currency": "USD", "totalAmount": amount,
            "externalPaymentReference": {"sourceName": "Stripe", "sourceType": "CARD",
                                         "transactionNumber": "ch_%s_%s" % (self.prefix, tag)},
            "lineItemRecords": [{"togaiId": "credits", "amount": amount, "type": "CREDIT", "order": 1}]})

    def unused(self, togai_payment):
        """What is unused of the Zoho Books payment made for a Togai payment (the customer's advance)."""
        (p,) = [p for p in self.zoho.state()["payments"] if p.get("reference_number") == togai_payment["id"]]
        return p["unused_amount"]

    def test_bought_credits_are_paid_from_their_advance_not_credited_again(self):
        """Credits bought with a Togai payment sit in Zoho Books as that payment's unused part:
        an invoice that uses them is paid from it, and only credits beyond it become a credit note."""
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        bought = self.buy_credits(aid, "b", 40.0)
        first = self.credits_invoice(aid, "b1", "100.00", 30.0)
        self.togai.seed({"invoices": [first]})
        # the advance applied, its answer lost: the retry reads what the advance paid
        self.zoho.faults({"kind": "after_success_drop", "count": 1,
                          "match": {"method": "POST", "path_suffix": "/credits"}})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        z = self.zoho_invoices()[first["sequenceId"]]
        # 30 of the 40 bought pay the invoice: no credit note, 10 left for the next
        self.assertEqual((cents(z["total"]), cents(z["payment_made"]), cents(z.get("credits_applied") or 0),
                          cents(z["balance"])),
                         (Decimal("100.00"), Decimal("30.00"), Decimal("0.00"), Decimal("70.00")))
        self.assertEqual(cents(self.unused(bought)), Decimal("10.00"))
        self.assertEqual([c for c in self.zoho.state()["creditnotes"]
                          if c.get("reference_number", "").startswith("Credits " + self.prefix)], [])
        self.assertEqual(len([r for r in self.zoho.requests("/books/v3/invoices/%s/credits" % z["invoice_id"])
                              if r["method"] == "POST"]), 1)
        result = self.job_result("invoice_generated", first["id"])[-1]
        self.assertEqual(result["did"], "found paid from the customer's advance")
        self.assertIn("prepaid credits 30.00: 30.00 paid from the customer's advance", result["note"])
        self.assert_balances_equal([first])
        # the next invoice uses more than is left: 10 from the advance, 15 by credit note
        second = self.credits_invoice(aid, "b2", "60.00", 25.0)
        self.togai.seed({"invoices": [second]})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        z2 = self.zoho_invoices()[second["sequenceId"]]
        (note,) = [c for c in self.zoho.state()["creditnotes"]
                   if c.get("reference_number") == "Credits " + second["sequenceId"]]
        self.assertEqual((cents(note["total"]), cents(note["balance"])), (Decimal("15.00"), Decimal("0.00")))
        self.assertEqual((cents(z2["payment_made"]), cents(z2["credits_applied"]), cents(z2["balance"])),
                         (Decimal("10.00"), Decimal("15.00"), Decimal("35.00")))
        self.assertIn("prepaid credits 25.00: 10.00 paid from the customer's advance",
                      self.job_result("invoice_generated", second["id"])[-1]["note"])
        self.assert_balances_equal([first, second])
        # once, and never back to Togai: a sweep and both polls move nothing more
        payments_in_togai = len(self.togai.state()["payments"])
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.poll_togai()
        self.poll_zoho()
        self.assertTrue(self.idle())
        self.assertEqual(len(self.togai.state()["payments"]), payments_in_togai)
        self.assertEqual(cents(self.unused(bought)), Decimal("0.00"))
        self.assertEqual(len([c for c in self.zoho.state()["creditnotes"]
                              if c.get("reference_number", "").startswith("Credits " + self.prefix)]), 1)
        self.assert_balances_equal([first, second])
        self.poll_zoho()
        self.assertEqual(self.differences([first, second]), [])

    def test_an_advance_deleted_in_zoho_books_is_passed_over(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        gone, kept = self.buy_credits(aid, "d1", 20.0), self.buy_credits(aid, "d2", 20.0)
        self.poll_togai()
        self.assertTrue(self.idle())
        (deleted,) = [p for p in self.zoho_payments(aid) if p["reference_number"] == gone["id"]]
        self.zoho_api("DELETE", "/customerpayments/" + deleted["payment_id"])
        inv = self.credits_invoice(aid, "d", "50.00", 25.0)
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        z = self.zoho_invoices()[inv["sequenceId"]]
        # the advance left pays 20, a credit note the other 5; the deleted one is named
        self.assertEqual((cents(z["payment_made"]), cents(z["credits_applied"]), cents(z["balance"])),
                         (Decimal("20.00"), Decimal("5.00"), Decimal("25.00")))
        self.assertEqual(cents(self.unused(kept)), Decimal("0.00"))
        result = self.job_result("invoice_generated", inv["id"])[-1]
        self.assertEqual(result["did"], "credited")
        self.assertIn("customer payment %s (an advance) is gone from Zoho Books" % deleted["payment_id"],
                      result["note"])
        self.assertIn("prepaid credits 25.00: 20.00 paid from the customer's advance", result["note"])
        self.assert_balances_equal([inv])

    def test_exchange_rate_is_read_once_per_currency_and_day(self):
        """A billing run: many invoices of one date in another currency read Zoho Books' rate once."""
        self.zoho.seed({"exchange_rates": [{"currency_code": "CHF", "effective_date": "2026-10-20",
                                            "rate": 1.13}]})
        (aid,) = self.seed_accounts(1, currency="CHF")
        cid = aid.replace(".acc.", ".cus.")
        invs = [invoice("%s.inv.chf%d" % (self.prefix, k), aid, cid, "%s-CHF%d" % (self.prefix, k),
                        [line("Seats", quantity=k + 1, rate=10, currency="CHF")], currency="CHF")
                for k in range(4)]
        self.togai.seed({"invoices": invs})
        self.poll_togai()
        self.assertTrue(self.idle())
        zoho = self.zoho_invoices()
        self.assertEqual([zoho[i["sequenceId"]]["exchange_rate"] for i in invs], [1.13] * 4)
        self.assertEqual(len([r for r in self.zoho.requests("/books/v3/settings/currencies/")
                              if r["path"].endswith("/exchangerates")]), 1)
        self.assertEqual(sql("SELECT currency_code, day::text, rate::text, effective_date "
                             "FROM togai_zoho.zohobooks_exchange_rate WHERE currency_code = 'CHF'"),
                         [("CHF", "2026-10-31", "1.13", "2026-10-20")])

    def test_corpus_both_sides_equal_to_the_cent_after_each_step(self):
        """Taxes, credits, partial payments, refunds, write-offs and four currencies: after each
        step every invoice's total (before credits), tax total and balance are the same on both
        sides to the minor unit, credit notes reverse what they credit, and money_differences
        shows nothing."""
        p = self.prefix
        self.zoho.seed({
            "taxes": [{"tax_id": "920000000000001", "tax_name": "Sales tax", "tax_percentage": 8.25},
                      {"tax_id": "920000000000002", "tax_name": "UK VAT", "tax_percentage": 20}],
            "exchange_rates": [{"currency_code": c, "effective_date": "2026-10-01", "rate": r}
                               for c, r in (("INR", 0.012), ("GBP", 1.27), ("JPY", 0.0066))]})
        sql("SELECT togai_zoho.map_tax('zoho', 'Sales tax', '920000000000001', 8.25)")
        sql("SELECT togai_zoho.map_tax('zoho', 'UK VAT', '920000000000002', 20)")
        accounts = {}
        for cur in ("USD", "INR", "GBP", "JPY"):
            aid = "%s.acc.%s" % (p, cur)
            self.togai.seed({"customers": [customer(aid + ".c", "Customer %s %s" % (p, cur))],
                             "accounts": [account(aid, aid + ".c", "Account %s %s" % (p, cur), cur)]})
            accounts[cur] = aid

        def credits(iid, amount, cur):
            return {"id": iid + ".credits", "description": "Credits", "type": "TOTAL_CREDITS", "units": cur,
                    "value": -float(amount), "lineItems": [
                        {"id": iid + ".grant", "description": "Grant", "type": "SUB_CREDITS", "units": cur,
                         "value": -float(amount), "lineItems": []}]}

        cases = {
            # taxed, paid in two parts
            "tax": (taxed(p + ".inv.tax", accounts["USD"], accounts["USD"] + ".c", p + "-TAX",
                          [line("Seats", quantity=2, rate=50), line("Support", quantity=1, rate=40)],
                          [("Sales tax", "11.55")]), Decimal("11.55"), Decimal(0)),
            # prepaid credits, paid in part, the rest written off
            "credits": (invoice(p + ".inv.cr", accounts["INR"], accounts["INR"] + ".c", p + "-CR",
                                [line("Usage", value=Decimal("200.00"), currency="INR"),
                                 credits(p + ".inv.cr", "50.00", "INR")], currency="INR"),
                        None, Decimal("50.00")),
            # taxed, paid in full, refunded
            "refund": (taxed(p + ".inv.ref", accounts["GBP"], accounts["GBP"] + ".c", p + "-REF",
                             [line("Seats", quantity=2, rate=25, currency="GBP")], [("UK VAT", "10.00")],
                             currency="GBP"), Decimal("10.00"), Decimal(0)),
            # no minor unit, paid in part, refunded
            "yen": (invoice(p + ".inv.jpy", accounts["JPY"], accounts["JPY"] + ".c", p + "-JPY",
                            [line("Usage", value=Decimal("12345"), currency="JPY")], currency="JPY"),
                    None, Decimal(0)),
        }
        invs = [c[0] for c in cases.values()]
        self.togai.seed({"invoices": invs})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        self.poll_togai()

        def check(step):
            togai = {i["id"]: i for i in self.togai.state()["invoices"]}
            zoho = self.zoho_invoices()
            for name, (inv, tax, credit) in cases.items():
                t, z = togai[inv["id"]], zoho[inv["sequenceId"]]
                what = (step, name, z)
                self.assertEqual(cents(z["total"]), cents(t["totalAmount"]) + credit, what)
                if tax is not None:
                    self.assertEqual(cents(z["tax_total"]), tax, what)
                owed = Decimal(0) if t["status"] in ("UN_COLLECTIBLE", "REFUND_COMPLETED") \
                    else cents(t["totalAmount"]) - cents(t["paidAmount"])
                self.assertEqual(cents(z["balance"]), owed, what)
            for note in self.zoho.state()["creditnotes"]:
                if note["reference_number"].startswith("Refund " + p):
                    z = zoho[note["reference_number"][len("Refund "):]]
                    self.assertEqual((cents(note["total"]), cents(note.get("tax_total", 0))),
                                     (cents(z["total"]), cents(z.get("tax_total", 0))), (step, note))
            self.poll_zoho()
            self.assertEqual(self.differences(invs), [], step)

        check("generated")
        self.collect(accounts["USD"], {cases["tax"][0]["id"]: "60.00"})
        self.collect(accounts["INR"], {cases["credits"][0]["id"]: "90.00"}, currency="INR")
        self.collect(accounts["GBP"], {cases["refund"][0]["id"]: "60.00"}, currency="GBP")
        self.collect(accounts["JPY"], {cases["yen"][0]["id"]: "5000"}, currency="JPY")
        self.poll_togai()
        self.assertTrue(self.idle(90))
        check("first payments")
        self.collect(accounts["USD"], {cases["tax"][0]["id"]: "91.55"})
        self.togai.call("POST", "invoice_status", {"id": cases["credits"][0]["id"], "status": "UN_COLLECTIBLE"})
        self.togai.call("POST", "invoice_status", {"id": cases["refund"][0]["id"], "status": "REFUND_COMPLETED"})
        self.togai.call("POST", "invoice_status", {"id": cases["yen"][0]["id"], "status": "REFUND_COMPLETED"})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        check("paid, written off, refunded")
        yen = [n for n in self.zoho.state()["creditnotes"] if n["reference_number"] == "Refund " + p + "-JPY"][0]
        self.assertEqual(([cents(a["amount_applied"]) for a in yen["invoices"]],
                          [cents(r["amount"]) for r in yen["_refunds"]]), ([Decimal("7345.00")], [Decimal("5000.00")]))
        self.assertEqual(sql("SELECT count(*) FROM togai_zoho.dead_jobs WHERE source_id LIKE %s" % literal(p + "%")),
                         [("0",)])
