"""Shared by the reliability suites: a drain of both ready flows (accounts with write-back,
generated invoices) over thousands of jobs, and the count of what reached the mocks.

TZ_LONG=1 in the environment runs the long variants (more jobs, more interruptions)."""

import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flows"))

from flows_case import FlowsCase, account, customer  # noqa: E402
from harness import literal, set_worker_settings, sql, value, wait_until  # noqa: E402

LONG = os.environ.get("TZ_LONG") == "1"


def sizes(short, long):
    """Jobs of each kind: TZ_DRAIN_JOBS overrides (for a quick look), TZ_LONG=1 takes the long one."""
    return int(os.environ.get("TZ_DRAIN_JOBS") or (long if LONG else short))


class DrainCase(FlowsCase):

    def settings(self, **kw):
        s = {"togai_zoho." + k: str(v) for k, v in kw.items()}
        set_worker_settings(s)
        self.addCleanup(set_worker_settings, {k: None for k in s})

    def enqueue(self, accounts, invoices):
        """Accounts (in the Togai mock too, for the write-back) and generated invoices, put into
        the mirrors in two transactions; returns (account ids, invoice references)."""
        p = self.prefix
        ids = ["%s.acc.%d" % (p, i) for i in range(1, accounts + 1)]
        self.togai.seed({"customers": [customer(a.replace(".acc.", ".cus."), "Customer " + a) for a in ids],
                         "accounts": [account(a, a.replace(".acc.", ".cus."), "Account " + a) for a in ids]})
        sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name, "
            "invoice_currency, net_term_days) SELECT %s || g, %s || g, 'Account ' || %s || g, "
            "'Customer ' || g, 'USD', 30 FROM generate_series(1, %d) g"
            % (literal(p + ".acc."), literal(p + ".cus."), literal(p + ".acc."), accounts))
        sql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, currency, "
            "total_amount, invoice_date, revenue_info) SELECT %s || g, %s || (1 + g %% %d), 'DUE', "
            "%s || g, 'USD', round(g * 1.37, 2), now(), jsonb_build_object('lineItems', "
            "jsonb_build_array(jsonb_build_object('description', 'Usage', 'type', "
            "'USAGE_RATE_CARD_AMOUNT', 'quantity', g, 'valuePerQuantity', 1.37, "
            "'value', round(g * 1.37, 2)))) FROM generate_series(1, %d) g"
            % (literal(p + ".inv."), literal(p + ".acc."), accounts, literal(p + "-"), invoices))
        return ids, ["%s-%d" % (p, i) for i in range(1, invoices + 1)]

    def states(self):
        return {k: int(v) for k, v in sql(
            "SELECT state, count(*) FROM togai_zoho.outbox WHERE source_id LIKE %s GROUP BY state"
            % literal(self.prefix + "%"))}

    def settled(self, total):
        s = self.states()
        return s.get("done", 0) + s.get("dead", 0) == total

    def count_at_remotes(self, ids, references):
        """What reached the mocks: lost and duplicated contacts, invoices and write-backs."""
        zoho = self.zoho.state()
        contacts = {}
        for c in zoho["contacts"]:
            notes = c.get("notes") or ""
            if notes.startswith("Togai account " + self.prefix):
                a = notes[len("Togai account "):].split(" ")[0]
                contacts.setdefault(a, []).append(c["contact_id"])
        invoices = {}
        for i in zoho["invoices"]:
            invoices.setdefault(i.get("reference_number"), []).append(i["invoice_id"])
        mapped = dict(sql("SELECT togai_id, zohobooks_id FROM togai_zoho.id_mapping "
                          "WHERE entity = 'account' AND togai_id LIKE %s" % literal(self.prefix + "%")))
        written = {a["id"]: (a.get("metadata") or {}).get("zohobooks_contact_id")
                   for a in self.togai.state()["accounts"] if a["id"].startswith(self.prefix)}
        return {
            "contacts lost": sum(1 for a in ids if a not in contacts),
            "contacts duplicated": sum(len(v) - 1 for v in contacts.values()),
            "invoices lost": sum(1 for r in references if r not in invoices),
            "invoices duplicated": sum(len(invoices[r]) - 1 for r in references if r in invoices),
            "write-backs missing or wrong": sum(1 for a in ids if written.get(a) is None
                                                or written.get(a) != mapped.get(a)),
        }

    def report(self, title, figures):
        width = max(len(k) for k in figures)
        print("\n    %s" % title)
        for k, v in figures.items():
            print("      %-*s  %s" % (width, k, v))


__all__ = ["DrainCase", "LONG", "sizes", "random", "time", "sql", "value", "wait_until", "literal"]
