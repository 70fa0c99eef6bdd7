"""Runs after every other suite: the extension sent Zoho Books no query parameter that Zoho does
not document for the operation (test/mock/zohobooks-api.json). A live service may ignore such a
parameter silently, and a poll that relies on one re-reads whole lists."""

import unittest

import harness


class DocumentedCalls(unittest.TestCase):

    def test_no_undocumented_zoho_parameter_was_sent(self):
        for m in list(harness.RUNNING_MOCKS):
            if m.app == "zohobooks":
                harness.UNDOCUMENTED.extend(m.undocumented())
                m.call("DELETE", "undocumented")
        sent = sorted({"%s %s" % (u["operation"], u["parameter"]) for u in harness.UNDOCUMENTED})
        self.assertEqual(sent, [], "undocumented Zoho Books query parameters sent")
