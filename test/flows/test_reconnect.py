"""Reconnecting Zoho Books creates nothing twice: the connection dropped with its mappings, added
again and backfilled, finds every contact and invoice it made before, a contact renamed in Zoho
Books and one with a distinct name (its account's name was taken) included, each for its own
account. The failure users of billing-to-accounting syncs report most.

Its own database: the worker serves another one, so process_outbox() delivers here."""

import json

from flows_case import ACCOUNTS_FLOW, INVOICES_FLOW, account, customer, invoice, line
from harness import (DatabaseCase, add_zoho, literal, remember_issued_tokens, remember_secret, value,
                     zoho_seed)

TOKEN = "togai.token.reconnect"


class Reconnect(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed(codes=("code.rc.1", "code.rc.2")))
        cls.togai = cls.mock("togai", "--token", TOKEN)
        remember_secret(TOKEN)
        value("SELECT togai_zoho.add_togai_connection('togai', %s, %s)"
              % (literal(TOKEN), literal(cls.togai.url)), cls.db)

    @classmethod
    def tearDownClass(cls):
        remember_issued_tokens(cls.zoho)
        super().tearDownClass()

    def connect(self, code):
        add_zoho(self, self.zoho, name="zb", code=code)
        self.sql("SELECT togai_zoho.install_default_flows('togai', 'zb')")
        self.sql("SELECT togai_zoho.set_rate_limit('zb', 100000)")

    def deliver(self):
        """process_outbox() until nothing is pending (bounded)."""
        for _ in range(50):
            self.value("SELECT togai_zoho.process_outbox(500)")
            if self.value("SELECT coalesce(sum(pending + running), 0) FROM togai_zoho.sync_status") == "0":
                return
        self.fail("jobs still pending: %s" % self.sql("SELECT flow, pending, last_error FROM togai_zoho.sync_status"))

    def mapped(self, entity):
        return dict(self.sql("SELECT togai_id, zohobooks_id FROM togai_zoho.id_mapping WHERE entity = %s"
                             % literal(entity)))

    def test_reconnect_and_backfill_find_every_object_again(self):
        accounts = [account("rc.acc.1", "rc.cus.1", "Acme"), account("rc.acc.2", "rc.cus.2", "Acme"),
                    account("rc.acc.3", "rc.cus.3", "Solo")]
        self.togai.seed({"customers": [customer("rc.cus.%d" % i, "Customer %d" % i) for i in (1, 2, 3)],
                         "accounts": accounts,
                         "invoices": [invoice("rc.inv.%d" % i, "rc.acc.%d" % i, "rc.cus.%d" % i, "RC-%d" % i,
                                              [line("Seats", quantity=i, rate=10)]) for i in (1, 2, 3)]})
        self.connect("code.rc.1")
        self.assertNotIn("error", self.json("SELECT togai_zoho.poll_togai('togai')"))
        self.deliver()
        contacts = self.mapped("account")
        invoices = self.mapped("invoice")
        self.assertEqual(len(contacts), 3)
        self.assertEqual(len(invoices), 3)
        names = {c["contact_id"]: c["contact_name"] for c in self.zoho.state()["contacts"]}
        self.assertEqual(sorted(names[contacts[a]] for a in contacts), ["Acme", "Acme (rc.acc.2)", "Solo"]
                         if names[contacts["rc.acc.1"]] == "Acme" else ["Acme", "Acme (rc.acc.1)", "Solo"])
        # a Zoho user renames one contact
        self.zoho.call("POST", "rename", {"contact_id": contacts["rc.acc.3"], "contact_name": "Solo (renamed in Zoho)"})

        # the connection goes, with its flows and mappings; it comes back and is backfilled
        for (flow,) in self.sql("SELECT name FROM togai_zoho.flow"):
            self.sql("SELECT togai_zoho.drop_flow(%s, force => true)" % literal(flow))
        self.sql("SELECT togai_zoho.drop_connection('zb', force => true)")
        self.assertEqual(self.mapped("account"), {})
        self.connect("code.rc.2")
        self.assertEqual(self.value("SELECT togai_zoho.backfill(%s)" % literal(ACCOUNTS_FLOW)), "3")
        self.assertEqual(self.value("SELECT togai_zoho.backfill(%s)" % literal(INVOICES_FLOW)), "3")
        self.deliver()

        state = self.zoho.state()
        self.assertEqual(len(state["contacts"]), 3, json.dumps([c["contact_name"] for c in state["contacts"]]))
        self.assertEqual(len(state["invoices"]), 3)
        self.assertEqual(self.mapped("account"), contacts, "each account found its own contact")
        self.assertEqual(self.mapped("invoice"), invoices, "each invoice found its own")
        self.assertEqual(self.value("SELECT count(*) FROM togai_zoho.dead_jobs"), "0")
        # nothing was created after the reconnect, and each contact was read before it was taken
        posts = [r for r in self.zoho.requests("/books/v3/") if r["method"] == "POST"
                 and r["status"] in (200, 201) and r["path"] in ("/books/v3/contacts", "/books/v3/invoices")]
        self.assertEqual(len(posts), 6, "only the first connection's creates")
