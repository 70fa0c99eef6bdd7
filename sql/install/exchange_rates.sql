/*
 * exchange_rates.sql
 *	  Invoices and payments in a currency other than the organization's base
 *	  carry an exchange rate: Togai's where the object has one (its API
 *	  documents none; an exchangeRate member is read if present), else Zoho
 *	  Books' own for the date, which the job reads (GET
 *	  /settings/currencies/{id}/exchangerates, the rate of that date or the
 *	  closest before it).  The job's result says which.
 */

/*
 * Zoho Books' rates as jobs read them, per organization, currency and day
 * asked: a billing run of many invoices of one date reads each rate once.  A
 * rate read more than a day ago is read again (someone may have added one).
 */
CREATE TABLE togai_zoho.zohobooks_exchange_rate (
	connection_id  bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	currency_code  text NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
	day            date NOT NULL,
	rate           numeric CHECK (rate > 0),
	effective_date text CHECK (length(effective_date) <= 64),
	learnt_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, currency_code, day)
);
COMMENT ON TABLE togai_zoho.zohobooks_exchange_rate IS
'Zoho Books exchange rates read by jobs, per organization, currency and day (a cache: used for a day after it is read; delete rows to read again)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.currency_code IS 'ISO 4217 code of the object''s currency';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.day IS 'The day asked (the invoice''s or payment''s date)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.rate IS 'Zoho Books'' rate for that day or the closest before it; NULL: it has none';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.effective_date IS 'The date of the rate found, as Zoho Books wrote it';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.learnt_at IS 'When it was read';

/*
 * Per Zoho Books connection whose base currency is not the object's: the
 * currency, its Zoho Books id, the date, Togai's rate if it has one, and
 * Zoho Books' rate of that date if a job read it within the day (cached).
 */
CREATE FUNCTION togai_zoho.exchange_plans(currency text, day text, togai_rate numeric,
										  zohobooks_connections bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_object_agg(c.id::text, jsonb_strip_nulls(jsonb_build_object(
		'currency', currency, 'base', c.base_currency, 'currency_id', z.currency_id,
		'date', exchange_plans.day,
		'rate', togai_rate, 'source', CASE WHEN togai_rate IS NOT NULL THEN 'Togai' END,
		'cached', CASE WHEN r.day IS NOT NULL THEN jsonb_build_object('rate', r.rate,
															 'date', r.effective_date) END)))
  FROM togai_zoho.connection c
  LEFT JOIN togai_zoho.zohobooks_currency z ON z.connection_id = c.id AND z.currency_code = currency
  LEFT JOIN togai_zoho.zohobooks_exchange_rate r
	ON r.connection_id = c.id AND r.currency_code = currency
   AND r.day = CASE WHEN exchange_plans.day ~ '^\d{4}-\d{2}-\d{2}$' THEN exchange_plans.day::date END
   AND r.learnt_at > now() - interval '1 day' 
 WHERE c.id = ANY (zohobooks_connections) AND c.base_currency IS NOT NULL
   AND currency IS NOT NULL AND c.base_currency <> currency
$$;
COMMENT ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) IS
'Internal: per Zoho Books connection whose base currency differs, what an invoice or payment in currency needs for its exchange rate on day';
REVOKE ALL ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) FROM PUBLIC;
