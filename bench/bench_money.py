"""The money life cycle's call budget: Zoho Books calls per payment collected in Togai (on one
invoice, and on several), per write-off, per refund, per invoice using credits bought, and what a later Zoho Books poll spends on the payments
the extension made; Togai calls a quiet poll adds for the payments flow."""

import json
import os
import re
import sys
import urllib.request

from common import Figure, WorkerEnv, pick, set_worker_settings, sql, value, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "flows"))
from flows_case import account, customer, invoice, line  # noqa: E402

PAYMENTS_FLOW = "Record Togai payments in ZohoBooks"


def calls_of(mock, prefix):
    reqs = mock.requests(prefix)
    kinds = {}
    for r in reqs:
        key = "%s %s" % (r["method"], re.sub(r"/(\d{6,}|pay\.\d+|[a-z]+\.inv\.\d+)", "/{id}", r["path"]))
        kinds[key] = kinds.get(key, 0) + 1
    return reqs, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))


def figure(bench, name, reqs, kinds, n, least, note):
    per = len(reqs) / float(max(n, 1))
    return Figure(bench, "%s (least %.2f)" % (name, least), per, "calls each", "<= %.2f" % (least * 1.1),
                  per <= least * 1.1 + 1e-9, "%d calls for %d (%s); %s" % (len(reqs), n, kinds, note))


def collect(env, aid, amounts, n, kind="INVOICE"):
    """A payment collected in Togai (as its gateway records one): of invoices, or of credits bought."""
    body = json.dumps({
        "accountId": aid, "currency": "USD", "totalAmount": float(sum(amounts.values())),
        "externalPaymentReference": {"sourceName": "Stripe", "sourceType": "GATEWAY",
                                     "transactionNumber": "ch_%s_%d" % (aid, n)},
        "lineItemRecords": [{"togaiId": k, "amount": float(v), "type": kind, "order": i}
                            for i, (k, v) in enumerate(amounts.items(), 1)]}).encode()
    req = urllib.request.Request(env.togai.url + "/payments", data=body, method="POST", headers={
        "Authorization": "Bearer " + env.TOKEN, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def run():
    env = WorkerEnv()
    n = pick(3, 200)
    figures = []
    try:
        sql("SELECT togai_zoho.set_flow_enabled('bench accounts', false)")
        sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')")
        set_worker_settings({"togai_zoho.poll_idle_max": "0"})
        p = "money"
        env.togai.seed({
            "customers": [customer("%s.cus.%d" % (p, i), "Customer %d" % i) for i in range(n)],
            "accounts": [account("%s.acc.%d" % (p, i), "%s.cus.%d" % (p, i), "Account %d" % i)
                         for i in range(n)],
            "invoices": [invoice("%s.inv.%d" % (p, 3 * i + k), "%s.acc.%d" % (p, i), "%s.cus.%d" % (p, i),
                                 "%s-%d" % (p, 3 * i + k), [line("Seats", quantity=2, rate=50)])
                         for i in range(n) for k in range(3)]})
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
        env.drain()
        wait_until(lambda: value("SELECT count(*) FROM togai_zoho.zohobooks_unsent") == "0", timeout=120)
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)   # the payments list's tail
        sql("SELECT togai_zoho.poll_zohobooks('zoho', 1000)", timeout=600)
        env.drain()

        # a quiet Togai poll with and without the payments flow
        env.togai.clear_requests()
        sql("SELECT togai_zoho.poll_togai('togai', 1000)")
        with_flow = len(env.togai.requests("/"))
        sql("SELECT togai_zoho.set_flow_enabled(%s, false)" % "'%s'" % PAYMENTS_FLOW)
        env.togai.clear_requests()
        sql("SELECT togai_zoho.poll_togai('togai', 1000)")
        without = len(env.togai.requests("/"))
        sql("SELECT togai_zoho.set_flow_enabled(%s, true)" % "'%s'" % PAYMENTS_FLOW)
        figures.append(Figure("money", "Togai calls a quiet poll adds for the payments flow",
                              with_flow - without, "calls", "<= 1", with_flow - without <= 1,
                              "%d with the flow, %d without" % (with_flow, without)))

        rounds = (("payment on one invoice", lambda i: {"%s.inv.%d" % (p, 3 * i): 100}),
                  ("payment on two invoices", lambda i: {"%s.inv.%d" % (p, 3 * i + 1): 40,
                                                         "%s.inv.%d" % (p, 3 * i + 2): 60}))
        for k, (name, amounts) in enumerate(rounds):
            for i in range(n):
                collect(env, "%s.acc.%d" % (p, i), amounts(i), k)
            env.zoho.clear_requests()
            sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
            env.drain()
            reqs, kinds = calls_of(env.zoho, "/books/v3/")
            made = int(value("SELECT count(*) FROM togai_zoho.id_mapping m JOIN togai_zoho.payments x "
                             "ON x.payment_id = m.togai_id WHERE m.entity = 'payment'"))
            figures.append(figure("money", "Zoho Books calls per Togai %s" % name, reqs, kinds, n, 1.0,
                                  "least: the create; %d payments in Zoho Books" % made))
            # what the next Zoho Books poll spends on them (the invoices' balances moved)
            env.zoho.clear_requests()
            env.togai.clear_requests()
            sql("SELECT togai_zoho.poll_zohobooks('zoho', 1000)", timeout=600)
            env.drain()
            reqs, kinds = calls_of(env.zoho, "/books/v3/")
            echoes = len([r for r in env.togai.requests("/payments") if r["method"] == "POST"])
            figures.append(Figure("money", "next Zoho Books poll, per Togai %s" % name,
                                  len(reqs) / float(n), "calls each", None, None,
                                  "%d calls (%s): an invoice whose paid amount Togai shows too is "
                                  "not read for its payments; %d recorded back in Togai"
                                  % (len(reqs), kinds, echoes)))

        # write-offs: the third invoice of each account was paid in part (60 of 100)
        for i in range(n):
            env.togai.call("POST", "invoice_status", {"id": "%s.inv.%d" % (p, 3 * i + 2),
                                                      "status": "UN_COLLECTIBLE"})
        env.zoho.clear_requests()
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
        env.drain()
        reqs, kinds = calls_of(env.zoho, "/books/v3/")
        figures.append(figure("money", "Zoho Books calls per write-off", reqs, kinds, n, 1.0,
                              "least: the write-off"))

        # refunds: the first invoice of each account was paid in full (100)
        for i in range(n):
            env.togai.call("POST", "invoice_status", {"id": "%s.inv.%d" % (p, 3 * i),
                                                      "status": "REFUND_COMPLETED"})
        env.zoho.clear_requests()
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
        env.drain()
        reqs, kinds = calls_of(env.zoho, "/books/v3/")
        figures.append(figure("money", "Zoho Books calls per refund of a paid invoice", reqs, kinds, n,
                              4.0, "least: the invoice read, the credit note search, the credit "
                              "note, its refund"))

        # credits bought, then an invoice that uses them: paid from the purchase's advance
        for i in range(n):
            collect(env, "%s.acc.%d" % (p, i), {"credits": 30}, 3, kind="CREDIT")
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
        env.drain()
        credits = {"id": "credits", "description": "Credits", "type": "TOTAL_CREDITS", "units": "USD",
                   "value": -30.0, "lineItems": []}
        env.togai.seed({"invoices": [
            invoice("%s.inv.c%d" % (p, i), "%s.acc.%d" % (p, i), "%s.cus.%d" % (p, i), "%s-c%d" % (p, i),
                    [line("Seats", quantity=2, rate=50), dict(credits, id="%s.cr.%d" % (p, i))])
            for i in range(n)]})
        env.zoho.clear_requests()
        sql("SELECT togai_zoho.poll_togai('togai', 1000)", timeout=600)
        env.drain()
        reqs, kinds = calls_of(env.zoho, "/books/v3/")
        paid = len([r for r in reqs if r["method"] == "POST" and r["path"].endswith("/credits")])
        figures.append(figure("money", "Zoho Books calls per invoice using credits bought", reqs, kinds, n,
                              5.0, "least: the invoice, its read, the credit note search, the "
                              "advance read, the advance applied (the bulk mark-sent shared); "
                              "%d paid from an advance, no credit note" % paid))
        return figures
    finally:
        set_worker_settings({"togai_zoho.poll_idle_max": None})
        env.close()
