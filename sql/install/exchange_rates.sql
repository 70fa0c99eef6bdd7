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
 * Per Zoho Books connection whose base currency is not the object's: the
 * currency, its Zoho Books id, the date, and Togai's rate if it has one.
 */
CREATE FUNCTION togai_zoho.exchange_plans(currency text, day text, togai_rate numeric,
										  zohobooks_connections bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_object_agg(c.id::text, jsonb_strip_nulls(jsonb_build_object(
		'currency', currency, 'base', c.base_currency, 'currency_id', z.currency_id, 'date', day,
		'rate', togai_rate, 'source', CASE WHEN togai_rate IS NOT NULL THEN 'Togai' END)))
  FROM togai_zoho.connection c
  LEFT JOIN togai_zoho.zohobooks_currency z ON z.connection_id = c.id AND z.currency_code = currency
 WHERE c.id = ANY (zohobooks_connections) AND c.base_currency IS NOT NULL
   AND currency IS NOT NULL AND c.base_currency <> currency
$$;
COMMENT ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) IS
'Internal: per Zoho Books connection whose base currency differs, what an invoice or payment in currency needs for its exchange rate on day';
REVOKE ALL ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) FROM PUBLIC;
