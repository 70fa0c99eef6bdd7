"""Test harness for the integration suites: psql against the throwaway cluster, and the mocks.

The suites run inside `pg_virtualenv` (tools/run-integration-tests.sh), which exports
PGHOST/PGPORT/PGUSER/PGPASSWORD and PG_CLUSTER_CONF_ROOT. Standard library only.
"""

import atexit
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOCKS = os.path.join(ROOT, "test", "mock")
SEP = "\x1f"
NULL = "\x1e"

# Every secret a suite hands to the extension or gets from a mock: none may reach the log.
SECRETS = set()


def remember_secret(*values):
    for v in values:
        if v and len(v) >= 6:
            SECRETS.add(v)


def server_log_path():
    conf = os.environ.get("PG_CLUSTER_CONF_ROOT")
    if not conf:
        return None
    return os.path.join(os.path.dirname(conf), "log", "postgresql-15-regress.log")


class SQLError(Exception):
    def __init__(self, sqlstate, message, detail=None, hint=None):
        super().__init__("%s: %s" % (sqlstate, message))
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail
        self.hint = hint


def _psql(sql, db, timeout, settings):
    script = "\\set ON_ERROR_STOP 1\n\\set VERBOSITY verbose\n\\pset null '%s'\n" % NULL
    for k, v in (settings or {}).items():
        script += "SET %s = '%s';\n" % (k, v)
    script += sql.rstrip().rstrip(";") + ";\n"
    proc = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", SEP, "-d", db],
                          input=script, capture_output=True, text=True, timeout=timeout)
    return proc


def sql(query, db="postgres", timeout=60, settings=None):
    """Rows of the last statement, as tuples of str (None for NULL). Raises SQLError."""
    proc = _psql(query, db, timeout, settings)
    if proc.returncode != 0:
        raise parse_error(proc.stderr)
    rows = []
    # split on newlines only: str.splitlines() also splits on the NULL marker (\x1e)
    for line in proc.stdout.split("\n"):
        if line == "":
            continue
        rows.append(tuple(None if f == NULL else f for f in line.split(SEP)))
    return rows


def value(query, db="postgres", **kw):
    rows = sql(query, db, **kw)
    return rows[0][0] if rows else None


def json_value(query, db="postgres", **kw):
    v = value(query, db, **kw)
    return None if v is None else json.loads(v)


def parse_error(stderr):
    m = re.search(r"ERROR:\s+([0-9A-Z]{5}): (.*)", stderr)
    if not m:
        return SQLError("?????", stderr.strip())
    detail = re.search(r"^DETAIL:\s+(.*)$", stderr, re.M)
    hint = re.search(r"^HINT:\s+(.*)$", stderr, re.M)
    return SQLError(m.group(1), m.group(2), detail and detail.group(1), hint and hint.group(1))


def sql_error(query, db="postgres", **kw):
    """The error a statement raises; fails the test if it succeeds."""
    try:
        sql(query, db, **kw)
    except SQLError as e:
        return e
    raise AssertionError("statement succeeded but should have failed: %s" % query)


def literal(s):
    return "'" + str(s).replace("'", "''") + "'"


RUNNING_MOCKS = []
# Query parameters the extension sent to a Zoho Books mock though Zoho documents none such for
# that operation (test/mock/zohobooks-api.json): collected as each mock stops, checked last.
UNDOCUMENTED = []


@atexit.register
def _stop_all_mocks():
    for m in list(RUNNING_MOCKS):
        m.stop()


class Mock:
    """A mock app server in a subprocess (test/mock/<app>.py); stopped at exit at the latest."""

    def __init__(self, app, *args):
        self.app = app
        self.proc = subprocess.Popen([sys.executable, os.path.join(MOCKS, app + ".py"), "--port", "0"]
                                     + list(args), stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("mock %s did not start: %r" % (app, line))
        RUNNING_MOCKS.append(self)
        self.port = int(line.split()[1])
        self.scheme = "https" if "--certfile" in args else "http"
        self.url = "%s://127.0.0.1:%d" % (self.scheme, self.port)
        self.control_url = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None):
        if self.scheme == "https":
            import ssl
            ctx = ssl._create_unverified_context()
        else:
            ctx = None
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_mock/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read() or b"null")

    def requests(self, path_prefix=None):
        reqs = self.call("GET", "requests")["requests"]
        return [r for r in reqs if path_prefix is None or r["path"].startswith(path_prefix)]

    def clear_requests(self):
        self.call("DELETE", "requests")

    def stats(self):
        return self.call("GET", "stats")

    def faults(self, *faults):
        return self.call("POST", "faults", {"faults": list(faults)})

    def config(self, **settings):
        return self.call("POST", "config", settings)

    def seed(self, data):
        return self.call("POST", "seed", data)

    def state(self):
        return self.call("GET", "state")

    def undocumented(self):
        return self.call("GET", "undocumented")["undocumented"]

    def stop(self):
        if self in RUNNING_MOCKS:
            RUNNING_MOCKS.remove(self)
        if self.app == "zohobooks" and self.proc.poll() is None:
            try:
                UNDOCUMENTED.extend(self.undocumented())
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class DatabaseCase(unittest.TestCase):
    """A test class with its own database holding the extension."""

    db = None

    @classmethod
    def setUpClass(cls):
        cls.db = "it_" + re.sub(r"[^a-z0-9]", "_", cls.__name__.lower())
        sql("DROP DATABASE IF EXISTS %s" % cls.db)
        sql("CREATE DATABASE %s" % cls.db)
        sql("CREATE EXTENSION togai_zoho", cls.db)
        cls.mocks = []
        # class cleanups run even when a subclass's setUpClass fails half-way
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        for m in cls.mocks:
            m.stop()
        sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % cls.db)

    @classmethod
    def mock(cls, app, *args):
        m = Mock(app, *args)
        cls.mocks.append(m)
        return m

    def sql(self, query, **kw):
        return sql(query, self.db, **kw)

    def value(self, query, **kw):
        return value(query, self.db, **kw)

    def json(self, query, **kw):
        return json_value(query, self.db, **kw)

    def error(self, query, **kw):
        return sql_error(query, self.db, **kw)

    def assertSQLState(self, err, sqlstate, *fragments):
        self.assertEqual(err.sqlstate, sqlstate, "%s (detail: %s)" % (err, err.detail))
        text = " ".join(x for x in (err.message, err.detail or "", err.hint or ""))
        for f in fragments:
            self.assertIn(f, text)


def zoho_seed(client_id="cid.test", client_secret="csecret.test", codes=("code.test.1",),
              organizations=({"organization_id": "600001", "name": "Test Org"},)):
    remember_secret(client_secret, *codes)
    return {"clients": {client_id: client_secret},
            "grant_codes": {c: {"client_id": client_id, "scope": "ZohoBooks.fullaccess.all"} for c in codes},
            "organizations": list(organizations)}


def add_zoho(case, mock, name="zoho", code="code.test.1", client_id="cid.test",
             client_secret="csecret.test", extra=""):
    return value("SELECT togai_zoho.add_zohobooks_connection(%s, %s, %s, code => %s, "
                 "accounts_url => %s, api_url => %s%s)"
                 % (literal(name), literal(client_id), literal(client_secret), literal(code),
                    literal(mock.url), literal(mock.url), extra), case.db)


def remember_issued_tokens(mock):
    """The tokens a Zoho mock minted, so the final log check looks for them too."""
    for r in mock.requests("/books/v3/"):
        auth = r["headers"].get("authorization", "")
        remember_secret(auth.split(" ", 1)[-1])
    for t in mock.state().get("refresh_tokens", []):
        remember_secret(t)


def wait_until(predicate, timeout=10.0, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


# worker settings ---------------------------------------------------------------------------
FAST = {"togai_zoho.retry_base": "50ms", "togai_zoho.retry_max": "400ms",
        "togai_zoho.max_attempts": "5"}


def set_worker_settings(settings):
    """ALTER SYSTEM, then a reload the worker sees within a turn."""
    for k, v in settings.items():
        if v is None:
            sql("ALTER SYSTEM RESET %s" % k)
        else:
            sql("ALTER SYSTEM SET %s = %s" % (k, literal(v)))
    sql("SELECT pg_reload_conf()")
    time.sleep(0.3)


def drop_extension():
    """DROP EXTENSION, again if it lost a deadlock to the worker (which may be storing the
    day's API usage or marking invoices sent in the tables it drops)."""
    for attempt in range(5):
        try:
            return sql("DROP EXTENSION IF EXISTS togai_zoho CASCADE")
        except SQLError as e:
            if e.sqlstate != "40P01" or attempt == 4:
                raise
            time.sleep(0.2)


class WorkerDatabaseCase(DatabaseCase):
    """The worker delivers for the database named by togai_zoho.database_name (postgres): the
    extension there, fast retries, a Zoho Books mock with connection 'zoho' and a Togai mock
    with connection 'togai'."""

    togai_token = "togai.token.worker"

    @classmethod
    def setUpClass(cls):
        cls.db = "postgres"
        cls.mocks = []
        cls.addClassCleanup(cls._cleanup)
        drop_extension()
        sql("CREATE EXTENSION togai_zoho")
        set_worker_settings(FAST)
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed())
        add_zoho(cls, cls.zoho)
        cls.togai = cls.mock("togai", "--token", cls.togai_token)
        remember_secret(cls.togai_token)
        value("SELECT togai_zoho.add_togai_connection('togai', %s, %s)"
              % (literal(cls.togai_token), literal(cls.togai.url)))

    @classmethod
    def _cleanup(cls):
        if getattr(cls, "zoho", None):
            remember_issued_tokens(cls.zoho)
        for m in cls.mocks:
            m.stop()
        set_worker_settings({k: None for k in FAST})
        drop_extension()
