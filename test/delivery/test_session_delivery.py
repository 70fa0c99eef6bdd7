"""process_outbox() under the rule of remote writes: cancelled, timed out, terminated, rolled back
or run in a loop beside the worker, it never makes an invoice twice and loses none. Invoices are
counted at the mock by their reference (the Togai invoice number): Zoho Books refuses no second
invoice of a reference, so nothing but the extension's own records can keep them single."""

import os
import random
import threading
import time

from harness import SQLError
from worker_case import WorkerCase, literal, set_worker_settings, sql, value, wait_until

SLOW = {"togai_zoho.max_concurrency": "4", "togai_zoho.request_timeout_ms": "3000"}


class SessionDelivery(WorkerCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(set_worker_settings, {"togai_zoho.worker": None, **{k: None for k in SLOW}})
        set_worker_settings(SLOW)
        # new cut points each run; the seed is printed, and TZ_SESSION_SEED replays it
        self.seed = int(os.environ.get("TZ_SESSION_SEED", time.time_ns() % 1000000))
        self.rng = random.Random(self.seed)

    def queue_invoices(self, accounts, per_account):
        """Accounts delivered by the worker, then the worker off and their invoices queued."""
        self.ids = self.accounts(accounts)
        self.assertTrue(self.idle(60))
        set_worker_settings({"togai_zoho.worker": "off"})
        invoices = []
        values = []
        for a in self.ids:
            for k in range(per_account):
                i = "%s.inv.%d" % (a, k)
                invoices.append(i)
                values.append("(%s, %s, 'DUE', %s, 25.00, 'USD', now())"
                              % (literal(i), literal(a), literal("INV-" + i)))
        sql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, total_amount, "
            "currency, invoice_date) VALUES " + ", ".join(values))
        return invoices

    def invoices_by_reference(self):
        counts = {}
        for inv in self.zoho.state()["invoices"]:
            ref = inv.get("reference_number") or ""     # the Togai invoice number: INV-<id> here
            if ref.startswith("INV-" + self.prefix):
                counts[ref[4:]] = counts.get(ref[4:], 0) + 1
        return counts

    def invoice_creates(self):
        return len([r for r in self.posts("/invoices") if r["path"] == "/books/v3/invoices"])

    def assertInvoicesOnce(self, invoices):
        counts = self.invoices_by_reference()
        self.assertEqual(sorted(set(invoices) - set(counts)), [], "invoices lost")
        self.assertEqual({r: n for r, n in counts.items() if n != 1}, {}, "invoices made twice")
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.id_mapping WHERE entity = 'invoice'"),
                         str(len(invoices)))

    def finish_with_worker(self, invoices):
        set_worker_settings({"togai_zoho.worker": None})
        self.assertTrue(wait_until(lambda: self.states().get("done") == len(self.ids) + len(invoices),
                                   timeout=120),
                        sql("SELECT state, count(*), max(last_error) FROM togai_zoho.outbox GROUP BY 1"))
        self.assertInvoicesOnce(invoices)

    def session(self, app, max_jobs, settings=None, outcome=None):
        """process_outbox(max_jobs) in a session named app; its error (or None) into outcome."""
        try:
            value("SELECT togai_zoho.process_outbox(%d)" % max_jobs, timeout=120,
                  settings=dict(settings or {}, application_name=app))
        except SQLError as e:
            if outcome is not None:
                outcome.append(e)
            return
        if outcome is not None:
            outcome.append(None)

    def interrupted(self, how, invoices):
        """Rounds of process_outbox() cut by `how` at random points, then the worker finishes."""
        self.zoho.config(latency_ms=300)
        made = []
        for r in range(4):
            outcome = []
            if how == "statement_timeout":
                self.session("cut.%d" % r, len(invoices),
                             {"statement_timeout": "%dms" % self.rng.randint(400, 2500)}, outcome)
            else:
                t = threading.Thread(target=self.session, args=("cut.%d" % r, len(invoices), None, outcome))
                t.start()
                time.sleep(self.rng.uniform(0.4, 2.5))
                fn = "pg_cancel_backend" if how == "cancel" else "pg_terminate_backend"
                value("SELECT %s(pid) FROM pg_stat_activity WHERE application_name = %s"
                      % (fn, literal("cut.%d" % r)))
                t.join(60)
            made.append(sum(self.invoices_by_reference().values()))
            # the session is stopped; its helper gives back what it has not sent
            self.assertTrue(wait_until(lambda: value(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'togai_zoho process_outbox'")
                == "0", timeout=30))
            if r == 0 and how != "terminate":
                self.assertIsNotNone(outcome and outcome[0], "the session was not interrupted")
        self.assertGreater(made[-1], 0, "no round sent anything before it was cut")
        self.assertLess(made[0], len(invoices), "the first round was not cut mid-batch")
        self.finish_with_worker(invoices)
        print("\n    %s, seed %d: invoices made after each of 4 cut rounds %s of %d; each once after the worker"
              % (how, self.seed, made, len(invoices)))

    def test_cancelled_process_outbox_makes_nothing_twice(self):
        self.interrupted("cancel", self.queue_invoices(6, 8))

    def test_timed_out_process_outbox_makes_nothing_twice(self):
        self.interrupted("statement_timeout", self.queue_invoices(6, 8))

    def test_terminated_process_outbox_makes_nothing_twice(self):
        self.interrupted("terminate", self.queue_invoices(6, 8))

    def test_sessions_cut_beside_the_worker_make_nothing_twice(self):
        """The same cuts, alternately cancel and terminate, while the worker delivers too."""
        invoices = self.queue_invoices(8, 10)
        self.zoho.config(latency_ms=300)
        set_worker_settings({"togai_zoho.worker": None})
        made = []
        for r in range(4):
            t = threading.Thread(target=self.session, args=("beside.%d" % r, len(invoices)))
            t.start()
            time.sleep(self.rng.uniform(0.3, 1.5))
            fn = "pg_cancel_backend" if r % 2 == 0 else "pg_terminate_backend"
            value("SELECT %s(pid) FROM pg_stat_activity WHERE application_name = %s"
                  % (fn, literal("beside.%d" % r)))
            t.join(60)
            made.append(sum(self.invoices_by_reference().values()))
        self.assertLess(made[0], len(invoices), "the first round was not cut mid-batch")
        self.finish_with_worker(invoices)
        who = dict(sql("SELECT worker LIKE 'process_outbox%', count(*) FROM togai_zoho.outbox_attempt "
                       "WHERE outcome = 'delivered' AND job_id IN (SELECT id FROM togai_zoho.outbox "
                       "WHERE entity = 'invoice') GROUP BY 1"))
        self.assertEqual(self.invoice_creates(), len(invoices))
        print("\n    beside the worker, seed %d: invoices made after each of 4 cut rounds %s of %d; %s by the "
              "worker, %s by process_outbox(); each once" % (self.seed, made, len(invoices), who.get("f", 0),
                                                             who.get("t", 0)))

    def test_a_rolled_back_caller_keeps_what_was_delivered(self):
        invoices = self.queue_invoices(3, 4)
        sql("BEGIN; SELECT togai_zoho.process_outbox(100); ROLLBACK")
        self.assertEqual(len(self.invoices_by_reference()), len(invoices))
        # the rollback took nothing back: the worker has nothing left to make
        self.finish_with_worker(invoices)
        self.assertEqual(self.invoice_creates(), len(invoices))

    def test_process_outbox_after_writes_in_its_transaction_is_refused(self):
        invoices = self.queue_invoices(1, 1)
        e = self.error("BEGIN; UPDATE togai_zoho.outbox SET due_at = now() WHERE false; "
                       "INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES "
                       "(%s, %s, 'DUE'); SELECT togai_zoho.process_outbox(10)"
                       % (literal(self.prefix + ".late"), literal(self.ids[0])))
        self.assertSQLState(e, "25001")
        self.assertIn("must not follow writes", e.message)
        self.assertIn("Commit first", e.hint)
        self.assertEqual(self.invoices_by_reference(), {})
        # process_outbox(0) only writes staged jobs: it may follow writes
        sql("BEGIN; INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES "
            "(%s, %s, 'VOID'); SELECT togai_zoho.process_outbox(0); ROLLBACK"
            % (literal(self.prefix + ".late2"), literal(self.ids[0])))
        self.finish_with_worker(invoices)

    def test_process_outbox_in_a_loop_beside_the_busy_worker_makes_nothing_twice(self):
        invoices = self.queue_invoices(10, 30)
        self.zoho.config(latency_ms=50)
        set_worker_settings({"togai_zoho.worker": None})
        errors = []
        deadline = time.time() + 90

        def loop(n):
            while time.time() < deadline and self.states().get("done", 0) < len(self.ids) + len(invoices):
                try:
                    value("SELECT togai_zoho.process_outbox(60)", timeout=120)
                except SQLError as e:
                    errors.append(e)
        threads = [threading.Thread(target=loop, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertTrue(self.idle(60))
        self.assertInvoicesOnce(invoices)
        who = dict(sql("SELECT worker LIKE 'process_outbox%', count(*) FROM togai_zoho.outbox_attempt "
                       "WHERE outcome = 'delivered' AND job_id IN (SELECT id FROM togai_zoho.outbox "
                       "WHERE entity = 'invoice') GROUP BY 1"))
        self.assertEqual(sum(int(v) for v in who.values()), len(invoices))
        self.assertEqual(self.invoice_creates(), len(invoices))
        print("\n    %d invoices: %s by the worker, %s by process_outbox() beside it; each made once"
              % (len(invoices), who.get("f", 0), who.get("t", 0)))
