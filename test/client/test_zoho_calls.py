"""Every Zoho Books client operation through zohobooks_call(), against the mock."""

import json

from harness import DatabaseCase, add_zoho, literal, remember_issued_tokens, zoho_seed


class ZohoCalls(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed())
        add_zoho(cls, cls.zoho)

    @classmethod
    def tearDownClass(cls):
        remember_issued_tokens(cls.zoho)
        super().tearDownClass()

    def call(self, op, args=None):
        return self.json("SELECT togai_zoho.zohobooks_call('zoho', %s, %s)"
                         % (literal(op), literal(json.dumps(args or {}))))

    def call_error(self, op, args=None):
        return self.error("SELECT togai_zoho.zohobooks_call('zoho', %s, %s)"
                          % (literal(op), literal(json.dumps(args or {}))))

    def contact(self, name, account="acc.x"):
        return self.call("contact_create", {"contact": {
            "contact_name": name, "company_name": name + " Inc", "contact_type": "customer",
            "notes": "Togai account %s" % account,
            "custom_fields": [{"index": 1, "value": account}]}})

    def item(self, name="Usage"):
        found = self.call("item_search", {"name": name})
        return found[0] if found else self.call("item_create", {"item": {"name": name, "rate": 0}})

    def test_organizations_and_currencies(self):
        self.assertEqual([o["organization_id"] for o in self.call("organizations")], ["600001"])
        codes = [c["currency_code"] for c in self.call("currencies")]
        self.assertIn("EUR", codes)

    def test_contacts(self):
        c = self.contact("Acme", "acc.acme.1")
        self.assertTrue(c["contact_id"])
        got = self.call("contact_get", {"contact_id": c["contact_id"]})
        self.assertEqual(got["contact_name"], "Acme")
        upd = self.call("contact_update", {"contact_id": c["contact_id"], "contact": {
            "contact_name": "Acme", "contact_type": "customer",
            "contact_persons": [{"email": "a@acme.test", "is_primary_contact": True}]}})
        self.assertEqual(upd["contact_persons"][0]["email"], "a@acme.test")
        self.zoho.clear_requests()
        found = self.call("contact_find", {"togai_account_id": "acc.acme.1"})
        self.assertEqual(found["contact_id"], c["contact_id"])
        # a search returns candidates (summaries, no notes): the candidate is read to confirm it
        self.assertEqual([(r["method"], r["path"]) for r in self.zoho.requests("/books/v3/")],
                         [("GET", "/books/v3/contacts"), ("GET", "/books/v3/contacts/" + c["contact_id"])])
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.acme"}))
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.unknown.9"}))
        # found by the marker in the notes as a whole word only, renamed or not
        n = self.call("contact_create", {"contact": {"contact_name": "Noted", "notes": "Togai account acc.noted.7"}})
        self.zoho.call("POST", "rename", {"contact_id": n["contact_id"], "contact_name": "Renamed In Zoho"})
        self.assertEqual(self.call("contact_find", {"togai_account_id": "acc.noted.7"})["contact_id"], n["contact_id"])
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.noted"}))
        # or by the custom field the options name, by index or label; never by name
        self.call("contact_create", {"contact": {"contact_name": "Fielded", "notes": "was acc.field.1",
                                                 "custom_fields": [{"label": "cf3", "value": "acc.field.1"}]}})
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.field.1"}))
        self.assertEqual(self.call("contact_find", {"togai_account_id": "acc.field.1", "options": {
            "togai_id_custom_field": "3"}})["contact_name"], "Fielded")
        # every call but the organization list carries organization_id and the token header
        for r in self.zoho.requests("/books/v3/contacts"):
            self.assertEqual(r["query"].get("organization_id"), "600001")
            self.assertTrue(r["headers"]["authorization"].startswith("Zoho-oauthtoken "))

    def test_duplicate_contact_name_is_refused_with_zoho_words(self):
        self.contact("Duplicate Co")
        err = self.call_error("contact_create", {"contact": {"contact_name": "Duplicate Co"}})
        self.assertSQLState(err, "TZ400", 'The customer "Duplicate Co" already exists.', "code 3062")

    def test_unknown_contact(self):
        err = self.call_error("contact_get", {"contact_id": "123"})
        self.assertSQLState(err, "TZ404", "does not exist", "code 1002")

    def test_invoices_totals_to_the_cent(self):
        c = self.contact("Invoiced Ltd")
        item = self.item()["item_id"]
        inv = self.call("invoice_create", {"ignore_auto_number_generation": True, "invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0001", "reference_number": "inv.togai.1",
            "date": "2026-11-01", "due_date": "2026-12-01",
            "line_items": [{"item_id": item, "name": "API calls", "description": "12 500 calls", "rate": 0.002, "quantity": 12500},
                           {"item_id": item, "name": "Storage", "description": "GB-month ünïcödé", "rate": 0.35, "quantity": 12.5},
                           {"item_id": item, "name": "Overage", "rate": 3.03, "quantity": 0.333}]}})
        self.assertEqual(inv["invoice_number"], "TG-0001")
        self.assertEqual(inv["total"], 30.39)  # 25.00 + 4.38 (4.375, half up) + 1.01 (1.00899)
        self.assertEqual(inv["status"], "draft")
        found = self.call("invoice_find", {"reference_number": "inv.togai.1", "customer_id": c["contact_id"]})
        self.assertEqual(found["invoice_id"], inv["invoice_id"])
        self.assertIsNone(self.call("invoice_find", {"reference_number": "inv.none", "customer_id": c["contact_id"]}))
        # the same reference for another customer is not this invoice
        self.assertIsNone(self.call("invoice_find", {"reference_number": "inv.togai.1", "customer_id": "460"}))
        # a line without an item, or with a name over 100 characters, is refused as Zoho documents
        err = self.call_error("invoice_create", {"invoice": {
            "customer_id": c["contact_id"], "line_items": [{"name": "x", "rate": 1, "quantity": 1}]}})
        self.assertSQLState(err, "TZ400", "item_id is required")
        err = self.call_error("invoice_create", {"invoice": {
            "customer_id": c["contact_id"], "line_items": [{"item_id": item, "name": "n" * 101, "rate": 1}]}})
        self.assertSQLState(err, "TZ400", "name is at most 100 characters")
        err = self.call_error("invoice_create", {"invoice": {
            "customer_id": c["contact_id"], "payment_terms": 120, "line_items": [{"item_id": item, "rate": 1}]}})
        self.assertSQLState(err, "TZ400", "payment_terms: at most 100")
        got = self.call("invoice_get", {"invoice_id": inv["invoice_id"]})
        self.assertEqual(got["line_items"][1]["description"], "GB-month ünïcödé")
        self.call("invoice_mark_sent", {"invoice_id": inv["invoice_id"]})
        self.assertEqual(self.call("invoice_get", {"invoice_id": inv["invoice_id"]})["status"], "sent")
        # a duplicate number is refused
        err = self.call_error("invoice_create", {"ignore_auto_number_generation": True, "invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0001",
            "line_items": [{"item_id": item, "name": "x", "rate": 1, "quantity": 1}]}})
        self.assertSQLState(err, "TZ400", 'Invoice "TG-0001" already exists.')
        # without the flag Zoho numbers it
        auto = self.call("invoice_create", {"invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0002",
            "line_items": [{"item_id": item, "name": "x", "rate": 0, "quantity": 1}]}})
        self.assertTrue(auto["invoice_number"].startswith("INV-"))
        self.assertEqual(auto["total"], 0)
        voided = self.call("invoice_void", {"invoice_id": auto["invoice_id"]})
        self.assertEqual(voided["code"], 0)
        self.assertEqual(self.call("invoice_get", {"invoice_id": auto["invoice_id"]})["status"], "void")
        created = [r for r in self.zoho.requests("/books/v3/invoices") if r["method"] == "POST"
                   and r["path"] == "/books/v3/invoices"]
        self.assertEqual(created[0]["query"].get("ignore_auto_number_generation"), "true")
        self.assertNotIn("ignore_auto_number_generation", created[-1]["query"])

    def test_payments_of_an_invoice_and_documented_lists(self):
        c = self.contact("Payer GmbH")
        inv = self.call("invoice_create", {"invoice": {"customer_id": c["contact_id"], "line_items": [
            {"item_id": self.item()["item_id"], "name": "x", "rate": 10, "quantity": 1}]}})
        self.call("invoice_mark_sent", {"invoice_id": inv["invoice_id"]})
        # a payment recorded in Zoho Books (by someone else)
        paid = self.zoho_payment(c["contact_id"], inv["invoice_id"], 10)["payment"]
        applied = self.call("invoice_payments", {"invoice_id": inv["invoice_id"]})
        self.assertEqual([p["payment_id"] for p in applied], [paid["payment_id"]])
        self.assertEqual(self.call("payment_get", {"payment_id": paid["payment_id"]})["invoices"][0]["invoice_id"],
                         inv["invoice_id"])
        self.assertEqual(self.call("invoice_get", {"invoice_id": inv["invoice_id"]})["status"], "paid")
        # invoices changed since a time: the documented filter, no sort column Zoho lacks
        self.zoho.clear_requests()
        page = self.call("list_changed", {"list": "invoices", "since": "2000-01-01T00:00:00+0000"})
        self.assertIn(inv["invoice_id"], [i["invoice_id"] for i in page["invoices"]])
        self.assertNotIn("line_items", page["invoices"][0])
        req = self.zoho.requests("/books/v3/invoices")[-1]
        self.assertEqual(req["query"]["last_modified_time"], "2000-01-01T00:00:00+0000")
        self.assertNotIn("sort_column", req["query"])
        page = self.call("list_changed", {"list": "contacts"})
        self.assertEqual(self.zoho.requests("/books/v3/contacts")[-1]["query"]["sort_column"], "last_modified_time")
        self.assertNotIn("notes", page["contacts"][0])
        # payments have no changed-since filter: said, not faked
        err = self.call_error("list_changed", {"list": "customerpayments"})
        self.assertSQLState(err, "22023", "no changed-since filter", "invoice_payments")

    def test_the_mock_refuses_and_records_what_zoho_does_not_document(self):
        import urllib.error
        import urllib.request
        token = self.value("SELECT access_token FROM togai_zoho.connection_secret")

        def get(query):
            req = urllib.request.Request(self.zoho.url + "/books/v3/invoices?organization_id=600001&" + query,
                                         headers={"Authorization": "Zoho-oauthtoken " + token})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        self.assertEqual(get("sort_column=last_modified_time"),
                         (400, {"code": 2, "message": "Invalid value passed for sort_column"}))
        status, body = get("sort_order=A&per_page=5")
        self.assertEqual(status, 200)
        self.assertEqual(self.zoho.undocumented(), [{"operation": "GET /invoices", "parameter": "sort_order"}])
        self.zoho.call("DELETE", "undocumented")

    def zoho_payment(self, customer, invoice, amount):
        import urllib.request
        token = self.value("SELECT access_token FROM togai_zoho.connection_secret")
        body = json.dumps({"customer_id": customer, "payment_mode": "banktransfer", "amount": amount,
                           "date": "2026-11-20", "invoices": [{"invoice_id": invoice, "amount_applied": amount}]})
        req = urllib.request.Request(self.zoho.url + "/books/v3/customerpayments?organization_id=600001",
                                     data=body.encode(), method="POST",
                                     headers={"Authorization": "Zoho-oauthtoken " + token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def test_post_on_a_kept_connection_is_never_sent_twice(self):
        # libcurl replays a request whose kept-alive connection closes unanswered: a create the
        # remote made before dropping the connection would be made twice
        self.zoho.clear_requests()
        self.zoho.faults({"kind": "after_success_drop", "count": 1,
                          "match": {"method": "POST", "path_prefix": "/books/v3/contacts"}})
        body = {"contact": {"contact_name": "Dropped Once Ltd", "contact_type": "customer"}}
        err = self.error("SELECT togai_zoho.zohobooks_call('zoho', 'organizations'); "
                         "SELECT togai_zoho.zohobooks_call('zoho', 'contact_create', %s)"
                         % literal(json.dumps(body)))
        self.assertSQLState(err, "08006", "closed the connection before answering POST")
        got = [r for r in self.zoho.requests("/books/v3/") if r["method"] in ("GET", "POST")]
        self.assertEqual([r["method"] for r in got], ["GET", "POST"])
        self.assertEqual(got[0]["client_port"], got[1]["client_port"], "the POST reused the connection")
        made = [c for c in self.zoho.state()["contacts"] if c["contact_name"] == "Dropped Once Ltd"]
        self.assertEqual(len(made), 1)

    def test_unknown_operation_and_bad_args(self):
        err = self.call_error("contact_delete")
        self.assertSQLState(err, "42704", "no operation", "contact_create")
        err = self.call_error("contact_create", {"contact": "not an object"})
        self.assertSQLState(err, "22023", '"contact"')
