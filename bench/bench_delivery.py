"""Delivery by the background worker against the Zoho Books mock, one API request per job:
throughput against the bound max_concurrency / latency, throughput with no added latency beside
the mock's own speed (wrk), commit-to-request latency, rate-limit efficiency, claim cost against
a backlog of jobs not yet due, worker memory, and coalescing."""

import os
import random
import time

from common import (RESULTS, Figure, WorkerEnv, mock_alone, percentile, pick, sql, value,
                    wait_until)


def deliver(env, n, prefix):
    """Jobs per second for n accounts delivered by the worker, timed from the commit that
    enqueues them (read in the inserting session, not the start of its psql process) to the
    last one done."""
    env.zoho.clear_requests()  # the mock's log of every request would only grow
    committed = env.accounts(n, prefix)
    env.drain()
    return n / (time.time() - committed)


CONTACTS = "/books/v3/contacts?organization_id=600001"


def contact_body(run):
    """A contact create like the worker's, numbered by wrk's %d; run keeps names unique."""
    name = "wrk %s %%d" % run
    return ('{"contact_name": "%s", "company_name": "%s Inc", "contact_type": "customer", '
            '"notes": "Togai account %s", "custom_fields": [{"index": 1, '
            '"value": "%s"}]}' % (name, name, name, name))


def throughput(env):
    figures = []
    latency = 50
    env.zoho.config(latency_ms=latency)
    curve = []
    for c in pick((16,), (1, 4, 16, 32, 64)):
        env.worker(max_concurrency=c)
        # the engine's bound, not the account's: Zoho Books' default cap of calls in flight
        # (10) would bound every C above it at 10 / L
        value("SELECT togai_zoho.set_api_budget('zoho', concurrent => %d)" % c)
        bound = c * 1000.0 / latency
        rate = deliver(env, int(pick(1, 6) * bound), "tp%d" % c)
        curve.append((c, bound, rate))
        if c in (16, 64):
            figures.append(Figure("throughput", "L = %d ms, C = %d: jobs/s over the bound C/L = %.0f"
                                  % (latency, c, bound), rate / bound, "", ">= 0.85", rate / bound >= 0.85,
                                  "%.0f jobs/s" % rate))
            figures += where_the_time_goes(env, "L = %d ms, C = %d" % (latency, c))
            figures += beside_the_mock(env, rate, "L = %d ms, C = %d" % (latency, c), c)
    plot_throughput(curve, latency)
    env.zoho.config(latency_ms=0)
    env.worker(max_concurrency=64)
    value("SELECT togai_zoho.set_api_budget('zoho', concurrent => 64)")
    rate = deliver(env, pick(500, 20000), "tp0")
    figures.append(Figure("throughput", "no added latency, C = 64: jobs/s", rate, "jobs/s", ">= 1000",
                          rate >= 1000))
    figures += beside_the_mock(env, rate, "no added latency, C = 64", 64)
    return figures


def where_the_time_goes(env, label):
    """One request's turn on a connection, from the mock's log: the mock's time from receipt to
    answer (the added latency and its own work), and the worker's from that answer to its next
    request on the same connection (taking the answer, writing outcomes, claiming)."""
    by_port = {}
    for r in env.zoho.requests("/books/v3/contacts"):
        if r["method"] == "POST" and r.get("answered"):
            by_port.setdefault(r["client_port"], []).append(r)
    answer, turn = [], []
    for rs in by_port.values():
        rs.sort(key=lambda r: r["time"])
        answer += [r["answered"] - r["time"] for r in rs]
        turn += [b["time"] - a["answered"] for a, b in zip(rs, rs[1:])]
    if not turn:
        return []
    ms = lambda xs: 1000.0 * sum(xs) / len(xs)  # noqa: E731
    return [Figure("throughput", "%s: the mock's time per request, mean" % label, ms(answer), "ms"),
            Figure("throughput", "%s: answer to the next request on its connection, mean" % label, ms(turn),
                   "ms", None, None, "p50 %.1f ms, p90 %.1f ms" % (1000 * percentile(turn, 50),
                                                                 1000 * percentile(turn, 90)))]


def beside_the_mock(env, rate, label, connections):
    """The mock alone at the same latency and concurrency (wrk, contact creates like the
    worker's), and delivery as a share of it."""
    alone = mock_alone(env.zoho, CONTACTS, pick(1, 5), connections,
                       contact_body(label.replace(" ", "").replace(",", "_").replace("=", "")))
    if not alone:
        return []
    return [Figure("throughput", "%s: the mock alone (wrk, %d connections)" % (label, connections), alone,
                   "req/s"),
            Figure("throughput", "%s: delivery / the mock alone" % label, rate / alone, "", None, None,
                   "the mock's Python server is the ceiling" if rate / alone > 0.9 else "")]


def plot_throughput(curve, latency):
    os.makedirs(RESULTS, exist_ok=True)
    data = os.path.join(RESULTS, "throughput.dat")
    with open(data, "w") as f:
        for c, bound, rate in curve:
            f.write("%d %.1f %.1f\n" % (c, bound, rate))
    if len(curve) < 2 or not os.path.exists("/usr/bin/gnuplot"):
        return
    script = ("set terminal png size 720,480; set output '%s';"
              "set title 'Delivery throughput, %d ms per request'; set xlabel 'max_concurrency';"
              "set ylabel 'jobs/s'; set key left top; set logscale xy 2;"
              "plot '%s' using 1:2 with linespoints title 'bound C/L',"
              " '%s' using 1:3 with linespoints title 'measured'"
              % (os.path.join(RESULTS, "throughput.png"), latency, data, data))
    os.system("gnuplot -e \"%s\"" % script)


def commit_latency(env):
    """From the COMMIT of a customer insert to the mock's receipt of its request."""
    env.worker(max_concurrency=16)
    env.zoho.clear_requests()
    samples = []
    rng = random.Random(7)
    for i in range(pick(20, 300)):
        committed = float(value("INSERT INTO togai_zoho.customers (account_id, customer_id, name) "
                                "VALUES ('lat.%d', 'cus.lat', 'Latency %d'); "
                                "SELECT extract(epoch FROM clock_timestamp())" % (i, i)))
        # nothing runs beside the worker while the request is on its way: every poll of the
        # database is a process and a query on this 2-core machine
        time.sleep(0.1)
        wait_until(lambda: env.pending() == 0, timeout=10, interval=0.02)
        got = [r for r in env.zoho.requests("/books/v3/contacts")
               if r["method"] == "POST" and "Latency %d\"" % i in r["body"]]
        if got:
            samples.append((got[0]["time"] - committed) * 1000.0)
        time.sleep(rng.uniform(0.01, 0.05))
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    return [Figure("latency", "commit to request, p50 (%d samples)" % len(samples), p50, "ms", "<= 20",
                   p50 <= 20),
            Figure("latency", "commit to request, p99", p99, "ms", "<= 100", p99 <= 100)]


def rate_limit(env):
    """The mock allows N requests a minute; the worker is told the same limit."""
    n = pick(600, 3000)
    seconds = pick(5, 70)
    sql("SELECT togai_zoho.set_rate_limit('zoho', %d)" % n)
    env.zoho.config(rate_limit_per_minute=n, latency_ms=0)
    env.worker(max_concurrency=16)
    env.zoho.call("POST", "stats/reset")
    start = time.monotonic()
    env.accounts(int(n * seconds / 60.0 * 1.5), "rl")
    time.sleep(seconds)
    took = time.monotonic() - start
    stats = env.zoho.stats()
    sent = stats["requests"]
    limited = stats["rate_limited"]
    env.zoho.config(rate_limit_per_minute=None)
    sql("SELECT togai_zoho.set_rate_limit('zoho', 1000000)")
    env.drain()
    achieved = sent / took * 60.0
    return [Figure("rate limit", "achieved rate / N = %d a minute (over %.0f s)" % (n, took), achieved / n, "",
                   ">= 0.95", achieved / n >= 0.95),
            Figure("rate limit", "429 answers", limited, "", "0", limited == 0)]


def claim_cost(env):
    """Time per delivered job with 1,000 and with many not-yet-due jobs beside the due ones; the
    small backlog is timed before and after the big one, so that drift over the run (the mock's
    growing state, the server's) does not count as claim cost."""
    env.zoho.config(latency_ms=0)
    env.worker(max_concurrency=32)
    flow = value("SELECT id FROM togai_zoho.flow WHERE name = 'bench accounts'")
    conn = value("SELECT id FROM togai_zoho.connection WHERE name = 'togai'")
    per_job = {}
    jobs = pick(300, 5000)
    small, big = 1000, pick(20000, 1000000)
    for backlog in (small, big, small):
        env.zoho.clear_requests()
        sql("DELETE FROM togai_zoho.outbox")
        sql("INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, due_at) "
            "SELECT %s, %s, 'account', 'later.' || g, jsonb_build_object('account_id', 'later.' || g, "
            "'customer_id', 'cus', 'name', 'Later ' || g), now() + interval '1 day' "
            "FROM generate_series(1, %d) g" % (flow, conn, backlog))
        # and no checkpoint writes the backlog out while the due jobs are timed
        sql("VACUUM ANALYZE togai_zoho.outbox")
        sql("CHECKPOINT")
        start = time.monotonic()
        env.accounts(jobs, "cc%d.%d" % (backlog, len(per_job.get(backlog, []))))
        # counted through the due and lease indexes (a scan of the backlog would load the
        # server), and the staged chunk the insert wrote
        ok = wait_until(lambda: int(value(
            "SELECT (SELECT count(*) FROM togai_zoho.outbox WHERE state = 'pending' "
            "AND due_at < now() + interval '1 hour') + (SELECT count(*) FROM togai_zoho.outbox "
            "WHERE state = 'running') + (SELECT coalesce(sum(jobs), 0) FROM togai_zoho.outbox_stage)"))
            == 0, timeout=600, interval=0.05)
        if not ok:
            raise RuntimeError("the due jobs were not delivered")
        per_job.setdefault(backlog, []).append((time.monotonic() - start) / jobs)
    sql("DELETE FROM togai_zoho.outbox")
    per_job = {k: sum(v) / len(v) for k, v in per_job.items()}
    ratio = per_job[big] / per_job[small]
    return [Figure("claim cost", "time per job with %d / with %d jobs not yet due" % (big, small), ratio, "x",
                   "<= 1.2", ratio <= 1.2, "%.2f ms vs %.2f ms" % (per_job[big] * 1000, per_job[small] * 1000))]


def rss(pid):
    fields = {}
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) / 1024.0, int(fields.get("RssAnon", "0 kB").split()[0]) / 1024.0


def memory(env):
    env.zoho.config(latency_ms=0)
    env.worker(max_concurrency=64)
    pid = env.worker_pid()
    first, then = pick(200, 1000), pick(2000, 100000)

    def deliver_in_chunks(n, prefix):
        for k in range(0, n, 20000):
            env.accounts(min(20000, n - k), "%s.%d" % (prefix, k))
            env.drain()

    deliver_in_chunks(first, "m1")
    at_first = rss(pid)
    deliver_in_chunks(then - first, "m2")
    at_then = rss(pid)
    if env.worker_pid() != pid:
        raise RuntimeError("the worker restarted during the memory run")
    grew = at_then[1] - at_first[1]
    return [Figure("memory", "worker RSS after %d / %d jobs" % (first, then), "%.1f / %.1f" % (at_first[0], at_then[0]),
                   "MB", None, None, "includes shared buffers it touched"),
            Figure("memory", "worker private (anonymous) memory growth, %d -> %d jobs" % (first, then), grew,
                   "MB", "<= 5", grew <= 5, "%.1f -> %.1f MB" % (at_first[1], at_then[1]))]


def coalescing(env):
    """10 changes to each of 1,000 accounts while the worker is paused cost one request each."""
    n = pick(100, 1000)
    env.worker(worker="off")
    env.zoho.clear_requests()
    env.accounts(n, "co")
    for k in range(9):
        sql("UPDATE togai_zoho.customers SET name = 'Account co.' || substr(account_id, 4) || ' v%d' "
            "WHERE account_id LIKE 'co.%%'" % (k + 2))
    env.worker(worker="on")
    env.drain()
    calls = len([r for r in env.zoho.requests("/books/v3/contacts") if r["method"] in ("POST", "PUT")])
    return [Figure("coalescing", "API calls for 10 changes to each of %d accounts" % n, calls, "", str(n),
                   calls == n)]


def session_overhead(env):
    """What a process_outbox() call costs with nothing due: its helper process is started,
    checks which copy delivers, claims nothing and stops (pg_cron may call it every minute)."""
    n = pick(10, 50)

    def loop(k):
        started = time.time()
        sql("DO $$ BEGIN FOR i IN 1..%d LOOP PERFORM togai_zoho.process_outbox(10); END LOOP; END $$" % k)
        return time.time() - started
    per_call = (loop(n) - loop(0)) / n * 1000
    return [Figure("sessions", "process_outbox() with nothing due: ms a call (%d calls, a helper each)" % n,
                   per_call, "ms")]


def run():
    env = WorkerEnv()
    try:
        figures = []
        for bench in (throughput, commit_latency, rate_limit, claim_cost, memory, coalescing,
                      session_overhead):
            figures += bench(env)
        return figures
    finally:
        env.close()
