-- Zoho Books line items of Togai invoices, exact to the minor unit
CREATE FUNCTION pg_temp.lines(total numeric, currency text, nodes jsonb) RETURNS jsonb
LANGUAGE sql AS $$
SELECT togai_zoho.invoice_line_items(jsonb_build_object(
	'invoice_id', 'inv.t', 'sequence_id', 'T-1', 'currency', currency, 'total_amount', total,
	'revenue_info', jsonb_build_object('type', 'TOTAL_AMOUNT', 'lineItems', nodes)))
$$;
-- what Zoho Books bills for the lines: each line rounded half-up, plus the adjustment
CREATE FUNCTION pg_temp.billed(r jsonb, digits integer) RETURNS numeric
LANGUAGE sql AS $$
SELECT coalesce(sum(round((l ->> 'quantity')::numeric * (l ->> 'rate')::numeric, digits)), 0)
	   + coalesce((r ->> 'adjustment')::numeric, 0)
  FROM jsonb_array_elements(r -> 'lines') l
$$;

-- quantity x rate when it gives the value; fractional quantities and rates kept as they are
SELECT pg_temp.lines(39.17, 'USD', '[
	{"description": "API calls", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 12500, "valuePerQuantity": 0.002, "value": 25},
	{"description": "Storage", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 12.5, "valuePerQuantity": 0.35, "value": 4.38},
	{"description": "Overage", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 0.333, "valuePerQuantity": 3.03, "value": 1.01},
	{"description": "Half cents", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 3, "valuePerQuantity": 0.005, "value": 0.02},
	{"description": "Tiered", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 17, "valuePerQuantity": 9.99, "value": 8.76}]') AS r \gset
SELECT jsonb_pretty(:'r'::jsonb);
SELECT pg_temp.billed(:'r', 2) AS billed;

-- wrappers are looked through; a discount travels in the adjustment; usage nodes are not money
SELECT jsonb_pretty(pg_temp.lines(881.94, 'USD', '[{"description": "Net", "type": "NET_AMOUNT", "value": 881.94,
	"lineItems": [{"description": "Gross", "type": "GROSS_AMOUNT", "value": 981.94, "lineItems": [
		{"description": "Payout NEFT", "type": "USAGE_RATE_CARD_AMOUNT", "value": 392,
		 "lineItems": [{"description": "Slab 1", "type": "USAGE_RATE_CARD_SLAB_AMOUNT", "quantity": 10000, "valuePerQuantity": 0.001, "value": 10}]},
		{"description": "Payout IMPS", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 32109, "valuePerQuantity": 0.001, "value": 589.94},
		{"description": "Rides", "type": "USAGE_METER_USAGE", "value": 15},
		{"description": "Credit", "type": "CREDIT_GRANT_RATE_CARD_AMOUNT", "value": -20}]}]}]'));

-- currencies without cents, and with three decimals
SELECT pg_temp.lines(1235, 'JPY', '[{"description": "Calls", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 3, "valuePerQuantity": 411.5, "value": 1235}]');
SELECT pg_temp.lines(1.235, 'KWD', '[{"description": "Calls", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 5, "valuePerQuantity": 0.247, "value": 1.235}]');

-- more significant digits than a double carries: billed by value
SELECT pg_temp.lines(12.35, 'USD', '[{"description": "Precise", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 1234567.891234567891, "valuePerQuantity": 0.00001, "value": 12.35}]');

-- zero-amount, no lines, lines that are not objects or have no value
SELECT pg_temp.lines(0, 'USD', '[{"description": "Free tier", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 1, "valuePerQuantity": 0, "value": 0}]');
SELECT pg_temp.lines(0, 'USD', '[]');
SELECT pg_temp.lines(42.42, 'USD', '[3, "x", {"description": "No value", "type": "FIXED_FEE_RATE_CARD_AMOUNT"}]');
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.bare", "total_amount": 7.5}');

-- a varied corpus: every invoice billed to the cent of its total
SELECT count(*) AS invoices,
	   count(*) FILTER (WHERE pg_temp.billed(r, 2) = total) AS billed_to_the_cent
  FROM (SELECT total, pg_temp.lines(total, 'USD', nodes) AS r
		  FROM (SELECT g, round(sum(round(q * p, 2)) + (g % 7) * 0.01 - (g % 3) * 1.1, 2) AS total,
					   jsonb_agg(jsonb_build_object('description', 'Line ' || k || ' – ünïcode ✓',
						   'type', 'USAGE_RATE_CARD_AMOUNT', 'quantity', q, 'valuePerQuantity', p,
						   'value', CASE WHEN k % 5 = 0 THEN round(q * p, 2) + 0.01 ELSE round(q * p, 2) END)) AS nodes
				  FROM generate_series(1, 200) g,
					   LATERAL (SELECT k, round((g * k % 97) / 7.0, 3) AS q,
									   round((k * 13 % 41) / 3.0, 4) AS p
								  FROM generate_series(1, 1 + g % 40) k) l
				 GROUP BY g) x
		 WHERE total >= 0) c;

-- amounts as strings are read; malformed ones never raise (the worker's claim computes this)
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.s", "total_amount": "12.30"}');
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.m", "total_amount": "12,30 EUR",
	"revenue_info": {"lineItems": [{"description": "x", "value": 1, "quantity": "lots", "valuePerQuantity": "1e999999"}]}}');
SELECT togai_zoho.job_context('invoice', 1, '{"total_amount": {"nested": true}, "revenue_info": []}');

-- taxes are never lines: the net beside the total tax stands for its children; each tax line
-- with its rate (from its metadata, or its amount over the lines' sum); none without tax lines
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.tax", "total_amount": 179.99, "currency": "USD",
	"revenue_info": {"type": "TOTAL_AMOUNT", "value": 179.99, "lineItems": [
		{"type": "NET_AMOUNT", "description": "Net", "value": 149.99, "lineItems": [
			{"description": "Seats", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 3, "valuePerQuantity": 33.33, "value": 99.99},
			{"description": "Support", "type": "FIXED_FEE_RATE_CARD_AMOUNT", "quantity": 1, "valuePerQuantity": 50, "value": 50}]},
		{"type": "TOTAL_TAX_AMOUNT", "description": "Taxes", "value": 30.00, "lineItems": [
			{"type": "TAX_AMOUNT", "description": "VAT", "value": 30.00, "lineItems": []}]}]}}');
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.tax2", "total_amount": 110.4, "currency": "USD",
	"revenue_info": {"type": "TOTAL_AMOUNT", "value": 110.4, "lineItems": [
		{"description": "Calls", "type": "USAGE_RATE_CARD_AMOUNT", "quantity": 1000, "valuePerQuantity": 0.1, "value": 100},
		{"type": "TOTAL_TAX_AMOUNT", "description": "Sales tax", "value": 10.4, "lineItems": [
			{"type": "TAX_AMOUNT", "description": "State", "value": 6.25, "metadata": {"rate": 6.25}, "lineItems": []},
			{"type": "TAX_AMOUNT", "description": "County", "value": 4.15, "quantity": 100, "lineItems": []}]}]}}');
SELECT togai_zoho.invoice_line_items('{"invoice_id": "inv.tax3", "total_amount": 12, "currency": "USD",
	"revenue_info": {"type": "TOTAL_AMOUNT", "value": 12, "lineItems": [
		{"description": "Seat", "type": "FIXED_FEE_RATE_CARD_AMOUNT", "quantity": 1, "valuePerQuantity": 10, "value": 10},
		{"type": "TOTAL_TAX_AMOUNT", "description": "GST", "value": 2, "lineItems": []}]}}');
