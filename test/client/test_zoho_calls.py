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
            "notes": "Togai account: %s" % account,
            "custom_fields": [{"api_name": "cf_togai_account_id", "value": account}]}})

    def test_organizations_and_currencies(self):
        self.assertEqual([o["organization_id"] for o in self.call("organizations")], ["600001"])
        codes = [c["currency_code"] for c in self.call("currencies")]
        self.assertIn("EUR", codes)

    def test_contacts(self):
        c = self.contact("Acme", "acc.acme.1")
        self.assertTrue(c["contact_id"])
        got = self.call("contact_get", {"contact_id": c["contact_id"]})
        self.assertEqual(got["contact_name"], "Acme")
        upd = self.call("contact_update", {"contact_id": c["contact_id"], "contact": {"email": "a@acme.test"}})
        self.assertEqual(upd["email"], "a@acme.test")
        found = self.call("contact_find", {"togai_account_id": "acc.acme.1"})
        self.assertEqual(found["contact_id"], c["contact_id"])
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.acme"}))
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.unknown.9"}))
        # found by a mention in the notes too, as a whole word only
        n = self.call("contact_create", {"contact": {"contact_name": "Noted", "notes": "Togai account acc.noted.7"}})
        self.assertEqual(self.call("contact_find", {"togai_account_id": "acc.noted.7"})["contact_id"], n["contact_id"])
        self.assertIsNone(self.call("contact_find", {"togai_account_id": "acc.noted"}))
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
        inv = self.call("invoice_create", {"ignore_auto_number_generation": True, "invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0001", "reference_number": "inv.togai.1",
            "date": "2026-11-01", "due_date": "2026-12-01",
            "line_items": [{"name": "API calls", "description": "12 500 calls", "rate": 0.002, "quantity": 12500},
                           {"name": "Storage", "description": "GB-month ünïcödé", "rate": 0.35, "quantity": 12.5},
                           {"name": "Overage", "rate": 3.03, "quantity": 0.333}]}})
        self.assertEqual(inv["invoice_number"], "TG-0001")
        self.assertEqual(inv["total"], 30.39)  # 25.00 + 4.38 (4.375, half up) + 1.01 (1.00899)
        self.assertEqual(inv["status"], "draft")
        found = self.call("invoice_find", {"reference_number": "inv.togai.1"})
        self.assertEqual(found["invoice_id"], inv["invoice_id"])
        self.assertIsNone(self.call("invoice_find", {"reference_number": "inv.none"}))
        got = self.call("invoice_get", {"invoice_id": inv["invoice_id"]})
        self.assertEqual(got["line_items"][1]["description"], "GB-month ünïcödé")
        self.call("invoice_mark_sent", {"invoice_id": inv["invoice_id"]})
        self.assertEqual(self.call("invoice_get", {"invoice_id": inv["invoice_id"]})["status"], "sent")
        # a duplicate number is refused
        err = self.call_error("invoice_create", {"ignore_auto_number_generation": True, "invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0001",
            "line_items": [{"name": "x", "rate": 1, "quantity": 1}]}})
        self.assertSQLState(err, "TZ400", 'Invoice "TG-0001" already exists.')
        # without the flag Zoho numbers it
        auto = self.call("invoice_create", {"invoice": {
            "customer_id": c["contact_id"], "invoice_number": "TG-0002",
            "line_items": [{"name": "x", "rate": 0, "quantity": 1}]}})
        self.assertTrue(auto["invoice_number"].startswith("INV-"))
        self.assertEqual(auto["total"], 0)
        voided = self.call("invoice_void", {"invoice_id": auto["invoice_id"]})
        self.assertEqual(voided["code"], 0)
        self.assertEqual(self.call("invoice_get", {"invoice_id": auto["invoice_id"]})["status"], "void")
        created = [r for r in self.zoho.requests("/books/v3/invoices") if r["method"] == "POST"
                   and r["path"] == "/books/v3/invoices"]
        self.assertEqual(created[0]["query"].get("ignore_auto_number_generation"), "true")
        self.assertNotIn("ignore_auto_number_generation", created[-1]["query"])

    def test_payments_since(self):
        c = self.contact("Payer GmbH")
        inv = self.call("invoice_create", {"invoice": {"customer_id": c["contact_id"],
                                                      "line_items": [{"name": "x", "rate": 10, "quantity": 1}]}})
        self.call("invoice_mark_sent", {"invoice_id": inv["invoice_id"]})
        # a payment recorded in Zoho Books (by someone else)
        self.zoho_payment(c["contact_id"], inv["invoice_id"], 10)
        page = self.call("payments_since", {"since": "2000-01-01T00:00:00+0000", "page": 1})
        self.assertEqual(page["code"], 0)
        self.assertEqual(len(page["customerpayments"]), 1)
        self.assertFalse(page["page_context"]["has_more_page"])
        self.assertEqual(self.call("invoice_get", {"invoice_id": inv["invoice_id"]})["status"], "paid")
        req = self.zoho.requests("/books/v3/customerpayments")[-1]
        self.assertEqual(req["query"]["last_modified_time"], "2000-01-01T00:00:00+0000")

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
