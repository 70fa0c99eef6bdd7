"""Shared by the benchmarks: the extension in the worker's database with both mocks, worker
settings, the mock's own speed measured with wrk, and a figure type.

Every figure is a ratio measured in one run (absolute times vary between machines); the
benchmarks print them and never assert on them."""

import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test"))

from harness import (FAST, Mock, add_zoho, drop_extension, literal, set_worker_settings, sql,  # noqa: E402
                     value, wait_until, zoho_seed)

SMOKE = os.environ.get("TZ_BENCH_SMOKE") == "1"
RESULTS = os.path.join(HERE, "results")


class Figure:
    """One measured figure, its target, and whether the target is met (None: no target)."""

    def __init__(self, bench, name, value, unit="", target=None, met=None, note=""):
        self.bench, self.name, self.value, self.unit = bench, name, value, unit
        self.target, self.met, self.note = target, met, note

    def row(self):
        v = ("%.3g" % self.value) if isinstance(self.value, float) else str(self.value)
        verdict = "" if self.met is None else ("met" if self.met else "MISSED")
        return [self.bench, self.name, (v + " " + self.unit).strip(), self.target or "", verdict, self.note]


def pick(smoke, full):
    return smoke if SMOKE else full


class WorkerEnv:
    """The extension in the worker's database (postgres), a Zoho Books mock with connection
    'zoho', a Togai mock with connection 'togai', and one outbound flow 'bench accounts' whose
    only action creates the Zoho Books contact: one API request per job."""

    TOKEN = "tok_bench_togai"

    def __init__(self, **worker_settings):
        drop_extension()
        sql("CREATE EXTENSION togai_zoho")
        self.settings = dict(FAST, **{"togai_zoho." + k: str(v) for k, v in worker_settings.items()})
        set_worker_settings(self.settings)
        self.zoho = Mock("zohobooks")
        self.zoho.seed(zoho_seed())
        add_zoho(self, self.zoho)
        self.togai = Mock("togai", "--token", self.TOKEN)
        value("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(self.TOKEN),
                                                                           literal(self.togai.url)))
        sql("SELECT togai_zoho.set_rate_limit('zoho', 1000000); "
            "SELECT togai_zoho.create_flow('bench accounts', 'outbound', 'togai', 'account_changed'); "
            "SELECT togai_zoho.add_flow_action('bench accounts', 'zoho', 'contact_upsert'); "
            "SELECT togai_zoho.set_flow_enabled('bench accounts')")

    db = "postgres"

    def worker(self, **settings):
        s = {"togai_zoho." + k: str(v) for k, v in settings.items()}
        self.settings.update(s)
        set_worker_settings(s)

    def accounts(self, n, prefix="acc"):
        """n new accounts in one statement; the wall-clock time of its commit."""
        return float(value("INSERT INTO togai_zoho.customers (account_id, customer_id, name) "
                           "SELECT %s || g, 'cus.' || g, 'Account ' || %s || g FROM generate_series(1, %d) g; "
                           "SELECT extract(epoch FROM clock_timestamp())"
                           % (literal(prefix + "."), literal(prefix + "."), n)))

    def pending(self):
        # through the partial indexes of pending and running jobs: polled every few ms, a scan of
        # the done jobs would load the machine the worker runs on; and the jobs a bulk insert
        # staged for the worker to write
        return int(value("SELECT (SELECT count(*) FROM togai_zoho.outbox WHERE state = 'pending') + "
                         "(SELECT count(*) FROM togai_zoho.outbox WHERE state = 'running') + "
                         "(SELECT coalesce(sum(jobs), 0) FROM togai_zoho.outbox_stage)"))

    def drain(self, timeout=600):
        ok = wait_until(lambda: self.pending() == 0, timeout=timeout, interval=0.05)
        if not ok:
            raise RuntimeError("the outbox did not drain: %s" % sql(
                "SELECT state, count(*), max(last_error) FROM togai_zoho.outbox GROUP BY 1"))

    def worker_pid(self):
        return value("SELECT pid FROM pg_stat_activity WHERE backend_type = 'togai_zoho worker'")

    def close(self):
        for m in (self.zoho, self.togai):
            m.stop()
        set_worker_settings({k: None for k in self.settings})
        drop_extension()


def mock_alone(mock, path, seconds, connections, body):
    """POSTs per second the mock answers on its own (wrk, one thread), every %d in body numbering
    them; None without wrk."""
    if not shutil.which("wrk"):
        return None
    script = os.path.join(RESULTS, "wrk_post.lua")
    os.makedirs(RESULTS, exist_ok=True)
    with open(script, "w") as f:
        f.write("counter = 0\n"
                "request = function()\n"
                "  counter = counter + 1\n"
                "  local body = (string.gsub(%s, \"%%%%d\", tostring(counter)))\n"
                "  return wrk.format(\"POST\", nil, nil, body)\n"
                "end\n" % lua_string(body))
    token = value("SELECT access_token FROM togai_zoho.connection_secret s JOIN togai_zoho.connection c "
                  "ON c.id = s.connection_id WHERE c.name = 'zoho'")
    mock.call("POST", "stats/reset")
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", "%ds" % seconds, "-s", script,
                          "-H", "Authorization: Zoho-oauthtoken " + token,
                          "-H", "Content-Type: application/json", mock.url + path],
                         capture_output=True, text=True, check=True).stdout
    stats = mock.stats()["by_status"]
    if set(stats) - {"200", "201", "None"}:
        raise RuntimeError("the mock refused wrk's requests: %s" % stats)
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError("wrk printed no rate: " + out)


def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


__all__ = ["Figure", "SMOKE", "RESULTS", "WorkerEnv", "mock_alone", "pick", "timed", "median", "percentile",
           "sql", "value", "literal", "wait_until", "set_worker_settings", "Mock"]
