"""Zoho Books' call budget: calls per new account, per generated invoice and per payment made in
Zoho Books, each beside the least the API allows, for a drain through the ready flows; and what
polling costs on a quiet day with a Standard plan, projected from the spacing the polls keep."""

import json
import os
import re
import sys

from common import Figure, WorkerEnv, literal, pick, set_worker_settings, sql, value, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "flows"))
from flows_case import account, customer, invoice, line  # noqa: E402

BULK = 100          # invoices in one POST /invoices/status/sent (mark_sent.h)
PAGE = 200          # entries of a Zoho Books list page


def zoho_calls(env):
    """Our API calls at Zoho Books since the log was cleared (not OAuth, not the bench's own)."""
    return [r for r in env.zoho.requests("/books/v3/")]


def figure(name, calls, n, least, note):
    per = len(calls) / float(n)
    kinds = {}
    for r in calls:
        key = "%s %s" % (r["method"], re.sub(r"/\d{6,}", "/{id}", r["path"][len("/books/v3"):]))
        kinds[key] = kinds.get(key, 0) + 1
    return Figure("calls per object", "%s: Zoho Books calls per object (least %.3f)" % (name, least),
                  per / least, "x least", "<= 1.10", per / least <= 1.10,
                  "%.3f calls each, %d for %d (%s); %s" % (
                      per, len(calls), n, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), note))


def per_object(env):
    n = pick(5, 1000)
    sql("SELECT togai_zoho.set_flow_enabled('bench accounts', false)")
    sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")
    set_worker_settings({"togai_zoho.poll_idle_max": "0"})   # every poll reads
    figures = []
    prefix = "cpo"
    customers = [customer("%s.cus.%d" % (prefix, i), "Customer %d" % i) for i in range(n)]
    accounts = [account("%s.acc.%d" % (prefix, i), "%s.cus.%d" % (prefix, i), "Account %d" % i)
                for i in range(n)]
    env.togai.seed({"customers": customers, "accounts": accounts})
    env.zoho.clear_requests()
    sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
    env.drain()
    calls = zoho_calls(env)
    figures.append(figure("new account", calls, n, 1.0,
                          "least: the create; the currency look-up is once per organization"))

    # one generated invoice per account, each with one line (one rate card for all)
    env.togai.seed({"invoices": [
        invoice("%s.inv.%d" % (prefix, i), "%s.acc.%d" % (prefix, i), "%s.cus.%d" % (prefix, i),
                "%s-%d" % (prefix, i), [line("Seats", quantity=1, rate=10)]) for i in range(n)]})
    env.zoho.clear_requests()
    sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
    env.drain()
    wait_until(lambda: value("SELECT count(*) FROM togai_zoho.zohobooks_unsent") == "0", timeout=120)
    calls = zoho_calls(env)
    figures.append(figure("generated invoice", calls, n, 1.0 + 1.0 / BULK,
                          "least: the create and a 1/%d share of the bulk mark-sent; the item "
                          "is found or made once per rate card" % BULK))

    # a payment made in Zoho Books on each invoice, found by the polls and recorded in Togai
    ids = [r[0] for r in sql("SELECT zohobooks_id FROM togai_zoho.id_mapping WHERE entity = 'invoice' "
                             "AND togai_id LIKE 'cpo.inv.%'")]
    state = {i["invoice_id"]: i for i in env.zoho.state()["invoices"]}
    for zid in ids:
        inv = state[zid]
        pay_body = {"customer_id": inv["customer_id"], "payment_mode": "banktransfer",
                    "amount": inv["balance"], "date": "2026-11-30",
                    "invoices": [{"invoice_id": zid, "amount_applied": inv["balance"]}]}
        sql("SELECT togai_zoho.zohobooks_call('zoho', 'payment_create', %s)"
            % literal_json({"payment": pay_body}))
    env.zoho.clear_requests()
    sql("DELETE FROM togai_zoho.sync_cursor WHERE stream = 'invoices'")
    for _ in range(pick(3, 20)):
        sql("SELECT togai_zoho.poll_zohobooks('zoho', 1000)", timeout=600)
        if int(value("SELECT count(*) FROM togai_zoho.inbox WHERE entity = 'payment'")) >= n:
            break
    env.drain()
    calls = zoho_calls(env)
    taken = int(value("SELECT count(*) FROM togai_zoho.inbox WHERE entity = 'payment'"))
    figures.append(figure("payment made in Zoho Books", calls, max(taken, 1), 1.0 + 1.0 / PAGE,
                          "least: its invoice's list of payments and a 1/%d share of the page of "
                          "changed invoices; %d of %d found" % (PAGE, taken, n)))
    return figures


def literal_json(obj):
    return literal(json.dumps(obj))


def quiet_day(env):
    """Twenty polls in a row with a Standard plan, then the day's polling projected from the
    spacing they keep (a real day is not waited for)."""
    set_worker_settings({"togai_zoho.poll_idle_max": "10min"})
    sql("SELECT * FROM togai_zoho.set_api_budget('zoho', plan => 'standard')")
    # a tenth (200 calls) still ahead for the polls, and room for the day's other calls
    used, polls = (int(v) for v in sql("SELECT calls_today, poll_calls FROM togai_zoho.api_usage "
                                       "WHERE connection = 'zoho'")[0])
    sql("SELECT * FROM togai_zoho.set_api_budget('zoho', per_day => %d)"
        % max(10 * (polls + 200), used + 2000))
    for _ in range(5):      # until a poll finds nothing new
        if '"changed": 0' in value("SELECT togai_zoho.poll_zohobooks('zoho')::text"):
            break
    env.zoho.clear_requests()
    for _ in range(20):
        sql("SELECT togai_zoho.poll_zohobooks('zoho')")
    twenty = len(zoho_calls(env))
    spacing = float(value("SELECT extract(epoch FROM min(next_poll_at) - now()) FROM togai_zoho.poll_status "
                          "WHERE connection = 'zoho'"))
    streams = int(value("SELECT count(*) FROM togai_zoho.poll_status WHERE connection = 'zoho' "
                        "AND next_poll_at IS NOT NULL"))
    spent, budget, day_left = (float(v) for v in sql(
        "SELECT poll_calls, per_day, extract(epoch FROM day_resets_at - now()) "
        "FROM togai_zoho.api_usage WHERE connection = 'zoho'")[0])
    # the polls spent so far today, and the rest of the day at the spacing they keep now (that
    # spacing was set before the last poll's own call, which "spent" counts already)
    share = (spent + day_left / max(spacing, 60.0) * streams - streams) / budget
    return [
        Figure("quiet day", "twenty polls in a row: Zoho Books calls", twenty, "calls", "<= 3",
               twenty <= 3, "the ready flows need one list (invoices)"),
        Figure("quiet day", "polling calls by the day's end, share of the day's budget",
               share, "of the budget", "<= 0.10", share <= 0.1005,
               "%d spent today, then %d list(s) polled every %.0f s for %.0f s (projected)"
               % (spent, streams, max(spacing, 60.0), day_left)),
        Figure("quiet day", "longest wait for a payment made in Zoho Books to be polled",
               max(spacing, 60.0) / 60.0, "minutes", "<= 15", max(spacing, 60.0) <= 900,
               "the polls' spacing now; delivery to Togai follows within seconds"),
    ]


def run():
    env = WorkerEnv()
    try:
        return per_object(env) + quiet_day(env)
    finally:
        set_worker_settings({"togai_zoho.poll_idle_max": None})
        env.close()
