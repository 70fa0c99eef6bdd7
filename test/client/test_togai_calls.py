"""Every Togai client operation through togai_call(), against the mock checked by the OpenAPI document."""

import json

from harness import DatabaseCase, literal, remember_secret, value

TOKEN = "togai.token.calls"


class TogaiCalls(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.togai = cls.mock("togai", "--demo-seed", "--token", TOKEN)
        remember_secret(TOKEN, "wrong.togai.token")
        value("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(TOKEN), literal(cls.togai.url)),
              cls.db)
        value("SELECT togai_zoho.add_togai_connection('wrong', 'wrong.togai.token', %s)" % literal(cls.togai.url),
              cls.db)

    def call(self, op, args=None, conn="togai"):
        return self.json("SELECT togai_zoho.togai_call(%s, %s, %s)"
                         % (literal(conn), literal(op), literal(json.dumps(args or {}))))

    def call_error(self, op, args=None, conn="togai"):
        return self.error("SELECT togai_zoho.togai_call(%s, %s, %s)"
                          % (literal(conn), literal(op), literal(json.dumps(args or {}))))

    def tearDown(self):
        self.assertEqual(self.togai.call("GET", "schema_violations")["violations"], [])

    def test_pagination_over_every_page(self):
        seen, token, pages = [], None, 0
        while True:
            args = {"page_size": 2}
            if token:
                args["next_token"] = token
            page = self.call("accounts_list", args)
            pages += 1
            seen += [a["id"] for a in page["data"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(sorted(seen), ["acc.demo.1", "acc.demo.2", "acc.demo.3"])
        invoices = self.call("invoices_list", {"page_size": 50, "status": "DUE"})
        self.assertEqual(len(invoices["data"]), 4)
        self.assertEqual({i["status"] for i in invoices["data"]}, {"DUE"})
        customers = self.call("customers_list", {"page_size": 10})
        self.assertEqual(len(customers["data"]), 3)

    def test_openapi_subset_is_current(self):
        import os
        import subprocess
        import sys
        import unittest
        here = os.path.dirname(os.path.abspath(__file__))
        full = os.path.join(here, "..", "..", "..", "shared", "reference", "togai-openapi.json")
        if not os.path.exists(full):
            raise unittest.SkipTest("Togai's full OpenAPI document is not beside this checkout")
        check = subprocess.run([sys.executable, os.path.join(here, "..", "mock", "extract_openapi.py"),
                                "--check", full], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_gets(self):
        self.assertEqual(self.call("account_get", {"account_id": "acc.demo.2"})["name"], "Zürich Analytics")
        self.assertEqual(self.call("customer_get", {"customer_id": "cus.demo.1"})["name"], "Acme Inc")
        inv = self.call("invoice_get", {"invoice_id": "inv.demo.1"})
        self.assertEqual(inv["revenueInfo"]["type"], "TOTAL_AMOUNT")
        err = self.call_error("account_get", {"account_id": "acc.nope"})
        self.assertSQLState(err, "TZ404", "not found")
        # ids are escaped into the path
        err = self.call_error("account_get", {"account_id": "../customers"})
        self.assertSQLState(err, "TZ404")
        self.assertEqual(self.togai.requests()[-1]["path"], "/accounts/..%2Fcustomers")

    def test_write_back_merges_metadata(self):
        self.togai.seed({"accounts": [dict(self.call("account_get", {"account_id": "acc.demo.3"}),
                                           metadata={"crm": "sf-123"})]})
        out = self.call("account_write_back", {"account_id": "acc.demo.3", "zohobooks_contact_id": "460001"})
        self.assertEqual(out["metadata"], {"crm": "sf-123", "zohobooks_contact_id": "460001"})
        patch = [r for r in self.togai.requests("/accounts/acc.demo.3") if r["method"] == "PATCH"][-1]
        self.assertEqual(json.loads(patch["body"]), {"metadata": {"crm": "sf-123", "zohobooks_contact_id": "460001"}})

    def test_payment_record(self):
        payment = {"accountId": "acc.demo.1", "currency": "USD", "totalAmount": 29.38,
                   "externalPaymentReference": {"sourceName": "ZohoBooks", "sourceType": "BANK_TRANSFER",
                                                "transactionNumber": "460000000099"},
                   "lineItemRecords": [{"togaiId": "inv.demo.1", "amount": 29.38, "type": "INVOICE", "order": 1}]}
        out = self.call("payment_record", {"payment": payment})
        self.assertEqual(out["externalPaymentReferences"]["transactionNumber"], "460000000099")
        self.assertEqual(self.call("invoice_get", {"invoice_id": "inv.demo.1"})["status"], "PAID")
        # a body the API does not take is refused as Togai would
        bad = dict(payment)
        del bad["currency"]
        err = self.call_error("payment_record", {"payment": bad})
        self.assertSQLState(err, "TZ400", "currency")
        # the mock noted the refused body; forget it so tearDown checks only the rest
        violations = self.togai.call("DELETE", "schema_violations")["violations"]
        self.assertTrue(violations and all("currency" in v for v in violations), violations)

    def test_auth_and_headers(self):
        err = self.call_error("accounts_list", conn="wrong")
        self.assertSQLState(err, "TZ401", "Unauthorized")
        ok = self.json("SELECT togai_zoho.check_connection('togai')")
        self.assertTrue(ok["ok"], ok)
        bad = self.json("SELECT togai_zoho.check_connection('wrong')")
        self.assertEqual((bad["ok"], bad["http_status"], bad["sqlstate"]), (False, 401, "TZ401"))
        last = self.togai.requests("/accounts")[-1]
        self.assertEqual(last["headers"]["authorization"], "Bearer wrong.togai.token")
        self.assertTrue(last["headers"]["user-agent"].startswith("togai_zoho/"))
        self.assertEqual(last["query"], {"pageSize": "1"})
