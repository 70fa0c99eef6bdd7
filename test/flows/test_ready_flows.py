"""The ready flows end to end: Togai accounts become Zoho Books contacts (with the id written
back), generated invoices become Zoho invoices to the cent, voids follow, payments flow back."""

from decimal import Decimal

from flows_case import (ACCOUNTS_FLOW, INVOICES_FLOW, FlowsCase, account, cents, customer, invoice,
                        line, literal, sql, value, wait_until)


class ReadyFlows(FlowsCase):

    def test_install_default_flows_creates_four_enabled_flows(self):
        self.assertEqual(len(self.flows), 4)
        rows = sql("SELECT name, direction, trigger_connection, trigger, enabled, "
                   "replace(actions, E'\\n', ' | ') FROM togai_zoho.flows ORDER BY id")
        self.assertEqual([r[0] for r in rows], self.flows)
        self.assertTrue(all(r[4] == "t" for r in rows))
        self.assertEqual(rows[0][5], "1. zoho: contact_upsert | 2. togai: account_write_back")
        self.assertEqual(rows[3][1:4], ("inbound", "zoho", "payment_recorded"))
        # again: the same flows, left as they are
        again = [r[0] for r in sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")]
        self.assertEqual(again, self.flows)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.flow"), "4")

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
        puts = [r for r in self.zoho.requests("/books/v3/contacts/") if r["method"] == "PUT"]
        self.assertEqual(len(puts), 1)
