"""Shared machinery of the mock Togai and Zoho Books servers (standard library only).

A mock is an App subclass: it routes API requests to handler methods and keeps its state.
This module adds what every mock needs and what tests steer through /_mock/:

  GET    /_mock/health            {"ok": true}
  GET    /_mock/requests          every API request received: method, path, query, headers, body, status,
                                   client_port (the same port twice: one kept-alive connection),
                                   time received and answered (epoch seconds)
  DELETE /_mock/requests          forget them
  GET    /_mock/stats             counts by status, requests in flight now and at the peak
  POST   /_mock/stats/reset
  POST   /_mock/config            {"rate_limit_per_minute": N|null, "latency_ms": L,
                                   "daily_limit": N|null, "concurrency_limit": N|null, ...app settings}
                                   (daily_limit: calls answered per rate key and day, then 429 without
                                   Retry-After; concurrency_limit: requests in flight per rate key, the
                                   one over it answered 429 at once; refusals counted in /_mock/stats)
  POST   /_mock/new_day           a new day: the daily counts start again
  POST   /_mock/faults            {"faults": [{"kind": K, "count": N, "match": {"method", "path_prefix", "path_suffix"}, ...}]}
                                   (with "rate": p instead of "count", a fault stays and fires on that
                                   share of the calls it matches, from a seeded random sequence)
  DELETE /_mock/faults
  GET    /_mock/state             the app's objects
  POST   /_mock/seed              merge objects into the state (format: the app's docstring)
  POST   /_mock/reset             empty state, log, faults and config

Fault kinds: "429" (with "retry_after"), "500", "503", "delay" (with "seconds"), "drop" (close
without answering), "malformed_json", "expired_token", and "after_success_drop" (do the work,
then close without answering: a crash between the remote's commit and the client's).

Run: python3 <mock>.py --port 0 [--certfile C --keyfile K] [--demo-seed]; the first line on
stdout is "PORT <n>".
"""

import argparse
import json
import os
import random
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply(Exception):
    """Raised by handlers to answer at once with a status and a JSON body."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Drop(Exception):
    """Raised to close the connection without any answer."""


class App:
    """Base of a mock app: subclasses set `routes` and implement the handlers."""

    name = "app"
    # (method, path regex) -> handler name; filled by subclasses
    routes = []

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    # state ------------------------------------------------------------------
    def reset(self):
        self.config = dict(self.default_config())
        self.faults = []
        self.log = []
        self.seq = 0
        self.windows = {}
        self.counts = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.daily_used = {}
        self.daily_refused = 0
        self.key_in_flight = {}
        self.peak_key_in_flight = 0
        self.concurrency_refused = 0
        self.faults_fired = 0
        self.faults_by_kind = {}
        self.random = random.Random(7)
        self.reset_state()

    def default_config(self):
        return {"rate_limit_per_minute": None, "latency_ms": 0, "daily_limit": None,
                "concurrency_limit": None}

    def reset_state(self):
        raise NotImplementedError

    def seed(self, data):
        raise NotImplementedError

    def state(self):
        raise NotImplementedError

    # hooks --------------------------------------------------------------------
    def rate_key(self, req):
        """The key a rate limit counts per (token, organization, ...)."""
        return "all"

    def rate_limit_reply(self, retry_after):
        raise NotImplementedError

    def daily_limit_reply(self):
        return Reply(429, {"message": "The daily limit of API calls is reached."})

    def concurrency_limit_reply(self):
        return Reply(429, {"message": "Too many concurrent requests."})

    def expired_token_reply(self):
        raise NotImplementedError

    def error_reply(self, status):
        return Reply(status, {"message": "Internal error"})

    def authenticate(self, req):
        """Raise Reply when the request's credentials are not acceptable."""

    def check_request(self, req):
        """Raise Reply when the service would refuse the request as written (documented rules)."""

    # faults and limits ---------------------------------------------------------
    def take_fault(self, req):
        with self.lock:
            for f in self.faults:
                m = f.get("match") or {}
                if m.get("method") and m["method"] != req.method:
                    continue
                if m.get("path_prefix") and not req.path.startswith(m["path_prefix"]):
                    continue
                if m.get("path_suffix") and not req.path.endswith(m["path_suffix"]):
                    continue
                if "rate" in f:
                    # a standing fault: fires on that share of the calls it matches
                    if self.random.random() >= float(f["rate"]):
                        continue
                else:
                    f["count"] = f.get("count", 1) - 1
                    if f["count"] <= 0:
                        self.faults.remove(f)
                self.faults_fired += 1
                self.faults_by_kind[str(f.get("kind"))] = self.faults_by_kind.get(str(f.get("kind")), 0) + 1
                return f
        return None

    def check_daily(self, req):
        """The day's cap per rate key: a call over it is refused, and not counted."""
        limit = self.config.get("daily_limit")
        with self.lock:
            key = self.rate_key(req)
            if limit is not None and self.daily_used.get(key, 0) >= int(limit):
                self.daily_refused += 1
                raise self.daily_limit_reply()
            self.daily_used[key] = self.daily_used.get(key, 0) + 1

    def check_rate(self, req):
        limit = self.config.get("rate_limit_per_minute")
        if not limit:
            return
        now = time.monotonic()
        with self.lock:
            window = self.windows.setdefault(self.rate_key(req), [])
            while window and now - window[0] >= 60:
                window.pop(0)
            if len(window) >= limit:
                self.rate_limited += 1
                raise self.rate_limit_reply(max(1, int(60 - (now - window[0])) + 1))
            window.append(now)


class Request:
    def __init__(self, handler, method):
        u = urllib.parse.urlsplit(handler.path)
        self.method = method
        self.path = u.path
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        n = int(handler.headers.get("Content-Length") or 0)
        self.raw = handler.rfile.read(n) if n else b""
        self.text = self.raw.decode("utf-8", "replace")
        self.params = {}
        self.op = {}
        self.log_entry = None

    def json(self):
        ctype = self.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in ctype:
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(self.text).items()}
            if "JSONString" in form:
                return json.loads(form["JSONString"])
            return form
        if not self.text:
            return {}
        try:
            return json.loads(self.text)
        except ValueError:
            raise Reply(400, {"message": "Request body is not valid JSON"})

    def form(self):
        fields = {k: v[-1] for k, v in urllib.parse.parse_qs(self.text).items()}
        fields.update(self.query)
        return fields


def make_handler(app):
    import re

    compiled = [(m, re.compile("^" + p + "$"), h) for m, p, h in app.routes]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # or keep-alive answers stall ~40 ms on delayed ACKs
        server_version = "mock-" + app.name

        def log_message(self, *args):
            pass

        def send_json(self, status, body, headers=None, raw=None):
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)
            return status

        def drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def control(self, req):
            p = req.path[len("/_mock/"):]
            m = req.method
            with app.lock:
                if p == "health":
                    return self.send_json(200, {"ok": True})
                if p == "requests" and m == "GET":
                    since = int(req.query.get("since", 0))
                    return self.send_json(200, {"requests": [r for r in app.log if r["seq"] > since]})
                if p == "requests" and m == "DELETE":
                    app.log.clear()
                    return self.send_json(200, {"ok": True})
                if p == "stats" and m == "GET":
                    return self.send_json(200, {
                        "requests": sum(app.counts.values()),
                        "by_status": {str(k): v for k, v in app.counts.items()},
                        "in_flight": app.in_flight, "peak_in_flight": app.peak_in_flight,
                        "rate_limited": app.rate_limited, "faults_fired": app.faults_fired,
                        "daily_refused": app.daily_refused, "daily_used": app.daily_used,
                        "concurrency_refused": app.concurrency_refused,
                        "peak_key_in_flight": app.peak_key_in_flight,
                        "faults_by_kind": app.faults_by_kind})
                if p == "stats/reset":
                    app.counts.clear()
                    app.peak_in_flight = app.in_flight
                    app.rate_limited = app.faults_fired = 0
                    app.daily_refused = app.concurrency_refused = 0
                    app.peak_key_in_flight = max(app.key_in_flight.values() or [0])
                    app.faults_by_kind = {}
                    return self.send_json(200, {"ok": True})
                if p == "config" and m == "POST":
                    app.config.update(req.json())
                    return self.send_json(200, app.config)
                if p == "faults" and m == "POST":
                    app.faults.extend(req.json().get("faults", []))
                    return self.send_json(200, {"faults": app.faults})
                if p == "faults" and m == "DELETE":
                    app.faults.clear()
                    return self.send_json(200, {"ok": True})
                if p == "state":
                    return self.send_json(200, app.state())
                if p == "seed" and m == "POST":
                    app.seed(req.json())
                    return self.send_json(200, {"ok": True})
                if p == "new_day" and m == "POST":
                    app.daily_used.clear()
                    return self.send_json(200, {"ok": True})
                if p == "reset" and m == "POST":
                    app.reset()
                    return self.send_json(200, {"ok": True})
            extra = getattr(app, "control_" + p.replace("/", "_"), None)
            if extra:
                status, body = extra(req)
                return self.send_json(status, body)
            return self.send_json(404, {"message": "no such control endpoint"})

        def route(self, req):
            for method, rx, name in compiled:
                mt = rx.match(req.path)
                if mt and method == req.method:
                    req.params = mt.groupdict()
                    return getattr(app, name)
            raise Reply(404, {"message": "No route for %s %s" % (req.method, req.path)})

        def serve(self, method):
            req = Request(self, method)
            if req.path.startswith("/_mock/"):
                return self.control(req)
            with app.lock:
                app.seq += 1
                entry = {"seq": app.seq, "time": time.time(), "method": method, "path": req.path,
                         "query": req.query, "headers": req.headers, "body": req.text, "status": None,
                         "client_port": self.client_address[1]}
                app.log.append(entry)
                req.log_entry = entry
                app.in_flight += 1
                app.peak_in_flight = max(app.peak_in_flight, app.in_flight)
                key = app.rate_key(req)
                app.key_in_flight[key] = app.key_in_flight.get(key, 0) + 1
                app.peak_key_in_flight = max(app.peak_key_in_flight, app.key_in_flight[key])
                limit = app.config.get("concurrency_limit")
                req.over_concurrency = limit is not None and app.key_in_flight[key] > int(limit)
            status = None
            try:
                latency = app.config.get("latency_ms") or 0
                if latency:
                    time.sleep(latency / 1000.0)
                status = self.answer(req)
            except Drop:
                self.drop()
            finally:
                with app.lock:
                    app.in_flight -= 1
                    app.key_in_flight[key] -= 1
                    entry["status"] = status
                    entry["answered"] = time.time()
                    app.counts[status] = app.counts.get(status, 0) + 1

        def answer(self, req):
            fault = app.take_fault(req)
            kind = fault and str(fault.get("kind"))
            try:
                if kind == "drop":
                    raise Drop()
                if kind == "delay":
                    time.sleep(float(fault.get("seconds", 5)))
                if kind == "429":
                    raise app.rate_limit_reply(int(fault.get("retry_after", 1)))
                if getattr(req, "over_concurrency", False):
                    app.concurrency_refused += 1
                    raise app.concurrency_limit_reply()
                if kind in ("500", "503"):
                    raise app.error_reply(int(kind))
                if kind == "expired_token":
                    raise app.expired_token_reply()
                handler = self.route(req)
                if not getattr(handler, "no_auth", False):
                    app.authenticate(req)
                    app.check_daily(req)
                    app.check_rate(req)
                    app.check_request(req)
                status, body = handler(req)[:2]
                if kind == "after_success_drop":
                    raise Drop()
                if kind == "malformed_json":
                    return self.send_json(status, None, raw=b'{"code": 0, "message": "succ')
                return self.send_json(status, body)
            except Reply as r:
                return self.send_json(r.status, r.body, r.headers)

        def do_GET(self):
            self.serve("GET")

        def do_POST(self):
            self.serve("POST")

        def do_PUT(self):
            self.serve("PUT")

        def do_PATCH(self):
            self.serve("PATCH")

        def do_DELETE(self):
            self.serve("DELETE")

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the default 5 drops bursts at SYN: 1-3 s client stalls

    def handle_error(self, request, client_address):
        pass  # clients that hang up are not news


def no_auth(fn):
    fn.no_auth = True
    return fn


def stop_with_parent(stop):
    """A test run that is killed cannot stop its mocks: they stop when it is gone."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    stop()


def main(app, argv=None):
    ap = argparse.ArgumentParser(description="mock %s server" % app.name)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--certfile")
    ap.add_argument("--keyfile")
    ap.add_argument("--demo-seed", action="store_true")
    ap.add_argument("--seed", help="JSON file of objects to seed")
    app.add_arguments(ap)
    args = ap.parse_args(argv)
    app.configure(args)
    if args.demo_seed:
        app.seed(app.demo_seed())
    if args.seed:
        with open(args.seed) as f:
            app.seed(json.load(f))

    server = Server(("127.0.0.1", args.port), make_handler(app))
    if args.certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.certfile, args.keyfile)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    app.port = server.server_address[1]
    app.scheme = "https" if args.certfile else "http"
    print("PORT %d" % app.port, flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=stop_with_parent, args=(stop,), daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    sys.exit(0)
