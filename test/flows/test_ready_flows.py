"""The ready flows end to end: Togai accounts become Zoho Books contacts (with the id written
back), generated invoices become Zoho invoices to the cent, voids follow, payments flow back."""

from decimal import Decimal

from flows_case import (ACCOUNTS_FLOW, INVOICES_FLOW, FlowsCase, account, cents, customer, invoice,
                        line, literal, sql, value, wait_until)


class ReadyFlows(FlowsCase):

    def test_install_default_flows_creates_eight_enabled_flows(self):
        self.assertEqual(len(self.flows), 8)
        rows = sql("SELECT name, direction, trigger_connection, trigger, enabled, "
                   "replace(actions, E'\\n', ' | ') FROM togai_zoho.flows ORDER BY id")
        self.assertEqual([r[0] for r in rows], self.flows)
        self.assertTrue(all(r[4] == "t" for r in rows))
        self.assertEqual(rows[0][5], "1. zoho: contact_upsert | 2. togai: account_write_back")
        self.assertEqual(rows[3][1:4], ("inbound", "zoho", "payment_recorded"))
        # again: the same flows, left as they are
        again = [r[0] for r in sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")]
        self.assertEqual(again, self.flows)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.flow"), "8")

    def test_account_becomes_contact_with_ids_and_write_back(self):
        (aid,) = self.seed_accounts(1, currency="EUR", address={
            "line1": "Bahnhofstrasse 1", "line2": "3. Stock", "city": "Zürich", "state": "ZH",
            "postalCode": "8001", "country": "CH"}, metadata={"crm": "42"})
        cid = aid.replace(".acc.", ".cus.")
        out = self.poll_togai()
        self.assertEqual(out["accounts"]["changed"], 1, out)
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        self.assertEqual(contact["contact_name"], "Account " + aid)
        self.assertEqual(contact["company_name"], "Customer " + cid)
        self.assertEqual(contact["currency_code"], "EUR")
        self.assertEqual(contact["payment_terms"], 30)
        self.assertEqual(contact["billing_address"], {
            "address": "Bahnhofstrasse 1", "street2": "3. Stock", "city": "Zürich", "state": "ZH",
            "zip": "8001", "country": "CH"})
        self.assertEqual(contact["contact_persons"][0]["email"], "billing@%s.example" % aid.replace(".", "-"))
        self.assertIn("Togai account %s (customer %s)" % (aid, cid), contact["notes"])
        # searchable by either id
        for term in (aid, cid):
            found = self.zoho_api("GET", "/contacts?search_text=" + term)["contacts"]
            self.assertEqual([c["contact_id"] for c in found], [contact["contact_id"]])
        # mapping both ways
        self.assertEqual(value("SELECT togai_zoho.zohobooks_id('account', %s)" % literal(aid)),
                         contact["contact_id"])
        self.assertEqual(value("SELECT togai_zoho.togai_id('account', %s)" % literal(contact["contact_id"])),
                         aid)
        self.assertEqual(value("SELECT togai_customer_id FROM togai_zoho.mappings WHERE togai_id = %s"
                               % literal(aid)), cid)
        # written back onto the Togai account, other metadata kept
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        self.assertEqual(acc["metadata"], {"crm": "42", "zohobooks_contact_id": contact["contact_id"]})
        # the write-back is not a change that syncs again
        self.togai.clear_requests()
        self.zoho.clear_requests()
        out = self.poll_togai()
        self.assertEqual(out["accounts"]["changed"], 0, out)
        self.assertTrue(self.idle())
        self.assertEqual(self.zoho.requests("/books/v3/contacts"), [])

    def test_account_change_updates_the_same_contact(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        (before,) = self.contact_of(aid)
        changed = account(aid, aid.replace(".acc.", ".cus."), "Renamed " + aid, email="new@x.example")
        self.togai.seed({"accounts": [changed]})
        self.assertEqual(self.poll_togai()["accounts"]["changed"], 1)
        self.assertTrue(self.idle())
        (after,) = self.contact_of(aid)
        self.assertEqual(after["contact_id"], before["contact_id"])
        self.assertEqual(after["contact_name"], "Renamed " + aid)
        self.assertEqual(after["contact_persons"][0]["email"], "new@x.example")
        # the update named the person it changed: Zoho Books added none
        self.assertEqual(len(after["contact_persons"]), 1)
        self.assertEqual(after["contact_persons"][0]["contact_person_id"],
                         before["contact_persons"][0]["contact_person_id"])
        puts = [r for r in self.zoho.requests("/books/v3/contacts/") if r["method"] == "PUT"]
        self.assertEqual(len(puts), 1)
        # the customer renamed in Togai: the contact's company follows
        cid = aid.replace(".acc.", ".cus.")
        self.togai.seed({"customers": [customer(cid, "Renamed Holding")]})
        # no list filters by change: the sweep finds it (sweep_now: at the next poll)
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.assertEqual(self.poll_togai()["customers"]["changed"], 1)
        self.assertTrue(self.idle())
        (after,) = self.contact_of(aid)
        self.assertEqual((after["contact_id"], after["company_name"]), (before["contact_id"], "Renamed Holding"))

    # invoices ---------------------------------------------------------------------------
    def corpus(self, aid, cid):
        """A varied invoice corpus: (togai invoice, expected total)."""
        p = self.prefix
        many = [line("Meter %03d" % k, quantity=k * 7 + 0.25, rate=0.0137 * k) for k in range(1, 41)]
        return [
            invoice(p + ".inv.frac", aid, cid, p + "-FRAC", [
                line("API calls", quantity=12500, rate=0.002),
                line("Storage GB-month", quantity=12.5, rate=0.35),
                line("Overage", quantity=0.333, rate=3.03)]),
            invoice(p + ".inv.zero", aid, cid, p + "-ZERO", [line("Free tier", quantity=1, rate=0)]),
            invoice(p + ".inv.empty", aid, cid, p + "-EMPTY", [], total=0),
            invoice(p + ".inv.many", aid, cid, p + "-MANY", many),
            invoice(p + ".inv.unicode", aid, cid, p + "-UNI", [
                line("Auswertungen (Analysen) – Zürich ✓", quantity=3, rate=199.99),
                line("東京リージョン 転送量", quantity=1024, rate=0.0049)]),
            # Togai's own shape: wrapped in grand total > total > net > gross, with a discount
            invoice(p + ".inv.wrapped", aid, cid, p + "-WRAP", [
                line("Payout_NEFT", value=Decimal("392.10"), children=[
                    line("Slab 1", quantity=10000, rate=0.001), line("Slab 2", quantity=10000, rate=0.001)]),
                line("Payout IMPS", quantity=32109, rate=0.001, value=Decimal("589.94"))],
                total=Decimal("881.94"), wrap=True),
            # a value that is not quantity x rate (tiered): the value is billed
            invoice(p + ".inv.tiered", aid, cid, p + "-TIER", [
                line("Tiered seats", quantity=17, rate=9.99, value=Decimal("150.00")),
                line("Half-cent rounding", quantity=3, rate=0.005)]),
            # no revenue lines at all: one line for the total
            dict(invoice(p + ".inv.bare", aid, cid, p + "-BARE", [], total=Decimal("42.42")),
                 revenueInfo={"id": "x", "description": "Total", "type": "TOTAL_AMOUNT", "units": "USD",
                              "value": 42.42, "lineItems": []}),
        ]

    def test_generated_invoices_arrive_with_totals_to_the_cent(self):
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        corpus = self.corpus(aid, cid)
        draft = invoice(self.prefix + ".inv.draft", aid, cid, self.prefix + "-DRAFT",
                        [line("Ongoing", quantity=1, rate=5)], status="DRAFT")
        self.togai.seed({"invoices": corpus + [draft]})
        self.poll_togai()
        self.assertTrue(self.idle())
        got = self.zoho_invoices()
        self.assertEqual(sorted(got), sorted(i["sequenceId"] for i in corpus), "drafts stay out")
        (contact,) = self.contact_of(aid)
        compared = []
        for t in corpus:
            z = got[t["sequenceId"]]
            self.assertEqual(z["customer_id"], contact["contact_id"])
            self.assertEqual(cents(z["total"]), cents(t["totalAmount"]), t["sequenceId"])
            self.assertEqual(z["status"], "sent")
            self.assertEqual((z["date"], z["due_date"]), ("2026-10-31", "2026-11-30"))
            self.assertEqual(value("SELECT togai_zoho.zohobooks_id('invoice', %s)" % literal(t["id"])),
                             z["invoice_id"])
            compared.append((t["sequenceId"], str(cents(t["totalAmount"])), str(cents(z["total"]))))
        print("\n    corpus: %d invoices, totals equal to the cent: %s" % (len(compared), compared))
        frac = got[self.prefix + "-FRAC"]["line_items"]
        self.assertEqual([(li["name"], li["quantity"], li["rate"]) for li in frac],
                         [("API calls", 12500, 0.002), ("Storage GB-month", 12.5, 0.35),
                          ("Overage", 0.333, 3.03)])
        self.assertEqual(len(got[self.prefix + "-MANY"]["line_items"]), 40)
        uni = got[self.prefix + "-UNI"]["line_items"]
        self.assertEqual(uni[0]["name"], "Auswertungen (Analysen) – Zürich ✓")
        self.assertEqual(uni[1]["name"], "東京リージョン 転送量")
        wrapped = got[self.prefix + "-WRAP"]
        self.assertEqual([li["name"] for li in wrapped["line_items"]], ["Payout_NEFT", "Payout IMPS"])
        self.assertIn("Slab 1: 10000 × 0.001 = 10", wrapped["line_items"][0]["description"])
        # what the rate cards do not carry (a discount here) travels as the adjustment
        self.assertEqual(Decimal(str(wrapped["adjustment"])), Decimal("881.94") - Decimal("982.04"))
        tiered = got[self.prefix + "-TIER"]["line_items"]
        self.assertEqual((tiered[0]["quantity"], tiered[0]["rate"]), (1, 150.0))

    def test_invoice_generated_before_its_account_lands_after_it(self):
        aid = self.prefix + ".acc.late"
        cid = self.prefix + ".cus.late"
        inv = invoice(self.prefix + ".inv.early", aid, cid, self.prefix + "-EARLY",
                      [line("Seats", quantity=2, rate=10)])
        # the invoice reaches the mirror before its account does
        self.togai.seed({"invoices": [inv]})
        self.assertEqual(self.poll_togai()["invoices"]["changed"], 1)
        self.assertTrue(wait_until(lambda: value(
            "SELECT waiting_for FROM togai_zoho.outbox WHERE source_id = %s" % literal(inv["id"])) == aid))
        self.assertEqual(self.zoho_invoices(), {})
        self.togai.seed({"customers": [customer(cid, "Late Co")],
                         "accounts": [account(aid, cid, "Late account")]})
        self.poll_togai()
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        z = self.zoho_invoices()[self.prefix + "-EARLY"]
        self.assertEqual(z["customer_id"], contact["contact_id"])
        posts = [r["path"] for r in self.zoho.requests("/books/v3/") if r["method"] == "POST"
                 and r["path"] in ("/books/v3/contacts", "/books/v3/invoices")]
        self.assertEqual(posts, ["/books/v3/contacts", "/books/v3/invoices"])

    def test_voided_invoice_voids_the_zoho_invoice(self):
        (aid,) = self.seed_accounts(1)
        inv = invoice(self.prefix + ".inv.v", aid, aid.replace(".acc.", ".cus."), self.prefix + "-V",
                      [line("Seats", quantity=1, rate=99)])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(self.zoho_invoices()[self.prefix + "-V"]["status"], "sent")
        self.togai.call("POST", "invoice_status", {"id": inv["id"], "status": "VOID"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(self.zoho_invoices()[self.prefix + "-V"]["status"], "void")

    # payments ---------------------------------------------------------------------------
    def test_zoho_payment_reaches_togai_once(self):
        (aid,) = self.seed_accounts(1)
        inv = invoice(self.prefix + ".inv.p", aid, aid.replace(".acc.", ".cus."), self.prefix + "-P",
                      [line("Seats", quantity=3, rate=33.33)])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[self.prefix + "-P"]
        # backdated (dated before the invoice's last poll): found through the invoice it pays
        payment = self.zoho_payment(z, 99.99)
        out = self.poll_zoho()
        self.assertEqual(out["payments"], 1, out)
        self.assertTrue(self.idle())
        (recorded,) = [p for p in self.togai_payments()
                       if p["externalPaymentReferences"]["transactionNumber"] == payment["payment_id"]]
        self.assertEqual(recorded["accountId"], aid)
        self.assertEqual(recorded["currency"], "USD")
        self.assertEqual(Decimal(str(recorded["totalAmount"])), Decimal("99.99"))
        self.assertEqual(recorded["externalPaymentReferences"]["sourceType"], "BANK_TRANSFER")
        self.assertEqual(recorded["lineItemRecords"],
                         [{"togaiId": inv["id"], "amount": 99.99, "type": "INVOICE", "order": 1}])
        self.assertEqual(value("SELECT togai_zoho.togai_id('payment', %s)" % literal(payment["payment_id"])),
                         recorded["id"])
        togai_inv = [i for i in self.togai.state()["invoices"] if i["id"] == inv["id"]][0]
        self.assertEqual(togai_inv["status"], "PAID")
        # seen again by a poll and by a webhook: still one payment in Togai
        self.zoho.clear_requests()
        self.togai.clear_requests()
        self.poll_zoho()
        self.assertEqual(value("SELECT togai_zoho.receive_webhook('zoho', %s)"
                               % literal('{"payment": {"payment_id": "%s"}}' % payment["payment_id"])), "0")
        # the Togai invoice turning PAID syncs nothing new either
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual([r for r in self.togai.requests("/payments") if r["method"] == "POST"], [])
        self.assertEqual(self.posts_to_zoho("/"), [])
        self.assertEqual(len([p for p in self.togai_payments()
                              if p["externalPaymentReferences"]["transactionNumber"] == payment["payment_id"]]), 1)

    def posts_to_zoho(self, path):
        return [r for r in self.zoho.requests("/books/v3" + path) if r["method"] == "POST"]
