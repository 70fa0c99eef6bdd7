"""Flows beyond the ready ones, and the ways objects arrive: one account by poll, webhook and a
user table synced once; options overriding field mappings; two actions in order; disabled flows;
preview_flow; polling pages, cursors and concurrency; webhooks; backfill."""

import json
import threading
import time

from flows_case import (ACCOUNTS_FLOW, INVOICES_FLOW, PAYMENTS_FLOW, TOKEN, FlowsCase, account,
                        customer, invoice, line, literal, sql, value, wait_until)
from harness import _psql, set_worker_settings


class FlowFeatures(FlowsCase):

    def posts(self, mock, path):
        return [r for r in mock.requests(path) if r["method"] == "POST"]

    def test_same_account_by_poll_webhook_and_user_table_synced_once(self):
        (aid,) = self.seed_accounts(1)
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        sql("CREATE TABLE public.my_accounts (account_id text PRIMARY KEY, customer_id text, name text)")
        self.addCleanup(sql, "DROP TABLE public.my_accounts")
        sql("CREATE TRIGGER sync AFTER INSERT OR UPDATE ON public.my_accounts FOR EACH ROW "
            "EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai')")
        self.poll_togai()
        self.assertEqual(value("SELECT togai_zoho.receive_webhook('togai', %s)" % literal(json.dumps(
            {"eventType": "ACCOUNT_CREATED", "data": acc}))), "0", "a repeat changes nothing")
        sql("INSERT INTO public.my_accounts VALUES (%s, %s, %s)"
            % (literal(aid), literal(acc["customerId"]), literal(acc["name"])))
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertEqual(len(self.contact_of(aid)), 1)
        self.assertEqual(len(self.posts(self.zoho, "/books/v3/contacts")), 1,
                         json.dumps([(r["method"], r["path"], r["status"], r["body"])
                                     for r in self.zoho.requests()], indent=1))
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.id_mapping WHERE togai_id = %s"
                               % literal(aid)), "1")

    def test_webhook_alone_syncs_an_account_and_an_invoice(self):
        (aid,) = self.seed_accounts(1)
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        inv = invoice(self.prefix + ".inv.w", aid, acc["customerId"], self.prefix + "-W",
                      [line("Seats", quantity=4, rate=12.5)])
        self.togai.seed({"invoices": [inv]})
        summary = {k: v for k, v in inv.items() if k != "revenueInfo"}
        self.assertEqual(value("SELECT togai_zoho.receive_webhook('togai', %s)" % literal(json.dumps(
            {"eventType": "INVOICE_GENERATED", "data": {"invoice": summary}}))), "1")
        # the invoice brought its account (read from Togai): the account's event is a repeat
        self.assertEqual(value("SELECT togai_zoho.receive_webhook('togai', %s)" % literal(json.dumps(
            {"type": "ACCOUNT_CREATED", "account": {"id": aid}}))), "0")
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[self.prefix + "-W"]
        self.assertEqual(z["total"], 50.0)
        self.assertEqual(z["customer_id"], self.contact_of(aid)[0]["contact_id"])

    def test_webhook_errors(self):
        cases = [("'zoho', '{\"foo\": 1}'", "22023", "carries no payment, invoice or contact"),
                 ("'togai', '{\"foo\": 1}'", "22023", "carries no account or invoice"),
                 ("'togai', '[1]'", "22023", "must be a JSON object"),
                 ("'togai', NULL", "22004", "payload must not be null"),
                 ("'nope', '{}'", "42704", 'connection "nope" does not exist')]
        for args, state, text in cases:
            err = self.error("SELECT togai_zoho.receive_webhook(%s)" % args)
            self.assertSQLState(err, state, text)

    def test_field_mapping_override_and_two_actions_in_order(self):
        self.custom_flow("custom accounts", "outbound", "togai", "account_created", [
            ("zoho", "contact_upsert", {"contact_name_field": "customer_name", "company_name_field": "name",
                                        "customer_sub_type": "individual", "payment_terms": 7}),
            ("togai", "account_write_back", {"metadata_key": "zohobooks_id"})], instead_of=ACCOUNTS_FLOW)
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        self.assertEqual(contact["contact_name"], "Customer " + aid.replace(".acc.", ".cus."))
        self.assertEqual(contact["company_name"], "Account " + aid)
        self.assertEqual((contact["customer_sub_type"], contact["payment_terms"]), ("individual", 7))
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        self.assertEqual(acc["metadata"], {"zohobooks_id": contact["contact_id"]})
        # in order: the contact is made before the Togai account is written
        made = self.posts(self.zoho, "/books/v3/contacts")[0]["time"]
        patched = [r for r in self.togai.requests("/accounts/") if r["method"] == "PATCH"][0]["time"]
        self.assertLess(made, patched)
        result = self.json("SELECT result FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id "
                           "WHERE f.name = 'custom accounts' AND o.source_id = %s" % literal(aid))
        self.assertEqual([(r["position"], r["action"], r["did"]) for r in result],
                         [(1, "contact_upsert", "created"), (2, "account_write_back", "written back")])

    def test_fixed_item_and_tax_on_invoice_lines(self):
        self.zoho.seed({"taxes": [{"tax_id": "4600000000888", "tax_name": "Exempt", "tax_percentage": 0}]})
        item = self.json("SELECT togai_zoho.zohobooks_call('zoho', 'item_create', %s)" % literal(json.dumps(
            {"item": {"name": "Fixed %s" % self.prefix, "rate": 0}})))["item_id"]
        self.custom_flow("custom invoices", "outbound", "togai", "invoice_generated", [
            ("zoho", "invoice_create", {"item_id": item, "tax_id": "4600000000888",
                                        "use_togai_number": True})], instead_of=INVOICES_FLOW)
        (aid,) = self.seed_accounts(1)
        inv = invoice(self.prefix + ".inv.i", aid, aid.replace(".acc.", ".cus."), self.prefix + "-I",
                      [line("Seats", quantity=2, rate=5), line("Calls", quantity=10, rate=0.5)])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[self.prefix + "-I"]
        self.assertEqual(z["invoice_number"], self.prefix + "-I")
        self.assertEqual({(li["item_id"], li["tax_id"]) for li in z["line_items"]},
                         {(item, "4600000000888")})
        self.assertEqual(z["status"], "draft", "mark_sent is off in this flow")

    def test_disabled_flow_does_nothing_then_backfill_sends_it(self):
        sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % literal(ACCOUNTS_FLOW))
        try:
            ids = self.seed_accounts(3)
            # (an earlier test's account may have changed in Togai too)
            self.assertGreaterEqual(self.poll_togai()["accounts"]["changed"], 3)
            time.sleep(0.3)
            self.assertEqual(value("SELECT count(*) FROM togai_zoho.outbox o JOIN togai_zoho.flow f "
                                   "ON f.id = o.flow_id WHERE f.name = %s AND o.state = 'pending'"
                                   % literal(ACCOUNTS_FLOW)), "0")
            self.assertEqual(self.zoho.requests("/books/v3/contacts"), [])
            err = self.error("SELECT togai_zoho.backfill(%s)" % literal(ACCOUNTS_FLOW))
            self.assertSQLState(err, "55000", "is disabled", "set_flow_enabled")
        finally:
            sql("SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(ACCOUNTS_FLOW))
        self.assertEqual(value("SELECT togai_zoho.backfill(%s)" % literal(ACCOUNTS_FLOW)), "3")
        self.assertTrue(self.idle())
        for a in ids:
            self.assertEqual(len(self.contact_of(a)), 1)
        self.assertEqual(value("SELECT togai_zoho.backfill(%s)" % literal(ACCOUNTS_FLOW)), "0",
                         "nothing left unsynced")

    def test_backfill_reports_progress(self):
        set_worker_settings({"togai_zoho.worker": "off"})
        sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % literal(ACCOUNTS_FLOW))
        try:
            sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name) "
                "SELECT %s || g, 'bulk', 'Bulk ' || g FROM generate_series(1, 12000) g"
                % literal(self.prefix + ".bulk."))
            sql("SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(ACCOUNTS_FLOW))
            proc = _psql("SELECT togai_zoho.backfill(%s)" % literal(ACCOUNTS_FLOW), "postgres", 120, None)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout.strip(), "12000")
            notices = [l for l in proc.stderr.splitlines() if "NOTICE" in l]
            self.assertEqual(len(notices), 3, notices)
            self.assertIn("5000 rows enqueued so far", notices[0])
            self.assertIn("10000 rows enqueued so far", notices[1])
            self.assertIn("12000 rows enqueued", notices[2])
            self.assertEqual(value("SELECT pending FROM togai_zoho.sync_status WHERE flow = %s"
                                   % literal(ACCOUNTS_FLOW)), "12000")
        finally:
            sql("DELETE FROM togai_zoho.outbox WHERE source_id LIKE %s" % literal(self.prefix + ".bulk.%"))
            sql("DELETE FROM togai_zoho.customers WHERE account_id LIKE %s" % literal(self.prefix + ".bulk.%"))
            sql("SELECT togai_zoho.set_flow_enabled(%s, true)" % literal(ACCOUNTS_FLOW))
            set_worker_settings({"togai_zoho.worker": None})

    # preview ----------------------------------------------------------------------------
    def test_preview_flow_shows_exact_requests_and_sends_nothing(self):
        sample = {"account_id": "acc.preview", "customer_id": "cus.preview", "name": "Preview Co",
                  "customer_name": "Preview Holding", "invoice_currency": "GBP",
                  "primary_email": "ap@preview.example", "metadata": {"crm": "7"}}
        out = self.json("SELECT togai_zoho.preview_flow(%s, %s)" % (literal(ACCOUNTS_FLOW),
                                                                  literal(json.dumps(sample))))
        text = json.dumps(out)
        reqs = out["requests"]
        self.assertEqual([(r["method"], r["url"].split("?")[0]) for r in reqs], [
            ("GET", self.zoho.url + "/books/v3/settings/currencies"),
            ("POST", self.zoho.url + "/books/v3/contacts"),
            ("GET", self.togai.url + "/accounts/acc.preview"),
            ("PATCH", self.togai.url + "/accounts/acc.preview")])
        self.assertIn("organization_id=600001", reqs[1]["url"])
        self.assertEqual(reqs[1]["headers"]["Authorization"], "Zoho-oauthtoken ****")
        self.assertEqual(reqs[3]["headers"]["Authorization"], "Bearer ****")
        body = reqs[1]["body"]
        self.assertEqual((body["contact_name"], body["company_name"], body["currency_id"]),
                         ("Preview Co", "Preview Holding", "(currency id of GBP)"))
        self.assertEqual(reqs[3]["body"], {"metadata": {"crm": "7", "zohobooks_contact_id": "(new contact id)"}})
        self.assertNotIn(TOKEN, text)
        access = value("SELECT access_token FROM togai_zoho.connection_secret WHERE access_token IS NOT NULL")
        self.assertNotIn(access, text)
        self.assertEqual(self.zoho.requests(), [])
        self.assertEqual(self.togai.requests(), [])
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.id_mapping WHERE togai_id = 'acc.preview'"), "0")

    def test_preview_of_invoice_and_payment_flows(self):
        inv = {"invoice_id": "inv.preview", "account_id": "acc.nowhere", "status": "DUE",
               "sequence_id": "PRE-1", "currency": "USD", "total_amount": 10.5,
               "invoice_date": "2026-10-31T00:00:00Z",
               "revenue_info": {"lineItems": [{"description": "Seats", "type": "USAGE_RATE_CARD_AMOUNT",
                                                "quantity": 3, "valuePerQuantity": 3.5, "value": 10.5,
                                                "lineItems": []}]}}
        out = self.json("SELECT togai_zoho.preview_flow(%s, %s)" % (literal(INVOICES_FLOW),
                                                                  literal(json.dumps(inv))))
        # the line's item is looked up (and made) first unless it is known already
        # the invoice is marked sent by a bulk call for many, not by a request of its own
        *items, create = out["requests"]
        self.assertEqual([(r["method"], r["url"].split("?")[0].rsplit("/", 1)[-1]) for r in items],
                         [] if not items else [("GET", "items"), ("POST", "items")])
        self.assertEqual(create["body"]["customer_id"], "(contact id of account acc.nowhere, once synced)")
        (li,) = create["body"]["line_items"]
        self.assertEqual((li["name"], li["quantity"], li["rate"]), ("Seats", 3, 3.5))
        self.assertTrue(li["item_id"])
        self.assertEqual(create["body"]["reference_number"], "PRE-1")
        self.assertEqual([s["did"] for s in out["steps"]],
                         ["created; marked sent with the next bulk call",
                          "no prepaid credits on the Togai invoice"])
        err = self.error("SELECT togai_zoho.preview_flow(%s, '[]')" % literal(INVOICES_FLOW))
        self.assertSQLState(err, "22023", "sample must be a JSON object")
        err = self.error("SELECT togai_zoho.preview_flow('no such flow')")
        self.assertSQLState(err, "42704", "does not exist")
        pay = {"payment_id": "pay.preview", "customer_id": "nobody", "amount": 5,
               "invoices": [{"invoice_id": "not.synced", "amount_applied": 5}]}
        out = self.json("SELECT togai_zoho.preview_flow(%s, %s)" % (literal(PAYMENTS_FLOW),
                                                                  literal(json.dumps(pay))))
        self.assertEqual(out["requests"], [])
        self.assertEqual(out["steps"][0]["did"],
                         "no invoice of the payment was synced from Togai: nothing to record")

    # polling ----------------------------------------------------------------------------
    def test_poll_togai_pages_resume_and_concurrent_polls(self):
        ids = self.seed_accounts(120)
        # one page a call: the walks resume where they stopped, stream after stream
        calls = []
        while not (calls and calls[-1].get("invoices", {}).get("complete")):
            calls.append(self.poll_togai(max_pages=1))
            self.assertEqual(calls[-1]["pages"], 1, calls[-1])
            self.assertLess(len(calls), 60, calls)
        walked = [(k, o[k]["complete"]) for o in calls for k in ("customers", "accounts", "invoices") if k in o]
        self.assertGreaterEqual(walked.count(("accounts", False)), 2, walked)
        self.assertIn(("accounts", True), walked)
        self.assertIn(("customers", True), walked)
        self.assertGreaterEqual(sum(o.get("accounts", {}).get("seen", 0) for o in calls), 120)
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.customers WHERE account_id = ANY(%s)"
                               % literal("{%s}" % ",".join(ids))), "120")
        # a poll while another runs returns at once
        holder = threading.Thread(target=sql, args=(
            "BEGIN; SELECT togai_zoho.poll_togai('togai'); SELECT pg_sleep(1.5); COMMIT",))
        holder.start()
        time.sleep(0.7)
        other = self.poll_togai()
        holder.join()
        self.assertEqual(other.get("skipped"), "another poll of this connection is running", other)
        self.assertTrue(self.idle(120))
        self.assertEqual(sum(len(self.contact_of(a)) for a in ids), 120)

    def test_call_poll_commits_a_page_at_a_time(self):
        ids = self.seed_accounts(120)
        self.togai.clear_requests()
        self.togai.config(latency_ms=300)
        self.addCleanup(self.togai.config, latency_ms=0)
        poller = threading.Thread(target=sql, args=("CALL togai_zoho.poll('togai')",))
        poller.start()
        # mid-walk, what the earlier pages took is committed, and the poll's backend is in a
        # transaction younger than its CALL: no transaction spans the walk's calls
        time.sleep(1.6)
        mid = sql("SELECT extract(epoch FROM now() - query_start), extract(epoch FROM now() - xact_start)"
                  "  FROM pg_stat_activity WHERE query LIKE 'CALL togai_zoho.poll(%' AND pid <> pg_backend_pid()")
        taken = int(value("SELECT count(*) FROM togai_zoho.customers WHERE account_id = ANY(%s)"
                          % literal("{%s}" % ",".join(ids))))
        poller.join()
        self.assertEqual(len(mid), 1, mid)
        call_age, xact_age = float(mid[0][0]), float(mid[0][1])
        self.assertGreater(call_age, 1.2, mid)
        self.assertLess(xact_age, 0.9, mid)
        self.assertGreater(taken, 0, "pages committed before the walk ended")
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.customers WHERE account_id = ANY(%s)"
                               % literal("{%s}" % ",".join(ids))), "120")
        # each list walked once: no page of a list read twice
        pages = [(r["path"], json.dumps(r.get("query", {}), sort_keys=True)) for r in self.togai.requests()
                 if r["method"] == "GET" and r["path"] in ("/customers", "/accounts", "/invoices")]
        self.assertEqual(sorted(pages), sorted(set(pages)), pages)
        lists = {(p, tuple(sorted(k for k in json.loads(q) if k not in ("nextToken", "pageSize"))))
                 for p, q in pages}
        self.assertIn(("/accounts", ()), lists)
        self.assertIn(("/invoices", ("status",)), lists)

    def forget_zoho_cursor(self, stream):
        """As if the stream of the Zoho Books connection had never been polled."""
        sql("DELETE FROM togai_zoho.sync_cursor WHERE stream = %s AND connection_id = "
            "(SELECT id FROM togai_zoho.connection WHERE name = 'zoho')" % literal(stream))

    def watch_contacts(self):
        """A contact_updated flow for the test: without one no poll reads the contacts."""
        self.custom_flow("contacts watched", "inbound", "zoho", "contact_updated",
                         [("togai", "account_update", {})])

    def poll_requests(self):
        """The list reads of one poll of Zoho Books, by path (not the calls of the jobs it fires)."""
        self.assertTrue(self.idle())
        self.zoho.clear_requests()
        out = self.poll_zoho()
        reads = [r for r in self.zoho.requests("/books/v3/") if r["method"] == "GET"
                 and r["path"] in ("/books/v3/contacts", "/books/v3/invoices")]
        return out, reads

    def test_poll_zohobooks_pages_and_cursor(self):
        # made two minutes ago (settled), found by the first walk of the contacts
        self.watch_contacts()
        self.forget_zoho_cursor("contacts")
        self.zoho.config(clock_offset_s=-120)
        self.addCleanup(self.zoho.config, clock_offset_s=0)
        for i in range(205):
            self.zoho_api("POST", "/contacts", {"contact_name": "%s zoho-made %d" % (self.prefix, i)})
        self.zoho.config(clock_offset_s=0)
        out = self.poll_zoho()
        self.assertNotIn("error", out)
        self.assertGreaterEqual(out["contacts"]["changed"], 205, out)
        n = int(value("SELECT count(*) FROM togai_zoho.inbox WHERE entity = 'contact' "
                      "AND payload->>'contact_name' LIKE %s" % literal(self.prefix + " zoho-made %")))
        self.assertEqual(n, 205)
        # a quiet poll reads one page of each stream, with documented parameters only
        again, reads = self.poll_requests()
        self.assertEqual(again["contacts"]["changed"], 0, again)
        self.assertEqual(sorted(r["path"] for r in reads), ["/books/v3/contacts", "/books/v3/invoices"])
        # the Zoho Books connection's cursor (the Togai connection has an invoices stream too)
        since = value("SELECT cursor::jsonb->>'since' FROM togai_zoho.sync_cursor WHERE stream = 'invoices' "
                      "AND connection_id = (SELECT id FROM togai_zoho.connection WHERE name = 'zoho')")
        self.assertRegex(since, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
        by_path = {r["path"]: r["query"] for r in reads}
        self.assertEqual(by_path["/books/v3/invoices"].get("last_modified_time"), since)
        self.assertNotIn("sort_column", by_path["/books/v3/invoices"])
        self.assertEqual(by_path["/books/v3/contacts"].get("sort_column"), "last_modified_time")
        self.assertNotIn("last_modified_time", by_path["/books/v3/contacts"])
        # a contact changed in Zoho Books is seen, whichever way Zoho sorts by change
        for n, descending in enumerate((False, True)):
            self.zoho.config(time_sorts_descending=descending)
            self.poll_zoho()
            (c,) = [c for c in self.zoho.state()["contacts"]
                    if c["contact_name"] == "%s zoho-made %d" % (self.prefix, 3 + n)]
            self.zoho.call("POST", "rename", {"contact_id": c["contact_id"],
                                              "contact_name": "%s renamed %s" % (self.prefix, descending)})
            out, reads = self.poll_requests()
            self.assertEqual(out["contacts"]["changed"], 1, out)
            self.assertEqual(len([r for r in reads if r["path"] == "/books/v3/contacts"]), 1, reads)
            quiet, reads = self.poll_requests()
            self.assertEqual(quiet["contacts"]["changed"], 0, quiet)
            self.assertEqual(len(reads), 2, reads)
        self.zoho.config(time_sorts_descending=True)

    def test_an_invoice_changed_during_a_walk_is_read_again(self):
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        item = self.json("SELECT togai_zoho.zohobooks_call('zoho', 'item_create', %s)" % literal(json.dumps(
            {"item": {"name": "Walk %s" % self.prefix, "rate": 0}})))["item_id"]
        # made ten minutes ago (the later polls of this class find them settled)
        self.zoho.config(clock_offset_s=-600)
        self.addCleanup(self.zoho.config, clock_offset_s=0)
        made = [self.zoho_api("POST", "/invoices", {"customer_id": contact["contact_id"], "line_items": [
            {"item_id": item, "name": "x", "rate": 1, "quantity": 1}]})["invoice"] for _ in range(210)]
        self.zoho.config(clock_offset_s=0)
        self.forget_zoho_cursor("invoices")
        # a walk of two pages cut after the first (newest first), then one on that page changes
        first = self.json("SELECT togai_zoho.poll_zohobooks('zoho', 1)")
        self.assertFalse(first.get("invoices", {"complete": True})["complete"], first)
        changed = made[-1]["invoice_id"]
        self.zoho_api("POST", "/invoices/%s/status/sent" % changed)
        self.poll_zoho()        # the walk's end
        self.poll_zoho()        # the next walk starts before the first began
        self.assertEqual(value("SELECT status FROM togai_zoho.inbox WHERE entity = 'invoice' AND remote_id = %s"
                               % literal(changed)), "sent")

    def test_poll_errors_are_shown_where_users_look(self):
        self.watch_contacts()
        self.zoho.faults({"kind": "500", "count": 1, "match": {"method": "GET", "path_prefix": "/books/v3/invoices"}})
        out = self.poll_zoho()
        self.assertIn("invoices", out["error"])
        status = dict(sql("SELECT stream, last_error FROM togai_zoho.poll_status WHERE connection = 'zoho'"))
        self.assertIn("Internal server error", status["invoices"])
        # the other stream still ran
        self.assertTrue(out["contacts"]["complete"], out)
        self.assertIsNotNone(value("SELECT last_poll_at FROM togai_zoho.poll_status WHERE connection = 'zoho' "
                                   "AND stream = 'contacts'"))
        # CALL togai_zoho.poll() (for pg_cron) keeps what it took, then fails naming the stream
        self.zoho.faults({"kind": "500", "count": 1, "match": {"method": "GET", "path_prefix": "/books/v3/invoices"}})
        before = value("SELECT last_poll_at FROM togai_zoho.poll_status WHERE connection = 'zoho' "
                       "AND stream = 'contacts'")
        err = self.error("CALL togai_zoho.poll('zoho')")
        self.assertSQLState(err, "38000", 'polling connection "zoho" stopped at invoices')
        self.assertNotEqual(value("SELECT last_poll_at FROM togai_zoho.poll_status WHERE connection = 'zoho' "
                                  "AND stream = 'contacts'"), before, "the poll's work was committed")
        self.assertNotIn("error", self.poll_zoho())
        self.assertEqual(value("SELECT last_error FROM togai_zoho.poll_status WHERE connection = 'zoho' "
                               "AND stream = 'invoices'"), None)

    def test_polls_from_pg_cron(self):
        sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
        self.watch_contacts()
        (aid,) = self.seed_accounts(1)
        # a Zoho Books stream that fails while pg_cron polls: its run says so
        self.zoho.faults({"kind": "500", "rate": 1.0, "match": {"method": "GET", "path_prefix": "/books/v3/invoices"}})
        # pg_cron 1.4 runs jobs at most once a minute
        job = value("SELECT cron.schedule('togai poll', '* * * * *', "
                    "$$CALL togai_zoho.poll('togai')$$)")
        zjob = value("SELECT cron.schedule('zoho poll', '* * * * *', $$CALL togai_zoho.poll('zoho')$$)")
        try:
            self.assertTrue(wait_until(lambda: len(self.contact_of(aid)) == 1, timeout=90))
            self.assertTrue(wait_until(lambda: sql("SELECT 1 FROM cron.job_run_details WHERE jobid = %s "
                                                   "AND status = 'failed'" % zjob), timeout=90))
        finally:
            sql("SELECT cron.unschedule(%s::bigint)" % job)
            sql("SELECT cron.unschedule(%s::bigint)" % zjob)
            self.zoho.call("DELETE", "faults")
        runs = sql("SELECT status FROM cron.job_run_details WHERE jobid = %s" % job)
        self.assertTrue(runs and all(r[0] in ("succeeded", "running") for r in runs), runs)
        message = value("SELECT return_message FROM cron.job_run_details WHERE jobid = %s "
                        "AND status = 'failed' LIMIT 1" % zjob)
        self.assertIn('polling connection "zoho" stopped at invoices', message)
        # what the failed run took (the contacts stream) was kept
        self.assertIsNotNone(value("SELECT last_complete_walk_at FROM togai_zoho.poll_status "
                                   "WHERE connection = 'zoho' AND stream = 'contacts'"))

    # the other inbound triggers -----------------------------------------------------------
    def test_contact_edited_in_zoho_updates_the_togai_account(self):
        self.custom_flow("contacts back", "inbound", "zoho", "contact_updated",
                         [("togai", "account_update", {})])
        (aid,) = self.seed_accounts(1)
        self.poll_togai()
        self.assertTrue(self.idle())
        (contact,) = self.contact_of(aid)
        self.zoho_api("PUT", "/contacts/" + contact["contact_id"], {
            "contact_name": "Edited in Zoho", "contact_type": "customer", "billing_address": {"address": "9 New Rd", "city": "Leeds",
                                                                  "zip": "LS1", "country": "GB"}})
        self.poll_zoho()
        self.assertTrue(self.idle())
        acc = [a for a in self.togai.state()["accounts"] if a["id"] == aid][0]
        self.assertEqual(acc["name"], "Edited in Zoho")
        self.assertEqual(acc["address"], {"line1": "9 New Rd", "city": "Leeds", "postalCode": "LS1",
                                          "country": "GB"})
        # every request sent to Togai matched its schema in Togai's OpenAPI document
        self.assertEqual([v for v in self.togai.call("GET", "schema_violations")["violations"]
                          if v.startswith("request")], [])

    def test_invoice_paid_in_zoho_marks_the_togai_invoice_paid(self):
        self.custom_flow("paid back", "inbound", "zoho", "invoice_paid", [
            ("togai", "payment_record", {"source_type": "CASH", "source_name": "Front desk"})],
            instead_of=PAYMENTS_FLOW)
        (aid,) = self.seed_accounts(1)
        inv = invoice(self.prefix + ".inv.pd", aid, aid.replace(".acc.", ".cus."), self.prefix + "-PD",
                      [line("Seats", quantity=2, rate=21.5)])
        self.togai.seed({"invoices": [inv]})
        self.poll_togai()
        self.assertTrue(self.idle())
        z = self.zoho_invoices()[self.prefix + "-PD"]
        self.zoho_payment(z, 43.0)
        self.poll_zoho()
        self.assertTrue(self.idle())
        (p,) = [p for p in self.togai_payments()
                if p["externalPaymentReferences"]["transactionNumber"] == "invoice:" + z["invoice_id"]]
        self.assertEqual((p["accountId"], p["totalAmount"]), (aid, 43.0))
        self.assertEqual(p["externalPaymentReferences"]["sourceType"], "CASH")
        self.assertEqual(p["externalPaymentReferences"]["sourceName"], "Front desk")
        togai_inv = [i for i in self.togai.state()["invoices"] if i["id"] == inv["id"]][0]
        self.assertEqual(togai_inv["status"], "PAID")

    def test_an_error_in_one_jobs_step_stops_that_job_alone(self):
        """A step that raises an ERROR (a bug met by one object's data) kills its own job with the
        error's words; the jobs claimed with it finish, and a retry once it is fixed makes nothing
        twice."""
        aids = self.seed_accounts(3)
        set_worker_settings({"togai_zoho.debug_fail_answer": "/accounts/" + aids[1]})
        self.addCleanup(set_worker_settings, {"togai_zoho.debug_fail_answer": None})
        self.poll_togai()
        self.assertTrue(self.idle())
        (dead,) = sql("SELECT source_id, last_error FROM togai_zoho.dead_jobs WHERE source_id = ANY(%s)"
                      % literal("{%s}" % ",".join(aids)))
        self.assertEqual(dead[0], aids[1])
        self.assertIn("internal error in the job's step: togai_zoho.debug_fail_answer: failing the answer "
                      "to /accounts/" + aids[1], dead[1])
        written = {a["id"]: a["metadata"].get("zohobooks_contact_id") for a in self.togai.state()["accounts"]}
        self.assertEqual([bool(written[a]) for a in aids], [True, False, True])
        # fixed: the retry finds its contact and writes it back, one contact each
        set_worker_settings({"togai_zoho.debug_fail_answer": None})
        self.assertEqual(value("SELECT togai_zoho.retry_dead(%s)" % literal(ACCOUNTS_FLOW)), "1")
        self.assertTrue(self.idle())
        written = {a["id"]: a["metadata"].get("zohobooks_contact_id") for a in self.togai.state()["accounts"]}
        self.assertEqual([len(self.contact_of(a)) for a in aids], [1, 1, 1])
        self.assertEqual(written[aids[1]], self.contact_of(aids[1])[0]["contact_id"])
