"""Creates Zoho Books makes idempotent: with a unique custom field set up per entity
(set_zohobooks_unique_field), every contact, invoice, payment and credit note is sent as an upsert
by the Togai id (PUT on the collection, X-Unique-Identifier-Key/-Value, X-Upsert: true), and a
create sent twice leaves one object without any search; the setup checks the field with one probe
that makes nothing, and refuses what Zoho refuses."""

import unittest
from decimal import Decimal

from flows_case import cents, literal, sql, value
from test_money_flows import MoneyFlows

FIELDS = [
    {"module": "contacts", "api_name": "cf_togai_account", "label": "Togai account",
     "customfield_id": "46000000090001", "index": 3, "unique": True},
    {"module": "invoices", "api_name": "cf_togai_invoice", "label": "Togai invoice",
     "customfield_id": "46000000090002", "unique": True},
    {"module": "customerpayments", "api_name": "cf_togai_payment", "label": "Togai payment",
     "customfield_id": "46000000090003", "unique": True},
    {"module": "creditnotes", "api_name": "cf_togai_note", "label": "Togai credit note",
     "customfield_id": "46000000090004", "unique": True},
    {"module": "invoices", "api_name": "cf_memo", "label": "Memo",
     "customfield_id": "46000000090009", "unique": False},
]
# entity, api name, how the body names it (contacts by label, the rest by customfield_id)
SETUP = [("contact", "cf_togai_account", "Togai account"),
         ("invoice", "cf_togai_invoice", "46000000090002"),
         ("payment", "cf_togai_payment", "46000000090003"),
         ("credit_note", "cf_togai_note", "46000000090004")]
COLLECTIONS = ["/books/v3/contacts", "/books/v3/invoices", "/books/v3/customerpayments",
               "/books/v3/creditnotes"]


def load_tests(loader, tests, pattern):
    """This file's tests only: the money flows' helpers are inherited, their tests are not."""
    return unittest.TestSuite(Upserts(n) for n in sorted(vars(Upserts)) if n.startswith("test_"))


class Upserts(MoneyFlows):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho.seed({"custom_fields": FIELDS})
        for entity, api_name, body_field in SETUP:
            cls.set_field(entity, api_name, body_field)

    @staticmethod
    def set_field(entity, api_name, body_field):
        return value("SELECT togai_zoho.set_zohobooks_unique_field('zoho', %s, %s, %s)"
                     % (literal(entity), literal(api_name) if api_name else "NULL",
                        literal(body_field) if body_field else "NULL"))

    def writes(self, path):
        """Requests that could make or change an object at a collection: POST and PUT on it."""
        return [r for r in self.zoho.requests(path) if r["path"] == path and r["method"] in ("POST", "PUT")]

    def field(self, obj, api_name):
        return [f.get("value") for f in obj.get("custom_fields") or [] if f.get("api_name") == api_name]

    def test_setup_probes_the_field_and_refuses_what_zoho_refuses(self):
        before = len(self.zoho.state()["invoices"])
        self.zoho.clear_requests()
        out = self.json("SELECT togai_zoho.set_zohobooks_unique_field('zoho', 'invoice', "
                        "'cf_togai_invoice', '46000000090002')")
        self.assertEqual((out["upsert"], out["api_name"], out["probe"]["http_status"], out["probe"]["code"]),
                         (True, "cf_togai_invoice", 404, 1002))
        # one call, without X-Upsert: nothing was made
        (probe,) = self.zoho.requests("/books/v3/")
        self.assertEqual((probe["method"], probe["path"]), ("PUT", "/books/v3/invoices"))
        self.assertEqual(probe["headers"]["x-unique-identifier-key"], "cf_togai_invoice")
        self.assertTrue(probe["headers"]["x-unique-identifier-value"].startswith("togai_zoho probe "))
        self.assertNotIn("x-upsert", probe["headers"])
        self.assertEqual(len(self.zoho.state()["invoices"]), before)

        cases = [
            ("'zoho', 'item', 'cf_x', '1'", "22023", "Zoho Books upserts no \"item\""),
            ("'zoho', NULL, 'cf_x', '1'", "22004", "entity must not be null"),
            ("'zoho', 'invoice', 'togai id', '1'", "22023", "is not the API name", "cf_togai_id"),
            ("'zoho', 'invoice', 'cf_togai_invoice', NULL", "22004", "customfield_id"),
            ("'zoho', 'invoice', 'cf_togai_invoice', 'Togai invoice'", "22023", "a number"),
            ("'zoho', 'contact', 'cf_togai_account', '11'", "22023", "index (1 to 10)"),
            # Zoho refuses a field it does not have, and one that allows duplicates
            ("'zoho', 'invoice', 'cf_nope', '46000000090002'", "22023",
             "does not find invoice objects by cf_nope", "HTTP 400, code 2", "Do not allow duplicate"),
            ("'zoho', 'invoice', 'cf_memo', '46000000090009'", "22023", "by cf_memo"),
            ("'togai', 'invoice', 'cf_togai_invoice', '1'", "42809", "not a zohobooks connection"),
            ("'nobody', 'invoice', 'cf_togai_invoice', '1'", "42704", "does not exist"),
        ]
        for args, sqlstate, *fragments in cases:
            with self.subTest(args=args):
                err = self.error("SELECT togai_zoho.set_zohobooks_unique_field(%s)" % args)
                self.assertSQLState(err, sqlstate, *fragments)
        # the refusals changed nothing
        self.assertEqual(self.value("SELECT api_name FROM togai_zoho.zohobooks_unique_field "
                                    "WHERE entity = 'invoice'"), "cf_togai_invoice")
        # NULL goes back to plain creates, and says whether there was a field
        out = self.json("SELECT togai_zoho.set_zohobooks_unique_field('zoho', 'payment', NULL)")
        self.assertEqual((out["upsert"], out["removed"]), (False, True))
        self.set_field(*SETUP[2])

    def test_every_create_is_an_upsert_by_the_togai_id(self):
        aid, invs = self.synced(1, ["80.40"])
        self.poll_togai()
        pay = self.collect(aid, {invs[0]["id"]: "30.00"})
        self.poll_togai()
        self.assertTrue(self.idle())
        self.refund(invs[0])

        (contact,) = self.contact_of(aid)
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        (payment,) = self.zoho_payments(aid)
        (note,) = self.credit_notes(invs[0])
        self.assertEqual(self.field(contact, "cf_togai_account"), [aid])
        self.assertEqual(self.field(z, "cf_togai_invoice"), [invs[0]["sequenceId"]])
        self.assertEqual(self.field(payment, "cf_togai_payment"), [pay["id"]])
        self.assertEqual(self.field(note, "cf_togai_note"), ["Refund " + invs[0]["sequenceId"]])
        # no plain create; each upsert names the Togai id and may create
        for path in COLLECTIONS:
            with self.subTest(path=path):
                writes = self.writes(path)
                self.assertEqual([r["method"] for r in writes], ["PUT"], writes)
                self.assertEqual(writes[0]["headers"].get("x-upsert"), "true")
        values = {r["path"]: r["headers"]["x-unique-identifier-value"]
                  for p in COLLECTIONS for r in self.writes(p)}
        self.assertEqual(values, {COLLECTIONS[0]: aid, COLLECTIONS[1]: invs[0]["sequenceId"],
                                  COLLECTIONS[2]: pay["id"], COLLECTIONS[3]: "Refund " + invs[0]["sequenceId"]})
        # the credit note still credits its invoice: its lines name it (the upsert has no parameter)
        self.assertEqual(note["invoice_id"], z["invoice_id"])
        self.assertEqual((cents(z["balance"]), cents(z["credits_applied"])), (Decimal("0.00"), Decimal("50.40")))
        self.assertEqual(self.zoho.undocumented(), [])

    def test_a_create_sent_twice_leaves_one_object_without_a_search(self):
        for path in COLLECTIONS[:3]:
            self.zoho.faults({"kind": "after_success_drop", "count": 1,
                              "match": {"method": "PUT", "path_prefix": path, "path_suffix": path[-8:]}})
        aid, invs = self.synced(1, ["64.00"])
        self.poll_togai()
        pay = self.collect(aid, {invs[0]["id"]: "64.00"})
        self.poll_togai()
        self.assertTrue(self.idle(90))
        self.assertEqual(len(self.contact_of(aid)), 1)
        self.assertEqual([i["reference_number"] for i in self.zoho.state()["invoices"]
                          if i.get("reference_number") == invs[0]["sequenceId"]], [invs[0]["sequenceId"]])
        self.assertEqual(len(self.zoho_payments(aid)), 1)
        for path in COLLECTIONS[:3]:
            with self.subTest(path=path):
                # the answer was lost once: the same upsert again, which found the object
                self.assertEqual([r["method"] for r in self.writes(path)], ["PUT", "PUT"])
                self.assertEqual(len({r["headers"]["x-unique-identifier-value"] for r in self.writes(path)}), 1)
        # and no search was needed to find it
        searches = [r for r in self.zoho.requests("/books/v3/") if r["method"] == "GET"
                    and (r["query"].get("search_text") or r["query"].get("reference_number"))]
        self.assertEqual(searches, [])
        self.assertEqual(value("SELECT togai_zoho.zohobooks_id('payment', %s)" % literal(pay["id"])),
                         self.zoho_payments(aid)[0]["payment_id"])
        self.assert_balances_equal(invs)
        self.assertEqual(sql("SELECT state, count(*) FROM togai_zoho.outbox GROUP BY 1"), [("done", "3")])

    def test_zohobooks_call_upserts_by_the_field(self):
        aid, invs = self.synced(1, ["9.00"])
        z = self.zoho_invoices()[invs[0]["sequenceId"]]
        found = self.json("SELECT togai_zoho.zohobooks_call('zoho', 'invoice_upsert', %s)" % literal(
            '{"unique_key": "cf_togai_invoice", "unique_value": "%s", "invoice": {"customer_id": "%s", '
            '"line_items": %s, "reference_number": "%s"}}'
            % (invs[0]["sequenceId"], z["customer_id"],
               '[{"item_id": "%s", "rate": 9, "quantity": 1}]' % z["line_items"][0]["item_id"],
               invs[0]["sequenceId"])))
        self.assertEqual(found["invoice_id"], z["invoice_id"])
        err = self.error("SELECT togai_zoho.zohobooks_call('zoho', 'invoice_upsert', "
                         "'{\"unique_key\": \"cf_togai_invoice\", \"unique_value\": \"nobody\", "
                         "\"invoice\": {}}')")
        self.assertSQLState(err, "TZ404", "Invoice does not exist.")
        err = self.error("SELECT togai_zoho.zohobooks_call('zoho', 'invoice_upsert', '{\"invoice\": {}}')")
        self.assertSQLState(err, "22023", "needs the string argument \"unique_key\"")
        self.assertEqual(len([i for i in self.zoho.state()["invoices"]
                              if i.get("reference_number") == invs[0]["sequenceId"]]), 1)

    def test_a_field_taken_off_gives_plain_creates_again(self):
        self.set_field("invoice", None, None)
        self.addCleanup(self.set_field, *SETUP[1])
        aid, invs = self.synced(1, ["12.00"])
        self.assertEqual([r["method"] for r in self.writes(COLLECTIONS[1])], ["POST"])
        self.assertEqual([r["method"] for r in self.writes(COLLECTIONS[0])], ["PUT"])
        self.assertEqual(self.field(self.zoho_invoices()[invs[0]["sequenceId"]], "cf_togai_invoice"), [])
