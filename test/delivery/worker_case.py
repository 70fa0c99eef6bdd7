"""Shared set-up of the delivery suites: the extension in the worker's database (postgres),
both mocks, the two outbound flows, and helpers to insert sources and count what arrived."""

import subprocess
import time

from harness import WorkerDatabaseCase, literal, set_worker_settings, sql, value, wait_until

TOKEN = "togai.token.delivery"


def worker_pid():
    return value("SELECT pid FROM pg_stat_activity WHERE backend_type = 'togai_zoho worker'")


class WorkerCase(WorkerDatabaseCase):
    """Two outbound flows built by hand: accounts (contact_upsert) and invoices (invoice_create)."""

    togai_token = TOKEN

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sql("SELECT togai_zoho.create_flow('accounts', 'outbound', 'togai', 'account_changed')")
        sql("SELECT togai_zoho.add_flow_action('accounts', 'zoho', 'contact_upsert')")
        sql("SELECT togai_zoho.create_flow('invoices', 'outbound', 'togai', 'invoice_generated')")
        sql("SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create')")
        sql("SELECT togai_zoho.set_flow_enabled('accounts')")
        sql("SELECT togai_zoho.set_flow_enabled('invoices')")
        # tests pace themselves where they mean to
        sql("SELECT togai_zoho.set_rate_limit('zoho', 100000)")

    def setUp(self):
        for m in (self.zoho, self.togai):
            m.call("DELETE", "faults")
            m.config(latency_ms=0, rate_limit_per_minute=None)
            m.call("POST", "stats/reset")
        self.assertTrue(self.idle(30), "the previous test left work behind")
        sql("TRUNCATE togai_zoho.outbox, togai_zoho.outbox_stage, togai_zoho.outbox_attempt, "
            "togai_zoho.id_mapping, togai_zoho.customers, togai_zoho.invoices")
        self.zoho.clear_requests()
        self.prefix = "%s.%d" % (self._testMethodName[5:20], int(time.time() * 1000) % 100000)

    # sources ------------------------------------------------------------------------------
    def accounts(self, n, start=1, name=None):
        """Inserts n accounts in one transaction; returns their ids."""
        ids = ["%s.acc.%d" % (self.prefix, i) for i in range(start, start + n)]
        values = ", ".join("(%s, %s, %s, %s)" % (literal(a), literal(a.replace(".acc.", ".cus.")),
                                                  literal(name or ("Account " + a)), literal("Co " + a))
                           for a in ids)
        sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name) VALUES "
            + values)
        return ids

    def invoice(self, account_id, invoice_id, total="120.50"):
        sql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, total_amount, "
            "currency, invoice_date) VALUES (%s, %s, 'DUE', %s, %s, 'USD', now())"
            % (literal(invoice_id), literal(account_id), literal("INV-" + invoice_id), total))

    # outcomes -----------------------------------------------------------------------------
    def idle(self, timeout=60):
        return value("SELECT togai_zoho.wait_for_idle(%s)" % literal("%d s" % timeout),
                     timeout=timeout + 30) == "t"

    def contacts_by_account(self):
        """Togai account id -> number of Zoho contacts made for it (by the marker in notes)."""
        counts = {}
        for c in self.zoho.state()["contacts"]:
            notes = c.get("notes") or ""
            if notes.startswith("Togai account " + self.prefix):
                a = notes[len("Togai account "):].split(" ")[0]
                counts[a] = counts.get(a, 0) + 1
        return counts

    def states(self):
        return {k: int(v) for k, v in sql("SELECT state, count(*) FROM togai_zoho.outbox GROUP BY state")}

    def posts(self, path):
        return [r for r in self.zoho.requests("/books/v3" + path) if r["method"] == "POST"]

    def assertExactlyOnce(self, ids):
        counts = self.contacts_by_account()
        self.assertEqual(sorted(counts), sorted(ids), "lost accounts: %s" % (set(ids) - set(counts)))
        dups = {a: n for a, n in counts.items() if n != 1}
        self.assertEqual(dups, {}, "duplicated at the remote")
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.id_mapping WHERE entity = 'account'"),
                         str(len(ids)))


def kill(pid, signal="KILL"):
    subprocess.run(["kill", "-" + signal, str(pid)], check=False)


__all__ = ["WorkerCase", "set_worker_settings", "worker_pid", "kill", "wait_until", "sql", "value",
           "literal"]
