"""Zoho Books' limits: a daily budget and a concurrency cap per connection, shared by the worker
and every session; a spent budget and the remote's own daily cap pause jobs, never kill them.
The mock enforces a daily cap and a concurrency cap and counts what it refuses."""

import threading
import time

from harness import literal, set_worker_settings, sql, value, wait_until
from worker_case import WorkerCase, kill, worker_pid


class ApiBudget(WorkerCase):

    def setUp(self):
        super().setUp()
        self.zoho.config(daily_limit=None, concurrency_limit=None)
        self.zoho.call("POST", "new_day")
        self.addCleanup(self.zoho.config, daily_limit=None, concurrency_limit=None, latency_ms=0)
        self.addCleanup(sql, "SELECT * FROM togai_zoho.set_api_budget('zoho', 0, 0)")

    def usage(self):
        (row,) = self.rows("SELECT per_day, concurrent, calls_today, delivery_calls, poll_calls, "
                           "session_calls, token_calls, refused_today, in_flight, paused_until, "
                           "day_resets_at, time_zone FROM togai_zoho.api_usage WHERE connection = 'zoho'")
        return row

    def rows(self, query):
        names = [c.strip().split()[-1] for c in query[len("SELECT "):query.index(" FROM ")].split(", ")]
        return [dict(zip(names, r)) for r in sql(query)]

    def budget(self, **kw):
        args = ", ".join("%s => %s" % (k, literal(v) if isinstance(v, str) else v) for k, v in kw.items())
        return self.rows("SELECT connection, plan, per_day, concurrent, time_zone, day_resets_at "
                         "FROM togai_zoho.set_api_budget('zoho', %s)" % args)[0]

    def test_set_api_budget_plans_errors_and_the_organizations_day(self):
        b = self.budget(plan="standard")
        self.assertEqual((b["plan"], b["per_day"], b["concurrent"]), ("standard", "2000", "10"))
        # the day ends at the organization's midnight (GET /organizations names its time zone)
        self.assertEqual(b["time_zone"], "Asia/Kolkata")
        kolkata = value("SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') + interval '1 day') "
                        "AT TIME ZONE 'Asia/Kolkata'")
        self.assertEqual(value("SELECT %s::timestamptz = %s::timestamptz"
                               % (literal(b["day_resets_at"]), literal(kolkata))), "t")
        # NULL keeps a value; a plan gives both; 0 removes a limit
        b = self.budget(concurrent=3)
        self.assertEqual((b["plan"], b["per_day"], b["concurrent"]), (None, "2000", "3"))
        b = self.budget(plan="free")
        self.assertEqual((b["per_day"], b["concurrent"]), ("1000", "5"))
        b = self.budget(per_day=0)
        self.assertEqual(b["per_day"], None)
        u = self.usage()
        self.assertEqual((u["per_day"], u["concurrent"], u["time_zone"]), (None, "5", "Asia/Kolkata"))
        # bad input: a clear error, nothing changed
        for call, state, words in [
                ("'zoho', plan => 'gold'", "22023", 'unknown Zoho Books plan "gold"'),
                ("'zoho', per_day => -1", "22023", "must not be negative"),
                ("'togai', plan => 'free'", "22023", "a plan is a Zoho Books plan"),
                ("'nope', 10", "42704", 'connection "nope" does not exist')]:
            self.assertSQLState(self.error("SELECT togai_zoho.set_api_budget(%s)" % call), state, words)
        self.assertEqual(self.usage()["concurrent"], "5")
        # kept in the table: a dump and a restart keep it
        self.assertEqual(value("SELECT api_concurrent FROM togai_zoho.connection WHERE name = 'zoho'"), "5")

    def test_a_budget_smaller_than_the_work_pauses_and_loses_nothing(self):
        self.budget(per_day=0)
        self.assertTrue(self.idle())
        used, refused = int(self.usage()["calls_today"]), int(self.usage()["refused_today"])
        # room for 12 more calls today: a currency lookup, then one create per account
        self.budget(per_day=used + 12)
        ids = self.accounts(40)
        self.assertTrue(wait_until(lambda: self.states().get("done", 0) >= 10, timeout=30))
        time.sleep(1.5)
        states = self.states()
        self.assertEqual(states.get("dead", 0), 0, states)
        self.assertEqual(states.get("done", 0) + states.get("pending", 0), 40, states)
        self.assertGreater(states.get("pending", 0), 20, states)
        u = self.usage()
        self.assertEqual(int(u["calls_today"]), used + 12, u)
        self.assertEqual(int(u["refused_today"]), refused, u)
        # never more than the budget: the remote refused nothing
        self.assertEqual(self.zoho.call("GET", "stats")["daily_refused"], 0)
        waiting = sql("SELECT attempts, last_error, due_at > now() + interval '1 minute' "
                      "FROM togai_zoho.outbox WHERE state = 'pending'")
        for attempts, error, later in waiting:
            self.assertEqual(attempts, "0")
            self.assertIn('the daily API budget of connection "zoho" is spent', error)
            self.assertEqual(later, "t")
        # a session's call is refused too, saying why
        self.assertSQLState(self.error("SELECT togai_zoho.zohobooks_call('zoho', 'currencies')"),
                            "TZ429", 'the daily API budget of connection "zoho" is spent', "set_api_budget")
        # a larger budget: every waiting job goes at once, none twice
        self.budget(per_day=used + 1000)
        self.assertTrue(self.idle(60))
        self.assertEqual(self.states(), {"done": 40})
        self.assertEqual(sorted(self.contacts_by_account()), sorted(ids))
        self.assertEqual(set(self.contacts_by_account().values()), {1})

    def test_a_budget_above_the_remotes_cap_stops_at_the_first_refusal(self):
        self.budget(per_day=0)
        self.assertTrue(self.idle())
        self.zoho.call("POST", "new_day")
        self.zoho.config(daily_limit=6)
        self.zoho.clear_requests()
        ids = self.accounts(30)
        self.assertTrue(wait_until(lambda: self.zoho.call("GET", "stats")["daily_refused"] >= 1,
                                   timeout=30))
        time.sleep(2)
        stats = self.zoho.call("GET", "stats")
        reqs = [r for r in self.zoho.requests("/books/v3") if r["status"] is not None]
        first_refusal = min(r["answered"] for r in reqs if r["status"] == 429)
        # only calls already on their way when the cap was hit are refused (at most the 10
        # in flight); none goes out once the worker has read the refusal
        sent_after = [r for r in reqs if r["time"] > first_refusal + 0.2]
        self.assertEqual(sent_after, [], [(r["seq"], r["path"], r["status"]) for r in sent_after])
        self.assertLessEqual(stats["daily_refused"], 10, stats)
        states = self.states()
        self.assertEqual(states.get("dead", 0), 0, states)
        u = self.usage()
        self.assertIsNotNone(u["paused_until"], u)
        self.assertGreaterEqual(int(u["refused_today"]), 1, u)
        self.assertEqual(value("SELECT %s::timestamptz = %s::timestamptz"
                               % (literal(u["paused_until"]), literal(u["day_resets_at"]))), "t")
        self.assertSQLState(self.error("SELECT togai_zoho.zohobooks_call('zoho', 'currencies')"),
                            "TZ429", "for the rest of its day")
        # the remote's next day, and set_api_budget lifts the pause: all delivered, once each
        self.zoho.config(daily_limit=None)
        self.budget(per_day=0)
        self.assertIsNone(self.usage()["paused_until"])
        self.assertTrue(self.idle(60))
        self.assertEqual(self.states(), {"done": 30})
        self.assertEqual(set(self.contacts_by_account().values()), {1})
        self.assertEqual(len(self.contacts_by_account()), len(ids))

    def test_the_concurrency_cap_holds_whatever_max_concurrency_says(self):
        self.budget(concurrent=3)
        refused = int(self.usage()["refused_today"])
        self.zoho.config(concurrency_limit=3, latency_ms=150)
        set_worker_settings({"togai_zoho.max_concurrency": "16"})
        self.addCleanup(set_worker_settings, {"togai_zoho.max_concurrency": None})
        self.zoho.call("POST", "stats/reset")
        ids = self.accounts(24)
        self.assertTrue(self.idle(60))
        stats = self.zoho.call("GET", "stats")
        self.assertEqual(stats["concurrency_refused"], 0, stats)
        self.assertLessEqual(stats["peak_key_in_flight"], 3, stats)
        self.assertGreaterEqual(stats["peak_key_in_flight"], 2, stats)
        self.assertEqual(len(self.contacts_by_account()), len(ids))
        self.assertEqual(int(self.usage()["refused_today"]), refused)

    def test_the_bulk_mark_sent_never_waits_for_the_workers_own_calls(self):
        # The worker's own creates filling the cap once held up its bulk mark-sent until the
        # request timeout failed the turn; every job it held then looked first (a search each).
        mark = ("UPDATE togai_zoho.flow_action a SET options = %s FROM togai_zoho.flow f "
                "WHERE f.id = a.flow_id AND f.name = 'invoices'")
        sql(mark % literal('{"mark_sent": true}'))
        self.addCleanup(sql, mark % literal("{}"))
        self.budget(concurrent=4)
        self.zoho.config(latency_ms=50)
        ids = self.accounts(300)
        self.assertTrue(self.idle(120))
        sql("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, sequence_id, "
            "total_amount, currency, invoice_date) SELECT account_id || '.inv', account_id, 'DUE', "
            "'INV-' || account_id, 10, 'USD', now() FROM togai_zoho.customers WHERE account_id = ANY(%s)"
            % literal("{%s}" % ",".join(ids)))
        self.assertTrue(self.idle(180))
        self.assertTrue(wait_until(lambda: value("SELECT count(*) FROM togai_zoho.zohobooks_unsent") == "0",
                                   timeout=60))
        self.assertEqual(len([r for r in self.posts("/invoices") if r["path"] == "/books/v3/invoices"]), 300)
        self.assertEqual([r["query"] for r in self.zoho.requests("/books/v3/invoices")
                          if r["method"] == "GET"], [])
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox_attempt WHERE outcome = 'reclaimed'"),
                         "0")
        # and every invoice was marked sent, in bulk
        marks = [r for r in self.zoho.requests("/books/v3/invoices") if r["method"] == "POST"
                 and r["path"].endswith("/status/sent")]
        self.assertGreater(len(marks), 0)
        self.assertLess(len(marks), 300)
        self.assertEqual(self.zoho.stats().get("concurrency_refused", 0), 0)

    def test_usage_counts_every_purpose_and_survives_a_restart_of_the_worker(self):
        self.budget(per_day=0)
        before = self.usage()
        self.accounts(3)
        self.assertTrue(self.idle())
        value("SELECT count(*) FROM jsonb_array_elements(togai_zoho.zohobooks_call('zoho', 'currencies'))")
        after = self.usage()
        self.assertGreaterEqual(int(after["delivery_calls"]) - int(before["delivery_calls"]), 3)
        self.assertEqual(int(after["session_calls"]) - int(before["session_calls"]), 1)
        self.assertEqual(int(after["calls_today"]),
                         sum(int(after[k]) for k in ("delivery_calls", "poll_calls", "session_calls")))
        # stored by the worker within seconds
        self.assertTrue(wait_until(lambda: value(
            "SELECT delivery_calls + session_calls FROM togai_zoho.api_usage_day u "
            "JOIN togai_zoho.connection c ON c.id = u.connection_id WHERE c.name = 'zoho' "
            "AND u.day = (togai_zoho.api_day(c.time_zone)).day") ==
            str(int(after["delivery_calls"]) + int(after["session_calls"])), timeout=20))

    def reachable(self):
        try:
            return value("SELECT 1") == "1"
        except Exception:
            return False

    def test_the_days_count_survives_a_crash_of_the_server(self):
        self.budget(per_day=100000)
        self.accounts(5)
        self.assertTrue(self.idle())
        counted = int(self.usage()["calls_today"])
        # stored within seconds; a killed worker makes the postmaster start shared memory afresh
        self.assertTrue(wait_until(lambda: int(value(
            "SELECT delivery_calls + poll_calls + session_calls FROM togai_zoho.api_usage_day u "
            "JOIN togai_zoho.connection c ON c.id = u.connection_id WHERE c.name = 'zoho' "
            "AND u.day = (togai_zoho.api_day(c.time_zone)).day")) >= counted, timeout=20))
        pid = worker_pid()
        kill(pid, "KILL")
        self.assertTrue(wait_until(lambda: self.reachable() and worker_pid() not in (None, pid), 60))
        # the first look at the connection after the restart takes the stored count
        self.assertGreaterEqual(int(self.usage()["calls_today"]), counted)
        self.assertEqual(self.usage()["per_day"], "100000")

    def test_backfill_says_what_it_costs(self):
        self.budget(per_day=1000)
        sql("SELECT togai_zoho.set_flow_enabled('accounts', false)")
        self.addCleanup(sql, "SELECT togai_zoho.set_flow_enabled('accounts', true)")
        self.accounts(900)
        sql("SELECT togai_zoho.set_flow_enabled('accounts', true)")
        self.assertEqual(value("SELECT togai_zoho.backfill('accounts')"), "900")
        calls, days = sql("SELECT backfill_calls, backfill_days FROM togai_zoho.sync_status "
                          "WHERE flow = 'accounts'")[0]
        # a backfilled contact is looked for before it is made: 2 calls; 900 a day is left
        # for delivery (the polls keep a tenth)
        self.assertEqual((calls, days), ("1800", "2.0"))
        self.assertTrue(self.idle(120))

    def test_process_outbox_waits_for_a_call_slot_another_session_holds(self):
        """process_outbox() delivers through a helper whose transactions are short, like the
        worker's: it holds no rows while it waits for a call slot, so it may wait for one. With
        the one slot held by a 5 s call of another session, it delivers its job once the call
        ends, once."""
        self.budget(concurrent=1)
        set_worker_settings({"togai_zoho.worker": "off"})
        self.addCleanup(set_worker_settings, {"togai_zoho.worker": None})
        # a call of another session holds the one slot for 5 s
        self.zoho.faults({"kind": "delay", "seconds": 5, "count": 1,
                          "match": {"method": "GET", "path_prefix": "/books/v3/organizations"}})
        slow = threading.Thread(target=value,
                                args=("SELECT togai_zoho.zohobooks_call('zoho', 'organizations')",))
        slow.start()
        self.addCleanup(slow.join)
        self.assertTrue(wait_until(lambda: self.usage()["in_flight"] == "1", timeout=5))
        (aid,) = self.accounts(1)
        self.assertEqual(value("SELECT togai_zoho.process_outbox(1)"), "1")
        self.assertEqual(value("SELECT state FROM togai_zoho.outbox WHERE source_id = %s" % literal(aid)),
                         "done")
        self.assertEqual(self.contacts_by_account().get(aid), 1)
