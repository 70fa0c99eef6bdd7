"""The background worker: wake on commit, concurrency, pacing, faults, retries."""
import json

import time

from harness import literal
from worker_case import WorkerCase, set_worker_settings, sql, value, wait_until, worker_pid


class Worker(WorkerCase):

    def test_named_in_pg_stat_activity(self):
        row = sql("SELECT application_name, datname, state FROM pg_stat_activity "
                  "WHERE backend_type = 'togai_zoho worker'")
        self.assertEqual(row, [("togai_zoho worker", "postgres", "idle")])

    def test_pickup_after_commit_without_a_timer(self):
        # nothing is pending: the idle worker sleeps with no timeout, only a commit can wake it
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox"), "0")
        start = time.monotonic()
        ids = self.accounts(1)
        self.assertTrue(wait_until(lambda: len(self.posts("/contacts")) == 1, timeout=5))
        print("\n    commit to first request: %.0f ms" % ((time.monotonic() - start) * 1000))
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)

    def test_rollback_enqueues_nothing(self):
        sql("BEGIN; INSERT INTO togai_zoho.customers (account_id, customer_id, name) "
            "VALUES ('rolled.back', 'c', 'Never'); ROLLBACK")
        time.sleep(0.5)
        self.assertEqual(self.zoho.requests("/books/v3/contacts"), [])
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox"), "0")

    def test_concurrency_reaches_max_concurrency(self):
        set_worker_settings({"togai_zoho.max_concurrency": "6"})
        try:
            self.zoho.config(latency_ms=300)
            ids = self.accounts(30)
            self.assertTrue(self.idle())
            self.assertEqual(self.zoho.stats()["peak_in_flight"], 6)
            self.assertExactlyOnce(ids)
        finally:
            set_worker_settings({"togai_zoho.max_concurrency": None})

    def test_rate_limit_holds_with_no_429(self):
        # the mock refuses past 60 calls in any 60 s; the bucket paces at 57 a minute after a burst of 3
        self.zoho.config(rate_limit_per_minute=60)
        sql("SELECT togai_zoho.set_rate_limit('zoho', 60)")
        try:
            ids = self.accounts(12)
            start = time.monotonic()
            self.assertTrue(self.idle(60))
            took = time.monotonic() - start
            self.assertEqual(self.zoho.stats()["rate_limited"], 0)
            self.assertExactlyOnce(ids)
            # 3 at once, then 9 more at 0.95 a second: the pace is the limit, not slower
            self.assertGreater(took, 8)
            print("\n    12 calls at 60/min: %.1f s" % took)
            self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox_attempt "
                                   "WHERE outcome = 'throttled'"), "0")
        finally:
            sql("SELECT togai_zoho.set_rate_limit('zoho', 100000)")

    def test_transient_faults_end_delivered_once(self):
        cases = [{"kind": "500", "count": 2}, {"kind": "503", "count": 1}, {"kind": "drop", "count": 1},
                 {"kind": "after_success_drop", "count": 1}, {"kind": "malformed_json", "count": 1},
                 {"kind": "delay", "seconds": 1.5, "count": 1}]
        set_worker_settings({"togai_zoho.request_timeout_ms": "1000"})
        try:
            ids = []
            for i, fault in enumerate(cases):
                self.zoho.faults(dict(fault, match={"method": "POST", "path_prefix": "/books/v3/contacts"}))
                ids += self.accounts(1, start=i + 1)
                self.assertTrue(self.idle(), fault)
            self.assertExactlyOnce(ids)
            self.assertEqual(self.states(), {"done": len(cases)})
            # every failed attempt is on record with its reason
            failed = sql("SELECT outcome, error IS NOT NULL FROM togai_zoho.job_attempts "
                         "WHERE outcome <> 'delivered' ORDER BY finished_at")
            self.assertGreaterEqual(len(failed), len(cases))
            self.assertEqual(set(failed), {("retry", "t")})
        finally:
            set_worker_settings({"togai_zoho.request_timeout_ms": None})

    def test_429_waits_as_told_and_is_not_an_attempt(self):
        self.zoho.faults({"kind": "429", "count": 1, "retry_after": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/contacts"}})
        ids = self.accounts(1)
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        rows = sql("SELECT outcome, http_status, attempt FROM togai_zoho.job_attempts ORDER BY finished_at")
        self.assertEqual(rows, [("throttled", "429", "1"), ("delivered", "201", "1")])
        gap = float(value("SELECT extract(epoch FROM max(started_at) - min(finished_at)) "
                          "FROM togai_zoho.outbox_attempt"))
        self.assertGreaterEqual(gap, 0.9)

    def test_401_refreshes_once(self):
        self.zoho.faults({"kind": "expired_token", "count": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/contacts"}})
        ids = self.accounts(1)
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        self.assertEqual(value("SELECT requests FROM togai_zoho.outbox_attempt"), "2")
        self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 1)

    def test_same_named_accounts_get_distinct_contacts(self):
        # names are unique in a Zoho Books organization: the second account takes its distinct name
        ids = self.accounts(1, name="Same Name") + self.accounts(1, start=2, name="Same Name")
        self.assertTrue(self.idle())
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.dead_jobs"), "0")
        names = sorted(c["contact_name"] for c in self.zoho.state()["contacts"]
                       if (c.get("notes") or "").startswith("Togai account " + self.prefix))
        self.assertEqual(len(names), 2)
        self.assertIn("Same Name", names)
        self.assertIn("Same Name (%s)" % ids[1], names + ["Same Name (%s)" % ids[0]])
        for c in self.zoho.state()["contacts"]:
            if c["contact_name"].startswith("Same Name ("):
                self.assertEqual(c["company_name"], "Co " + c["contact_name"][11:-1])

    def test_validation_error_dies_at_once_with_the_remote_message(self):
        # the account's name and its distinct name both taken by contacts that are not ours
        aid = "%s.acc.1" % self.prefix
        for name in ("Taken %s" % self.prefix, "Taken %s (%s)" % (self.prefix, aid)):
            value("SELECT togai_zoho.zohobooks_call('zoho', 'contact_create', %s)"
                  % literal(json.dumps({"contact": {"contact_name": name, "notes": "someone else's"}})))
        ids = self.accounts(1, name="Taken %s" % self.prefix)
        self.assertTrue(self.idle())
        dead = sql("SELECT source_id, attempts, last_http_status, last_error FROM togai_zoho.dead_jobs")
        self.assertEqual(len(dead), 1)
        self.assertIn(dead[0][0], ids)
        self.assertEqual(dead[0][1:3], ("1", "400"))
        self.assertIn("already exists", dead[0][3])

    def test_max_attempts_then_dead_then_retry_dead(self):
        self.zoho.faults({"kind": "500", "count": 1000,
                          "match": {"method": "POST", "path_prefix": "/books/v3/contacts"}})
        ids = self.accounts(1)
        self.assertTrue(wait_until(lambda: self.states() == {"dead": 1}, timeout=20))
        self.assertEqual(value("SELECT attempts FROM togai_zoho.dead_jobs"), "5")
        self.assertIn("gave up after 5 attempts", value("SELECT last_error FROM togai_zoho.dead_jobs"))
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.job_attempts WHERE outcome = 'retry'"), "4")
        self.zoho.call("DELETE", "faults")
        self.assertEqual(value("SELECT togai_zoho.retry_dead('accounts')"), "1")
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        # the dead attempts may have created it: the retry looked first
        self.assertGreaterEqual(len(self.zoho.requests("/books/v3/contacts")), 7)

    def test_retry_errors(self):
        err = self.error("SELECT togai_zoho.retry(424242)")
        self.assertSQLState(err, "42704", "job 424242 does not exist")
        self.accounts(1)
        self.assertTrue(self.idle())
        job = value("SELECT id FROM togai_zoho.outbox")
        self.assertSQLState(self.error("SELECT togai_zoho.retry(%s)" % job), "55000", "delivered already")
        self.assertSQLState(self.error("SELECT togai_zoho.retry_dead('nope')"), "42704")
        self.assertSQLState(self.error("SELECT togai_zoho.set_rate_limit('zoho', 0)"), "22023")
        self.assertSQLState(self.error("SELECT togai_zoho.process_outbox(-1)"), "22023")
        self.assertSQLState(self.error("SELECT togai_zoho.wait_for_idle('-1 s')"), "22023")

    def test_invoice_waits_for_its_account(self):
        acc = "%s.acc.1" % self.prefix
        self.invoice(acc, self.prefix + ".inv.1")
        time.sleep(0.5)
        self.assertEqual(self.posts("/invoices"), [])
        self.assertEqual(value("SELECT waiting_for FROM togai_zoho.outbox"), acc)
        self.accounts(1)
        self.assertTrue(wait_until(lambda: self.states() == {"done": 2}, timeout=10))
        inv = [i for i in self.zoho.state()["invoices"] if i.get("reference_number") == "INV-%s.inv.1" % self.prefix]
        self.assertEqual(len(inv), 1)
        contact = value("SELECT zohobooks_id FROM togai_zoho.id_mapping WHERE entity = 'account'")
        self.assertEqual(inv[0]["customer_id"], contact)
        # waiting was not an attempt
        self.assertEqual(value("SELECT attempts FROM togai_zoho.outbox WHERE entity = 'invoice'"), "1")

    def test_change_while_running_runs_again(self):
        self.zoho.config(latency_ms=800)
        ids = self.accounts(1)
        self.assertTrue(wait_until(lambda: value("SELECT state FROM togai_zoho.outbox") == "running", 5))
        sql("UPDATE togai_zoho.customers SET name = 'Renamed' WHERE account_id = '%s'" % ids[0])
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        names = [c["contact_name"] for c in self.zoho.state()["contacts"]
                 if (c.get("notes") or "").split(" (")[0] == "Togai account " + ids[0]]
        self.assertEqual(names, ["Renamed"])
        # the rerun reads the contact it updates (its persons keep their ids), then updates it
        self.assertEqual([r["method"] for r in self.zoho.requests("/books/v3/contacts")], ["POST", "GET", "PUT"])

    def test_worker_off_pauses_and_process_outbox_delivers(self):
        set_worker_settings({"togai_zoho.worker": "off"})
        try:
            ids = self.accounts(3)
            time.sleep(0.7)
            self.assertEqual(self.posts("/contacts"), [])
            # the class's earlier tests may have spent the connection's calls of this minute:
            # a paced job waits (not an attempt) and the next call delivers it
            self.assertGreaterEqual(int(value("SELECT togai_zoho.process_outbox(10)")), 1)
            self.assertTrue(wait_until(lambda: value("SELECT togai_zoho.process_outbox(10)") == "0"
                                       and value("SELECT count(*) FROM togai_zoho.outbox WHERE state "
                                                 "IN ('pending', 'running')") == "0", timeout=70, interval=1))
            self.assertExactlyOnce(ids)
            self.assertEqual(value("SELECT DISTINCT worker FROM togai_zoho.job_attempts")[:14],
                             "process_outbox")
        finally:
            set_worker_settings({"togai_zoho.worker": None})

    def test_bulk_insert_is_staged_then_delivered_once_with_later_changes(self):
        # 1,200 accounts in one insert: staged chunks, not 1,200 job rows in the writer's
        # transaction; three updates of all of them and one of a single account behind it
        # are staged too, and all of it folds into one job an account before any is claimed
        set_worker_settings({"togai_zoho.worker": "off"})
        try:
            ids = self.accounts(1200)
            self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox"), "0")
            self.assertEqual(value("SELECT sum(jobs) FROM togai_zoho.outbox_stage"), "1200")
            self.assertEqual(value("SELECT pending FROM togai_zoho.sync_status WHERE flow = 'accounts'"),
                             "1200")
            for k in range(3):
                sql("UPDATE togai_zoho.customers SET name = name || ' v%d' WHERE account_id LIKE '%s.acc.%%'"
                    % (k + 2, self.prefix))
            sql("UPDATE togai_zoho.customers SET name = 'Renamed behind the bulk insert' "
                "WHERE account_id = '%s'" % ids[7])
            self.assertEqual(value("SELECT sum(jobs) FROM togai_zoho.outbox_stage"), "4801")
            self.assertFalse(self.idle(1), "staged jobs must keep wait_for_idle waiting")
        finally:
            set_worker_settings({"togai_zoho.worker": None})
        self.assertTrue(self.idle())
        self.assertExactlyOnce(ids)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox_stage"), "0")
        self.assertEqual(self.states(), {"done": 1200})
        # one call an account: no job was claimed before its later changes were written
        self.assertEqual(len([r for r in self.zoho.requests("/books/v3/contacts")
                              if r["method"] in ("POST", "PUT")]), 1200)
        self.assertEqual(value("SELECT sum(coalesced) FROM togai_zoho.outbox"), str(3 * 1200 + 1))
        names = [c["contact_name"] for c in self.zoho.state()["contacts"]
                 if (c.get("notes") or "").split(" (")[0] == "Togai account " + ids[7]]
        self.assertEqual(names, ["Renamed behind the bulk insert"])
        renamed = [c["contact_name"] for c in self.zoho.state()["contacts"]
                   if (c.get("notes") or "").split(" (")[0] == "Togai account " + ids[8]]
        self.assertTrue(renamed and renamed[0].endswith(" v2 v3 v4"), renamed)

    def test_claims_read_only_the_due_jobs(self):
        # a backlog not yet due (retries, paced jobs) is not walked by every claim: the due time
        # bounds the scan of the due index, counted in its tuples read
        flow, conn = sql("SELECT id, trigger_connection_id FROM togai_zoho.flow WHERE name = 'accounts'")[0]
        sql("INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, due_at) "
            "SELECT %s, %s, 'account', 'later.' || g, jsonb_build_object('account_id', 'later.' || g), "
            "now() + interval '1 day' FROM generate_series(1, 5000) g" % (flow, conn))
        self.addCleanup(sql, "DELETE FROM togai_zoho.outbox WHERE source_id LIKE 'later.%'")

        def due_index():
            return [int(v) for v in sql("SELECT idx_scan, idx_tup_read FROM pg_stat_user_indexes "
                                        "WHERE indexrelname = 'outbox_due_idx'")[0]]

        before = due_index()
        ids = []
        # one account a second: the worker's statistics reach the view at its next transaction
        for i in range(3):
            ids += self.accounts(1, start=i + 1)
            self.assertTrue(wait_until(lambda: len(self.posts("/contacts")) == len(ids), timeout=5))
            time.sleep(1.1)
        scans, read = [b - a for a, b in zip(before, due_index())]
        self.assertGreater(scans, 0)
        self.assertLess(read, 1000, "claims walked the jobs not yet due")

    def test_finished_jobs_deleted_after_ttl(self):
        set_worker_settings({"togai_zoho.ttl": "1s"})
        try:
            self.accounts(2)
            self.assertTrue(wait_until(
                lambda: value("SELECT count(*) FROM togai_zoho.outbox") == "0", timeout=10))
            self.assertEqual(value("SELECT count(*) FROM togai_zoho.id_mapping"), "2")
        finally:
            set_worker_settings({"togai_zoho.ttl": None})

    def test_sigterm_during_a_slow_request_exits_promptly(self):
        # the remote finishes the create after the worker is gone; the restarted worker waits
        # request_timeout before looking, finds it, and creates nothing more
        set_worker_settings({"togai_zoho.request_timeout_ms": "5000"})
        self.addCleanup(set_worker_settings, {"togai_zoho.request_timeout_ms": None})
        self.zoho.faults({"kind": "delay", "seconds": 3, "count": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/contacts"}})
        ids = self.accounts(1)
        self.assertTrue(wait_until(lambda: self.zoho.stats()["in_flight"] == 1, timeout=5))
        pid = worker_pid()
        start = time.monotonic()
        sql("SELECT pg_terminate_backend(%s)" % pid)
        self.assertTrue(wait_until(lambda: worker_pid() != pid, timeout=5))
        print("\n    SIGTERM to exit: %.0f ms" % ((time.monotonic() - start) * 1000))
        self.assertLess(time.monotonic() - start, 2)
        # restarted, it takes the job back and finds it was not created
        self.assertTrue(wait_until(lambda: self.states() == {"done": 1}, timeout=40))
        self.assertExactlyOnce(ids)
