"""Dump and restore: pg_dump of a database with connections, flows, mappings, delivered and pending
jobs (one of them claimed by a worker at the moment of the dump), restored into a new cluster that
delivers nothing until take_over_delivery() is called; its worker then delivers the pending jobs,
with no duplicates at the mocks."""

import json
import os
import shutil
import subprocess
import tempfile
import time

from flows_case import ACCOUNTS_FLOW, INVOICES_FLOW, TOKEN, account, customer
from harness import (DatabaseCase, add_zoho, literal, remember_issued_tokens, remember_secret, sql,
                     wait_until, zoho_seed)

CLUSTER = "restored"
DB = "billing"
DELIVERED = 5     # accounts synced before the dump
PENDING = 7       # accounts and invoices still queued in it


def restored_sql(port, query):
    proc = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", "localhost", "-p", str(port), "-U", "postgres",
                           "-d", DB, "-v", "ON_ERROR_STOP=1", "-c", query], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc.stdout.strip()


class DumpRestoreDeliver(DatabaseCase):

    def setUp(self):
        remember_secret(TOKEN)
        self.togai = self.mock("togai", "--token", TOKEN)
        self.zoho = self.mock("zohobooks")
        self.zoho.seed(zoho_seed(client_secret="csecret.dump", codes=("code.dump.1",)))
        ids = ["acc.dump.%d" % i for i in range(1, DELIVERED + PENDING + 1)]
        self.togai.seed({"customers": [customer(a.replace("acc", "cus"), "Customer " + a) for a in ids],
                         "accounts": [account(a, a.replace("acc", "cus"), "Account " + a) for a in ids]})
        self.ids = ids
        self.sql("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(TOKEN), literal(self.togai.url)))
        add_zoho(self, self.zoho, code="code.dump.1", client_secret="csecret.dump")
        self.sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")

    def insert_accounts(self, ids):
        self.sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name, invoice_currency) "
                 "VALUES %s" % ", ".join("(%s, %s, %s, 'C', 'USD')" % (literal(a), literal(a.replace("acc", "cus")),
                                                                     literal("Account " + a)) for a in ids))

    def insert_invoices(self, ids):
        self.sql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, currency, "
                 "total_amount, invoice_date, revenue_info) VALUES %s" % ", ".join(
                     "(%s, %s, 'DUE', %s, 'USD', 12.5, now(), '{\"lineItems\": [{\"description\": \"Usage\", "
                     "\"quantity\": 5, \"valuePerQuantity\": 2.5, \"value\": 12.5}]}')"
                     % (literal(a.replace("acc", "inv")), literal(a), literal(a.replace("acc.", "INV-")))
                     for a in ids))

    def test_restored_cluster_delivers_pending_jobs_once(self):
        first, rest = self.ids[:DELIVERED], self.ids[DELIVERED:]
        self.insert_accounts(first)
        self.insert_invoices(first)
        self.sql("SELECT togai_zoho.process_outbox(100); SELECT togai_zoho.process_outbox(100)")
        self.assertEqual(self.value("SELECT count(*) FROM togai_zoho.outbox WHERE state = 'done'"),
                         str(2 * DELIVERED))
        self.insert_accounts(rest)
        self.sql("SELECT togai_zoho.process_outbox(0)")
        # one job claimed by a worker that will never come back: the dump catches it running
        self.sql("UPDATE togai_zoho.outbox SET state = 'running', locked_until = now() + interval '1 hour', "
                 "locked_by = 999999, attempts = 1 WHERE source_id = %s" % literal(rest[0]))
        # and the invoices' jobs still staged
        self.insert_invoices(rest)
        before = self.sql("SELECT state, count(*) FROM togai_zoho.outbox GROUP BY 1 ORDER BY 1")
        self.assertIn(("running", "1"), before)
        self.assertEqual(self.value("SELECT sum(jobs) FROM togai_zoho.outbox_stage"), str(len(rest)))
        # every job, written or staged: the restored worker may write and run them at once
        every_job = ("SELECT (SELECT count(*) FROM togai_zoho.outbox) + "
                     "(SELECT coalesce(sum(jobs), 0) FROM togai_zoho.outbox_stage)")
        jobs = self.value(every_job)
        remember_issued_tokens(self.zoho)

        tmp = tempfile.mkdtemp(prefix="tz-dump-")
        os.chmod(tmp, 0o755)
        dump = os.path.join(tmp, "billing.dump")
        subprocess.run(["pg_dump", "-Fc", "-d", self.db, "-f", dump], check=True)
        created = subprocess.run(["pg_createcluster", "15", CLUSTER, "--start",
                                  "-o", "shared_preload_libraries=togai_zoho",
                                  "-o", "togai_zoho.database_name=" + DB,
                                  "-o", "togai_zoho.retry_base=50ms",
                                  "--", "--auth=trust"], capture_output=True, text=True)
        self.assertEqual(created.returncode, 0, created.stderr)
        self.addCleanup(shutil.rmtree, tmp, True)
        self.addCleanup(subprocess.run, ["pg_dropcluster", "15", CLUSTER, "--stop"], capture_output=True)
        port = int(subprocess.run(["pg_conftool", "-s", "15", CLUSTER, "show", "port"], capture_output=True,
                                  text=True, check=True).stdout)
        subprocess.run(["createdb", "-h", "localhost", "-p", str(port), "-U", "postgres", DB], check=True)
        restore = subprocess.run(["pg_restore", "-h", "localhost", "-p", str(port), "-U", "postgres", "-d", DB,
                                  "--exit-on-error", dump], capture_output=True, text=True)
        self.assertEqual(restore.returncode, 0, restore.stderr)
        # the old database is gone from the picture, as after a move to new hardware
        sql("DROP DATABASE %s WITH (FORCE)" % self.db)
        sql("CREATE DATABASE %s" % self.db)

        self.assertEqual(restored_sql(port, every_job), jobs)
        # a restored copy delivers nothing until told: the original may still be delivering
        self.assertIn("this database is a copy", restored_sql(port, "SELECT togai_zoho.delivery_held()"))
        sent = len(self.zoho.requests())
        time.sleep(2)
        self.assertEqual(len(self.zoho.requests()), sent)
        with self.assertRaises(AssertionError) as held:
            restored_sql(port, "SELECT togai_zoho.process_outbox(10)")
        self.assertIn("delivery is held here", str(held.exception))
        taken = json.loads(restored_sql(port, "SELECT togai_zoho.take_over_delivery()"))
        self.assertEqual(len(taken["was"]), 2)     # the original's identity, and the restore's own
        self.assertEqual(restored_sql(port, "SELECT togai_zoho.delivery_held() IS NULL"), "t")
        self.assertTrue(wait_until(lambda: restored_sql(
            port, "SELECT count(*) FROM togai_zoho.outbox WHERE state <> 'done'") == "0" and restored_sql(
            port, "SELECT count(*) FROM togai_zoho.outbox_stage") == "0", timeout=120),
            restored_sql(port, "SELECT state, last_error FROM togai_zoho.outbox WHERE state <> 'done'"))

        contacts = {}
        for c in self.zoho.state()["contacts"]:
            contacts.setdefault(c["contact_name"], []).append(c["contact_id"])
        invoices = {}
        for i in self.zoho.state()["invoices"]:
            invoices.setdefault(i["reference_number"], []).append(i["invoice_id"])
        self.assertEqual(sorted(contacts), sorted("Account " + a for a in self.ids))
        self.assertEqual(sorted(invoices), sorted(a.replace("acc.", "INV-") for a in self.ids))
        self.assertEqual([k for k, v in list(contacts.items()) + list(invoices.items()) if len(v) > 1], [])
        self.assertEqual(restored_sql(port, "SELECT count(*) FROM togai_zoho.id_mapping"),
                         str(2 * len(self.ids)))
        print("\n    dump and restore: %d jobs delivered before the dump, %d pending (1 claimed, %d staged) restored "
              "into a new cluster and delivered there; %d contacts, %d invoices, none twice"
              % (2 * DELIVERED, 2 * PENDING, PENDING, len(contacts), len(invoices)))
        self.assertIn(ACCOUNTS_FLOW, restored_sql(port, "SELECT string_agg(name, ',') FROM togai_zoho.flows"))
        self.assertIn(INVOICES_FLOW, restored_sql(port, "SELECT string_agg(name, ',') FROM togai_zoho.flows"))
