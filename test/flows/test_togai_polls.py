"""Togai polls that cost what can change: the open lists (status filter), a recent window, new
customers and accounts, the invoices that left the open lists read alone, a sweep of the rest;
ongoing drafts read alone only once their period has ended; nothing missed; a 429 from Togai
pauses that connection alone; webhooks make polls sweep only."""

import json
import math
import time

from flows_case import FlowsCase, invoice, line, stamp
from harness import literal, remember_secret, sql, value, wait_until

# the lists every poll reads (togai_zoho.togai_open_statuses): drafts are read at their period's end
OPEN = ["DUE", "PARTIALLY_PAID", "REFUND_INITIATED", "REFUND_COMPLETED"]


class TogaiPolls(FlowsCase):

    def settle(self):
        """Polls until a poll finds nothing new and no sweep is under way, and the jobs are done."""
        for _ in range(10):
            out = self.poll_togai()
            sweeping = any(k in out.get("lists", {}) for k in ("customers", "accounts", "invoices"))
            if not sweeping and all(v.get("changed", 0) == 0 for v in out.get("lists", {}).values()):
                break
        self.assertTrue(self.idle())

    def move(self, iid, status, **fields):
        self.togai.call("POST", "invoice_status", dict({"id": iid, "status": status}, **fields))

    def mirrored(self, iid):
        return value("SELECT status FROM togai_zoho.invoices WHERE invoice_id = %s" % literal(iid))

    def history(self, aid, cid, n, status, tag):
        return [invoice("%s.%s.%d" % (self.prefix, tag, k), aid, cid, "%s-%s-%d" % (self.prefix, tag, k),
                        [line("Seats", quantity=1, rate=10)], status=status) for k in range(n)]

    def togai_lists(self):
        """The list reads of Togai since the log was cleared: (path, filters)."""
        return [(r["path"], tuple(sorted(k for k in r.get("query", {}) if k not in ("nextToken", "pageSize"))))
                for r in self.togai.requests() if r["method"] == "GET"
                and r["path"] in ("/customers", "/accounts", "/invoices")]

    def test_a_quiet_poll_reads_what_is_open_not_the_history(self):
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        # a long history of paid invoices, and a few that can still move
        self.togai.seed({"invoices": self.history(aid, cid, 260, "PAID", "old")
                         + self.history(aid, cid, 3, "DUE", "due")})
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.settle()
        state = self.togai.state()["invoices"]
        self.togai.clear_requests()
        out = self.poll_togai()
        self.assertNotIn("error", out)
        reads = [r for r in self.togai.requests() if r["method"] == "GET"]
        lists = self.togai_lists()
        # each open status read through its filter, a page per 50 open invoices; no unfiltered
        # list of invoices, no invoice read alone (nothing moved)
        self.assertNotIn(("/invoices", ()), lists)
        self.assertEqual([r for r in reads if r["path"].startswith("/invoices/")], [])
        statuses = sorted(r["query"]["status"] for r in reads if "status" in r.get("query", {}))
        expected = sorted(s for s in OPEN for _ in range(max(1, math.ceil(
            sum(1 for i in state if i["status"] == s) / 50.0))))
        self.assertEqual(statuses, expected, (out, [(r["path"], r.get("query")) for r in reads]))
        self.assertIn(("/invoices", ("start_time",)), lists)
        # and new customers, new accounts and new payments (the ready flows carry Togai's payments)
        self.assertEqual(len([r for r in reads if r["path"] == "/payments"]), 1)
        self.assertEqual(len(reads), len(expected) + 4, [(r["path"], r.get("query")) for r in reads])
        # the paid history is not read again until the sweep is due
        self.assertLess(len(reads), 260 / 50.0 + len(OPEN) + 1, reads)
        usage = sql("SELECT poll_calls, per_day, concurrent FROM togai_zoho.api_usage "
                    "WHERE connection = 'togai'")[0]
        self.assertGreater(int(usage[0]), 0)
        self.assertEqual(tuple(usage[1:]), (None, None), "Togai: no budget unless one is set")

    def test_nothing_is_missed_between_polls(self):
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        p = self.prefix
        draft, to_paid, to_void, to_bad, to_refund, straight = (
            invoice("%s.inv.%s" % (p, k), aid, cid, "%s-%s" % (p, k.upper()),
                    [line("Seats", quantity=2, rate=10)], status=s)
            for k, s in (("draft", "DRAFT"), ("paid", "DUE"), ("void", "DUE"), ("bad", "DUE"),
                         ("refund", "PAID"), ("straight", "DRAFT")))
        self.togai.seed({"invoices": [draft, to_paid, to_void, to_bad, to_refund, straight]})
        self.settle()
        self.assertIsNone(self.mirrored(draft["id"]), "an ongoing draft is not mirrored")
        # between two polls: a draft generated, invoices paid, voided, written off, refunded,
        # a draft paid at once (never DUE), and a new invoice born paid this minute
        self.move(draft["id"], "DUE")
        self.move(to_paid["id"], "PAID", paidAmount=20)
        self.move(to_void["id"], "VOID")
        self.move(to_bad["id"], "UN_COLLECTIBLE")
        self.move(to_refund["id"], "REFUND_INITIATED")
        self.move(straight["id"], "PAID", paidAmount=20)
        born = invoice(p + ".inv.born", aid, cid, p + "-BORN", [line("Seats", quantity=1, rate=7)],
                       status="PAID")
        born["startDate"] = stamp()
        self.togai.seed({"invoices": [born]})
        self.togai.clear_requests()
        self.poll_togai()
        self.assertTrue(self.idle())
        for inv, status in ((draft, "DUE"), (to_paid, "PAID"), (to_void, "VOID"), (to_bad, "UN_COLLECTIBLE"),
                            (to_refund, "REFUND_INITIATED"), (straight, "PAID"), (born, "PAID")):
            self.assertEqual(self.mirrored(inv["id"]), status, inv["id"])
        zoho = self.zoho_invoices()
        for inv in (draft, straight, born):
            self.assertIn(inv["sequenceId"], zoho, "a generated invoice reaches Zoho Books")
        self.assertEqual(zoho[to_void["sequenceId"]]["status"], "void")
        # the one written off in Togai is written off in Zoho Books (the ready write-off flow)
        self.assertEqual((zoho[to_bad["sequenceId"]]["balance"], zoho[to_bad["sequenceId"]]["write_off_amount"]),
                         (0.0, 20.0))
        # those that left the open lists were read alone, once each; the rest came in lists
        alone = sorted(r["path"].split("/")[-1] for r in self.togai.requests("/invoices/")
                       if r["method"] == "GET")
        for iid in (to_paid["id"], to_void["id"], to_bad["id"], straight["id"]):
            self.assertIn(iid, alone)
        self.assertEqual(len(alone), len(set(alone)), alone)
        # terminal now: not read again
        self.togai.clear_requests()
        self.poll_togai()
        self.assertEqual([r["path"] for r in self.togai.requests("/invoices/") if r["method"] == "GET"], [])
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.togai_open_invoice WHERE invoice_id = ANY(%s)"
                               % literal("{%s}" % ",".join(i["id"] for i in (to_paid, to_void, to_bad,
                                                                              straight, born)))), "0")

    def ongoing(self, aid, tag, ends):
        """An ongoing draft of the account whose period ends at ends (epoch seconds)."""
        cid = aid.replace(".acc.", ".cus.")
        d = invoice("%s.inv.%s" % (aid, tag), aid, cid, "%s-%s" % (aid, tag.upper()),
                    [line("Seats", quantity=1, rate=10)], status="DRAFT")
        d["endDate"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ends))
        return d

    def alone(self):
        return [r["path"].split("/")[-1] for r in self.togai.requests("/invoices/") if r["method"] == "GET"]

    def test_ongoing_drafts_cost_a_quiet_poll_nothing_and_move_at_their_periods_end(self):
        accounts = self.seed_accounts(120)
        due, paid, finishing, voided = accounts[:4]
        ends = time.time() + 20
        drafts = {a: self.ongoing(a, "cycle", ends if a in (due, paid, finishing) else time.time() + 20 * 86400)
                  for a in accounts}
        self.togai.seed({"invoices": list(drafts.values())})
        sql("SELECT togai_zoho.sweep_now('togai')")
        self.settle()
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.togai_open_invoice "
                               "WHERE status = 'DRAFT' AND ends_at IS NOT NULL"), "120")
        # a quiet poll: no DRAFT list, and no draft read alone before its period ends
        self.togai.clear_requests()
        self.poll_togai()
        reads = [r for r in self.togai.requests() if r["method"] == "GET"]
        alone = self.alone()
        self.assertNotIn("DRAFT", [r.get("query", {}).get("status") for r in reads])
        if time.time() < ends:
            self.assertEqual(alone, [])
        # as many calls as without any draft: a page per 50 invoices of each open list (other tests'
        # among them), new customers, accounts and payments, the recent window
        state = self.togai.state()["invoices"]
        pages = sum(max(1, math.ceil(sum(1 for i in state if i["status"] == st) / 50.0)) for st in OPEN)
        self.assertEqual(len(reads), pages + 4 + len(alone), [(r["path"], r.get("query")) for r in reads])

        # their periods end: one generated (DUE), one paid at once from a wallet, one still being
        # finished by Togai; one voided before its end needs nothing
        time.sleep(max(0, ends + 8 - time.time()))
        self.move(drafts[due]["id"], "DUE")
        self.move(drafts[paid]["id"], "PAID", paidAmount=drafts[paid]["totalAmount"])
        self.move(drafts[voided]["id"], "VOID")
        self.togai.clear_requests()
        self.poll_togai()
        self.assertTrue(self.idle())
        zoho = self.zoho_invoices()
        self.assertIn(drafts[due]["sequenceId"], zoho, "generated: through the DUE list")
        self.assertIn(drafts[paid]["sequenceId"], zoho, "paid straight from DRAFT: read alone")
        self.assertNotIn(drafts[finishing]["sequenceId"], zoho)
        self.assertNotIn(drafts[voided]["sequenceId"], zoho)
        alone = self.alone()
        self.assertIn(drafts[paid]["id"], alone)
        self.assertIn(drafts[finishing]["id"], alone)
        self.assertNotIn(drafts[voided]["id"], alone, "its period has not ended: the sweep sees it")
        self.assertEqual(len(alone), len(set(alone)), alone)
        # the one still being finished is read again at the next poll, once
        self.togai.clear_requests()
        self.poll_togai()
        self.assertEqual(self.alone(), [drafts[finishing]["id"]])
        # Togai generates it: the DUE list brings it
        self.move(drafts[finishing]["id"], "DUE")
        self.poll_togai()
        self.assertTrue(self.idle())
        self.assertIn(drafts[finishing]["sequenceId"], self.zoho_invoices())
        self.assertEqual(value("SELECT count(*) FROM togai_zoho.togai_open_invoice WHERE invoice_id = ANY(%s) "
                               "AND status = 'DRAFT'" % literal("{%s}" % ",".join(
                                   drafts[a]["id"] for a in (due, paid, finishing)))), "0")

    def test_a_new_accounts_invoices_are_read_by_owner(self):
        self.settle()
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        # paid at once, for a period long past: neither an open list nor the window shows it
        old = invoice(self.prefix + ".inv.owned", aid, cid, self.prefix + "-OWNED",
                      [line("Seats", quantity=1, rate=9)], status="PAID")
        self.togai.seed({"invoices": [old]})
        self.togai.clear_requests()
        self.poll_togai()
        self.assertEqual(self.mirrored(old["id"]), "PAID")
        owners = [r["query"].get("owner_id") for r in self.togai.requests()
                  if r["path"] == "/invoices" and "owner_id" in r.get("query", {})]
        self.assertEqual(owners, [aid])
        self.assertTrue(self.idle())
        self.assertIn(self.prefix + "-OWNED", self.zoho_invoices())

    def test_a_change_during_a_walk_is_not_skipped_and_a_cut_walk_resumes(self):
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        due = self.history(aid, cid, 120, "DUE", "walk")
        self.togai.seed({"invoices": due})
        self.settle()
        self.togai.clear_requests()
        # one page a call: the DUE list is walked over several polls
        cursors = []
        for _ in range(40):
            out = self.poll_togai(max_pages=1)
            self.assertLessEqual(out["pages"], 1, out)
            cur = value("SELECT cursor FROM togai_zoho.sync_cursor s JOIN togai_zoho.connection c "
                        "ON c.id = s.connection_id WHERE c.name = 'togai' AND stream = 'invoices:DUE'")
            cursors.append(json.loads(cur or "{}"))
            if "next_token" in cursors[-1]:
                break
        self.assertIn("next_token", cursors[-1], "the walk was cut short and keeps its place")
        # mid-walk: one invoice already read moves to PAID, one not yet read too
        self.move(due[0]["id"], "PAID", paidAmount=10)
        self.move(due[-1]["id"], "PAID", paidAmount=10)
        for _ in range(60):
            self.poll_togai(max_pages=1)
            if self.mirrored(due[0]["id"]) == "PAID" and self.mirrored(due[-1]["id"]) == "PAID":
                break
        self.assertEqual((self.mirrored(due[0]["id"]), self.mirrored(due[-1]["id"])), ("PAID", "PAID"))
        # the cut walk went on from its token: no page of the DUE list read twice in that walk
        pages = [json.dumps(r.get("query"), sort_keys=True) for r in self.togai.requests()
                 if r["path"] == "/invoices" and r.get("query", {}).get("status") == "DUE"]
        self.assertGreaterEqual(len(pages), 3, pages)
        self.assertTrue(self.idle())

    def test_a_429_from_togai_pauses_that_connection_alone(self):
        other = self.mock("togai", "--token", "togai.token.other")
        remember_secret("togai.token.other")
        value("SELECT togai_zoho.add_togai_connection('togai other', 'togai.token.other', %s)"
              % literal(other.url))
        self.addCleanup(sql, "SELECT togai_zoho.drop_connection('togai other', force => true)")
        self.togai.faults({"kind": "429", "retry_after": 30, "count": 1, "match": {"path_prefix": "/"}})
        first = self.poll_togai()
        self.assertIn("error", first)
        self.assertIn("rate limit", first["error"])
        usage = dict((r[0], r[1:]) for r in sql(
            "SELECT connection, refused_today, paused_until > now() + interval '20 s' "
            "FROM togai_zoho.api_usage WHERE app = 'togai'"))
        self.assertEqual(usage["togai"], ("1", "t"), usage)
        self.assertEqual(usage["togai other"], ("0", None), usage)
        # the paused connection makes no call; the other polls as ever
        self.togai.clear_requests()
        again = self.poll_togai()
        self.assertEqual(again.get("skipped"), "Togai refused the connection for rate (HTTP 429)", again)
        self.assertEqual(self.togai.requests(), [])
        theirs = self.json("SELECT togai_zoho.poll_togai('togai other')")
        self.assertNotIn("error", theirs)
        self.assertGreater(theirs["pages"], 0)
        # set_api_budget lifts the pause
        sql("SELECT * FROM togai_zoho.set_api_budget('togai')")
        self.assertNotIn("skipped", self.poll_togai())

    def test_a_togai_budget_holds_its_polls(self):
        self.settle()
        sql("SELECT * FROM togai_zoho.set_api_budget('togai', per_day => 1)")
        self.addCleanup(sql, "SELECT * FROM togai_zoho.set_api_budget('togai', per_day => 0)")
        out = self.poll_togai()
        self.assertIn("budget", out.get("skipped", ""), out)
        self.assertEqual(value("SELECT per_day FROM togai_zoho.api_usage WHERE connection = 'togai'"), "1")

    def test_with_webhooks_set_up_polls_only_sweep_and_an_event_syncs_at_once(self):
        (aid,) = self.seed_accounts(1)
        cid = aid.replace(".acc.", ".cus.")
        self.settle()
        sql("SELECT togai_zoho.set_togai_webhook('togai', 'https://hooks.example.com/togai/togai')")
        self.addCleanup(sql, "SELECT togai_zoho.set_togai_webhook('togai', NULL)")
        self.togai.clear_requests()
        out = self.poll_togai()
        self.assertEqual(out.get("skipped"), "no list is due", out)
        self.assertEqual(self.togai.requests(), [])
        # the event is a hint: the invoice is read from Togai (its total, not the body's)
        inv = invoice(self.prefix + ".inv.hook", aid, cid, self.prefix + "-HOOK", [line("Seats", quantity=3, rate=5)])
        self.togai.seed({"invoices": [inv]})
        hint = {"id": inv["id"], "ownerId": aid, "status": "DUE", "totalAmount": 999}
        started = time.time()
        self.assertEqual(value("SELECT togai_zoho.receive_webhook('togai', %s)"
                               % literal(json.dumps({"eventType": "INVOICE_GENERATED", "data": hint}))), "1")
        self.assertTrue(wait_until(lambda: self.prefix + "-HOOK" in self.zoho_invoices(), timeout=60))
        self.assertLess(time.time() - started, 60)
        self.assertEqual(self.zoho_invoices()[self.prefix + "-HOOK"]["total"], 15.0)
        # sweep_now makes the next poll read every list in full
        sql("SELECT togai_zoho.sweep_now('togai')")
        out = self.poll_togai()
        self.assertIn("invoices", out["lists"], out)
        self.assertTrue(self.idle())

    def test_bad_settings_are_refused(self):
        for setting, text in (("'DUE,NOPE'", '"NOPE" is not a Togai invoice status'),
                              ("'DUE,DUE'", '"DUE" is named twice')):
            err = self.error("SET togai_zoho.togai_open_statuses = %s" % setting)
            self.assertSQLState(err, "22023", "invalid value for parameter")
            self.assertIn(text, err.detail or "")
        self.assertSQLState(self.error("SELECT togai_zoho.set_togai_webhook('zoho', NULL)"), "42809",
                            "not a togai connection")
        self.assertSQLState(self.error("SELECT togai_zoho.set_togai_webhook('togai', 'ftp://x')"), "22023")
        self.assertSQLState(self.error("SELECT togai_zoho.sweep_now('nope')"), "42704",
                            'connection "nope" does not exist')
