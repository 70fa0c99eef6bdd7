"""The webhook receiver (src/receiver): events per second it hands in (signed Zoho Books contact
events already in the inbox, so each is one receive_webhook statement, read from the API once),
and beside it the rate at which it refuses a flood of wrongly signed calls, which cost no
database work. Several client threads over keep-alive connections."""

import hashlib
import hmac
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time

from common import Figure, WorkerEnv, literal, pick, sql, value

RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "receiver",
                        "togai_zoho_receiver")
ROLE, PASSWORD, SECRET = "tz_bench_receiver", "bench.rcv.pw", "benchWebhookSecret7"


def hammer(port, requests, threads):
    """Sends the (path, body, headers) requests from threads keep-alive connections; returns
    (seconds, statuses)."""
    statuses = []
    lock = threading.Lock()
    chunks = [requests[i::threads] for i in range(threads)]

    def run(chunk):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for path, body, headers in chunk:
            c.request("POST", path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            mine.append(r.status)
        c.close()
        with lock:
            statuses.extend(mine)

    ts = [threading.Thread(target=run, args=(ch,)) for ch in chunks]
    start = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.time() - start, statuses


def run():
    env = WorkerEnv()
    tmp = tempfile.TemporaryDirectory()
    proc = None
    try:
        sql("DROP ROLE IF EXISTS %s" % ROLE)
        sql("CREATE ROLE %s LOGIN PASSWORD %s; GRANT USAGE ON SCHEMA togai_zoho TO %s; "
            "GRANT EXECUTE ON FUNCTION togai_zoho.receive_webhook(text, jsonb) TO %s"
            % (ROLE, literal(PASSWORD), ROLE, ROLE))
        secrets = os.path.join(tmp.name, "secrets")
        with open(os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("zohobooks zoho %s\n" % SECRET)
        dsn = "host=%s port=%s dbname=postgres user=%s password=%s" % (
            os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432"), ROLE, PASSWORD)
        threads = 4
        proc = subprocess.Popen([RECEIVER, "--listen", "127.0.0.1:0", "--secrets", secrets, "--dsn", dsn,
                                 "--threads", str(threads)], stdout=subprocess.PIPE, text=True)
        port = int(proc.stdout.readline().split()[1])

        # contacts already in the inbox: an event for one is a repeat, no flow fires
        n = pick(50, 5000)
        ids = [json.loads(value("SELECT togai_zoho.zohobooks_call('zoho', 'contact_create', %s)" % literal(
            json.dumps({"contact": {"contact_name": "Hook bench %d" % i, "contact_type": "customer"}}))))
            ["contact_id"] for i in range(pick(5, 50))]
        good = []
        for i in range(n):
            body = json.dumps({"contact": {"contact_id": ids[i % len(ids)]}})
            sig = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
            good.append(("/zohobooks/zoho", body, {"Content-Type": "application/json",
                                                   "X-Zoho-Webhook-Signature": sig}))
        hammer(port, good[:len(ids)], 1)     # each contact read once into the inbox
        seconds, statuses = hammer(port, good, threads)
        ok = statuses.count(200)
        bad = [(path, body, {"Content-Type": "application/json", "X-Zoho-Webhook-Signature": "00" * 32})
               for path, body, _ in good]
        xacts = int(value("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"))
        bad_seconds, bad_statuses = hammer(port, bad, threads)
        refused = bad_statuses.count(401)
        return [
            Figure("webhooks", "signed events handed in and committed, per second", ok / seconds,
                   "events/s", None, None, "%d of %d answered 200, %d client threads, one statement each"
                   % (ok, n, threads)),
            Figure("webhooks", "wrongly signed calls refused, per second", refused / bad_seconds,
                   "calls/s", None, None, "%d of %d refused (401) with no database work; %d database "
                   "transactions meanwhile (the bench's own and the worker's)"
                   % (refused, n, int(value("SELECT xact_commit FROM pg_stat_database "
                                            "WHERE datname = 'postgres'")) - xacts)),
        ]
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close()
        tmp.cleanup()
        sql("DROP OWNED BY %s" % ROLE)
        env.close()
        sql("DROP ROLE IF EXISTS %s" % ROLE)
