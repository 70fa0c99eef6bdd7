"""Polls pay from the Zoho Books budget: only the lists an enabled flow needs, quiet lists polled
less and less often (never sooner than the budget's even spread), every poll again once something
changed, and nothing at all once the polls' share of the day is spent."""

from flows_case import FlowsCase, invoice, line
from harness import literal, set_worker_settings, sql, value, wait_until


class PollBudget(FlowsCase):

    def setUp(self):
        super().setUp()
        # the default pacing (the suites run with poll_idle_max 0)
        set_worker_settings({"togai_zoho.poll_idle_max": "10min"})
        self.addCleanup(set_worker_settings, {"togai_zoho.poll_idle_max": None})
        self.addCleanup(sql, "SELECT * FROM togai_zoho.set_api_budget('zoho', 0)")
        # a Standard plan, its polls' tenth (200 calls) still ahead whatever earlier tests spent
        sql("SELECT * FROM togai_zoho.set_api_budget('zoho', plan => 'standard')")
        # (and room for the day's other calls: earlier suites spent some)
        used, polls = (int(v) for v in sql("SELECT calls_today, poll_calls FROM togai_zoho.api_usage "
                                           "WHERE connection = 'zoho'")[0])
        sql("SELECT * FROM togai_zoho.set_api_budget('zoho', per_day => %d)"
            % max(10 * (polls + 200), used + 2000))
        self.addCleanup(self.forget_pacing)

    def settle(self):
        """Polls until a poll finds nothing new (the earlier tests' changes), so the next waits."""
        self.forget_pacing()
        for _ in range(5):
            out = self.poll_zoho()
            if out.get("invoices", {}).get("changed") == 0:
                return
            self.forget_pacing()
        self.fail("the invoices did not settle")

    def forget_pacing(self):
        sql("UPDATE togai_zoho.sync_cursor SET cursor = (cursor::jsonb - 'next_poll_at' - 'idle_polls')::text "
            "WHERE connection_id = (SELECT id FROM togai_zoho.connection WHERE name = 'zoho')")

    def time_passes(self):
        """As if the stream's next poll were due now."""
        sql("UPDATE togai_zoho.sync_cursor SET cursor = jsonb_set(cursor::jsonb, '{next_poll_at}', "
            "to_jsonb(now() - interval '1 s'))::text WHERE stream = 'invoices' AND connection_id = "
            "(SELECT id FROM togai_zoho.connection WHERE name = 'zoho')")

    def zoho_calls(self):
        return [r for r in self.zoho.requests("/books/v3") if r["method"] == "GET"]

    def test_twenty_polls_in_a_row_cost_a_handful_of_calls(self):
        self.settle()
        self.forget_pacing()
        self.zoho.clear_requests()
        results = [self.poll_zoho() for _ in range(20)]
        calls = self.zoho_calls()
        # the ready flows need the invoices only (payments come through them): one page, once
        self.assertEqual([r["path"] for r in calls], ["/books/v3/invoices"], calls)
        self.assertNotIn("skipped", results[0])
        self.assertEqual(results[0]["invoices"]["changed"], 0, results[0])
        for r in results[1:]:
            self.assertEqual(r["skipped"], "no list is due", r)
            self.assertIn("next_poll_at", r)
        # the next poll: the budget's even spread of what is left of the polls' share (a tenth
        # of 2,000) over what is left of the organization's day, or a minute after one quiet poll
        wait, spread = (float(v) for v in sql(
            "SELECT extract(epoch FROM p.next_poll_at - now()), "
            "       extract(epoch FROM u.day_resets_at - now()) / (u.per_day / 10.0 - u.poll_calls) "
            "  FROM togai_zoho.poll_status p JOIN togai_zoho.api_usage u USING (connection) "
            " WHERE p.connection = 'zoho' AND p.stream = 'invoices'")[0])
        self.assertAlmostEqual(wait, max(60.0, spread), delta=5)
        self.assertLessEqual(wait, 15 * 60)
        usage = sql("SELECT poll_calls FROM togai_zoho.api_usage WHERE connection = 'zoho'")
        self.assertGreaterEqual(int(usage[0][0]), 1)

    def test_a_payment_brings_polls_back_to_every_run(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        self.settle()                       # quiet: the next one waits
        self.assertEqual(self.poll_zoho().get("skipped"), "no list is due")
        (contact,) = self.contact_of(aid)
        # a change at Zoho Books is seen by the next due poll ...
        self.zoho_api("PUT", "/contacts/" + contact["contact_id"], {
            "contact_name": contact["contact_name"], "contact_type": "customer"})
        made = self.zoho_api("POST", "/invoices", {
            "customer_id": contact["contact_id"], "line_items": [
                {"item_id": self.any_item(), "name": "x", "rate": 3, "quantity": 1}]})["invoice"]
        self.zoho_api("POST", "/invoices/%s/status/sent" % made["invoice_id"])
        self.time_passes()
        found = self.poll_zoho()
        self.assertGreaterEqual(found["invoices"]["changed"], 1, found)
        # ... and the one after runs at once (the polls are within their pace)
        again = self.poll_zoho()
        self.assertNotIn("skipped", again, again)
        self.assertEqual(again["invoices"]["changed"], 0, again)
        # then quiet again: the one after waits
        self.assertEqual(self.poll_zoho().get("skipped"), "no list is due")

    def any_item(self):
        return self.json("SELECT togai_zoho.zohobooks_call('zoho', 'item_create', %s)" % literal(
            '{"item": {"name": "Pace %s", "rate": 0}}' % self.prefix))["item_id"]

    def test_a_spent_poll_share_stops_polls_until_the_day_resets(self):
        self.forget_pacing()
        self.poll_zoho()
        used, polls = (int(v) for v in sql("SELECT calls_today, poll_calls FROM togai_zoho.api_usage "
                                           "WHERE connection = 'zoho'")[0])
        # room for 100 more calls today, and a polls' share that they have spent already
        sql("SELECT * FROM togai_zoho.set_api_budget('zoho', per_day => %d)" % (used + 100))
        set_worker_settings({"togai_zoho.poll_share": "%.6f" % (polls / (used + 100.0))})
        self.addCleanup(set_worker_settings, {"togai_zoho.poll_share": None})
        self.forget_pacing()
        self.zoho.clear_requests()
        out = self.poll_zoho()
        self.assertEqual(out["skipped"], "the polls' share of the day's API budget is spent", out)
        self.assertEqual(value("SELECT %s::timestamptz = day_resets_at FROM togai_zoho.api_usage "
                               "WHERE connection = 'zoho'" % literal(out["next_poll_at"])), "t")
        self.assertEqual(self.zoho_calls(), [])
        # delivery keeps the rest of the day: a session's call still goes
        value("SELECT count(*) FROM jsonb_array_elements(togai_zoho.zohobooks_call('zoho', 'currencies'))")

    def test_a_spent_day_skips_polls_instead_of_failing_them(self):
        self.forget_pacing()
        used = int(value("SELECT calls_today FROM togai_zoho.api_usage WHERE connection = 'zoho'"))
        sql("SELECT * FROM togai_zoho.set_api_budget('zoho', per_day => %d)" % max(used, 1))
        self.zoho.clear_requests()
        out = self.poll_zoho()
        self.assertEqual(out["skipped"], "the day's API budget is spent", out)
        self.assertNotIn("error", out)
        self.assertEqual(self.zoho_calls(), [])

    def test_a_list_no_enabled_flow_needs_is_not_polled(self):
        sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % literal(self.payment_flow()))
        self.addCleanup(sql, "SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(self.payment_flow()))
        self.zoho.clear_requests()
        out = self.poll_zoho()
        self.assertEqual(out["skipped"], "no enabled flow needs a Zoho Books list", out)
        self.assertEqual(self.zoho_calls(), [])

    def payment_flow(self):
        return value("SELECT name FROM togai_zoho.flows WHERE trigger = 'payment_recorded'")


class FewCallsPerObject(FlowsCase):
    """Calls per object near the least the API allows: invoices marked sent in bulk, currencies
    read once per organization however many jobs start together."""

    def test_generated_invoices_are_marked_sent_in_bulk(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        self.togai.seed({"invoices": [
            invoice("%s.inv.%d" % (self.prefix, i), aid, acc["customerId"], "%s-%d" % (self.prefix, i),
                    [line("Seats", quantity=1, rate=10 + i)]) for i in range(30)]})
        self.zoho.clear_requests()
        self.poll_togai()
        self.assertTrue(self.idle(90))
        posts = [r for r in self.zoho.requests("/books/v3/invoices") if r["method"] == "POST"]
        creates = [r for r in posts if r["path"] == "/books/v3/invoices"]
        bulk = [r for r in posts if r["path"] == "/books/v3/invoices/status/sent"]
        single = [r for r in posts if r["path"].endswith("/status/sent") and r not in bulk]
        self.assertEqual(len(creates), 30)
        self.assertEqual(single, [])
        self.assertGreaterEqual(len(bulk), 1)
        self.assertLessEqual(len(bulk), 5, [r["query"] for r in bulk])
        marked = [i for r in bulk for i in r["query"]["invoice_ids"].split(",")]
        self.assertEqual(len(marked), 30)
        self.assertEqual(len(set(marked)), 30)
        mine = [i for i in self.zoho.state()["invoices"]
                if (i.get("reference_number") or "").startswith(self.prefix)]
        self.assertEqual(sorted(i["status"] for i in mine), ["sent"] * 30)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.zohobooks_unsent"), "0")

    def test_a_refused_bulk_call_marks_the_others_one_by_one(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        # an invoice deleted at Zoho Books meanwhile: the bulk call is refused for it
        sql("INSERT INTO togai_zoho.zohobooks_unsent (connection_id, invoice_id) "
            "SELECT id, '999999999' FROM togai_zoho.connection WHERE name = 'zoho'")
        self.addCleanup(sql, "DELETE FROM togai_zoho.zohobooks_unsent")
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        self.togai.seed({"invoices": [
            invoice("%s.inv.%d" % (self.prefix, i), aid, acc["customerId"], "%s-%d" % (self.prefix, i),
                    [line("Seats", quantity=1, rate=10 + i)]) for i in range(3)]})
        self.poll_togai()

        def statuses():
            return sorted(i["status"] for i in self.zoho.state()["invoices"]
                          if (i.get("reference_number") or "").startswith(self.prefix))
        self.assertTrue(wait_until(lambda: statuses() == ["sent"] * 3, timeout=60), statuses())
        left = sql("SELECT invoice_id, attempts > 0, last_error FROM togai_zoho.zohobooks_unsent")
        self.assertEqual([(r[0], r[1]) for r in left], [("999999999", "t")], left)
        self.assertIn("does not exist", left[0][2])

    def test_currencies_are_read_once_when_many_jobs_start_together(self):
        sql("DELETE FROM togai_zoho.zohobooks_currency")
        self.zoho.clear_requests()
        ids = self.seed_accounts(20)
        self.poll_togai()
        self.assertTrue(self.idle(60))
        self.assertEqual(len(self.zoho.requests("/books/v3/settings/currencies")), 1)
        self.assertEqual(len([r for r in self.zoho.requests("/books/v3/contacts")
                              if r["method"] == "POST"]), len(ids))

    def test_a_draft_found_by_a_backfill_is_marked_sent(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        # made at Zoho Books by an attempt cut short before its mark-sent: a draft
        number = "%s-D" % self.prefix
        item = self.json("SELECT togai_zoho.zohobooks_call('zoho', 'item_create', %s)" % literal(
            '{"item": {"name": "Draft %s", "rate": 0}}' % self.prefix))["item_id"]
        draft = self.zoho_api("POST", "/invoices", {"customer_id": contact["contact_id"],
                                                    "reference_number": number, "line_items": [
                                                        {"item_id": item, "name": "x", "rate": 7,
                                                         "quantity": 1}]})["invoice"]
        self.assertEqual(draft["status"], "draft")
        flow = value("SELECT name FROM togai_zoho.flows WHERE trigger = 'invoice_generated'")
        sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % literal(flow))
        self.addCleanup(sql, "SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(flow))
        self.togai.seed({"invoices": [invoice("%s.inv.d" % self.prefix, aid, acc["customerId"], number,
                                              [line("Seats", quantity=1, rate=7)])]})
        self.poll_togai()
        sql("SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(flow))
        self.assertEqual(value("SELECT togai_zoho.backfill(%s)" % literal(flow)), "1")
        self.assertTrue(self.idle(60))
        did = value("SELECT result->0->>'did' FROM togai_zoho.outbox WHERE source_id = %s"
                    % literal("%s.inv.d" % self.prefix))
        self.assertEqual(did, "found; marked sent with the next bulk call")
        (inv,) = [i for i in self.zoho.state()["invoices"] if i["invoice_id"] == draft["invoice_id"]]
        self.assertEqual(inv["status"], "sent")
