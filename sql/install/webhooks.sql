/*
 * webhooks.sql
 *	  Webhooks: an event pushed by either app lands where a poll would put it;
 *	  registering Zoho Books' webhook for a connection.
 */

CREATE FUNCTION togai_zoho.receive_webhook(connection text, payload jsonb)
	RETURNS bigint
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection;
	event text;
	obj jsonb;
	key text;
	entity text;
BEGIN
	c := togai_zoho.find_connection(receive_webhook.connection);
	IF payload IS NULL THEN
		RAISE EXCEPTION 'payload must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF jsonb_typeof(payload) <> 'object' THEN
		RAISE EXCEPTION 'a webhook payload must be a JSON object, not %', jsonb_typeof(payload)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	IF c.app = 'togai' THEN
		event := upper(coalesce(payload ->> 'eventType', payload ->> 'event_type',
								payload ->> 'type', payload ->> 'event', ''));
		/* the object: under data/object/payload/invoice/account, or the payload itself */
		FOREACH key IN ARRAY ARRAY['data', 'object', 'payload', 'invoice', 'account'] LOOP
			obj := togai_zoho.json_object_member(payload, key);
			EXIT WHEN obj IS NOT NULL;
		END LOOP;
		obj := coalesce(togai_zoho.json_object_member(obj, 'invoice'),
						togai_zoho.json_object_member(obj, 'account'), obj, payload);
		entity := CASE WHEN obj ? 'ownerId' OR (event LIKE '%INVOICE%' AND obj ? 'id') THEN 'invoice'
					   WHEN obj ? 'invoiceCurrency' OR obj ? 'customerId' OR obj ? 'togaiCustomerId'
							OR (event LIKE '%ACCOUNT%' AND obj ? 'id') THEN 'account' END;
		IF entity IS NULL OR nullif(obj ->> 'id', '') IS NULL THEN
			RAISE EXCEPTION 'the Togai event carries no account or invoice'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('Event type "%s"; keys: %s.', event,
									  (SELECT string_agg(k, ', ') FROM jsonb_object_keys(obj) k)),
					  HINT = 'Pass the event as Togai sent it, or the Account or Invoice object itself.';
		END IF;
		/* the body is a hint (Togai signs nothing): the object is read from Togai */
		IF entity = 'invoice' THEN
			RETURN togai_zoho.take_invoice(c, togai_zoho.togai_call(c.name, 'invoice_get',
				jsonb_build_object('invoice_id', obj ->> 'id')))::integer;
		END IF;
		RETURN togai_zoho.take_account(c, togai_zoho.togai_call(c.name, 'account_get',
			jsonb_build_object('account_id', obj ->> 'id')))::integer;
	END IF;

	/* Zoho Books: a workflow rule's body, {"payment": {...}}, {"invoice": ...}, or bare */
	FOREACH key IN ARRAY ARRAY['payment', 'customerpayment', 'customer_payment', 'invoice', 'contact'] LOOP
		obj := togai_zoho.json_object_member(payload, key);
		IF obj IS NOT NULL THEN
			entity := CASE WHEN key LIKE '%payment' THEN 'payment' ELSE key END;
			EXIT;
		END IF;
	END LOOP;
	IF obj IS NULL THEN
		obj := payload;
		entity := CASE WHEN obj ? 'payment_id' THEN 'payment' WHEN obj ? 'invoice_id' THEN 'invoice'
					   WHEN obj ? 'contact_id' THEN 'contact' END;
	END IF;
	IF entity IS NULL OR nullif(obj ->> (entity || '_id'), '') IS NULL THEN
		RAISE EXCEPTION 'the Zoho Books event carries no payment, invoice or contact'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Keys: %s.', (SELECT string_agg(k, ', ') FROM jsonb_object_keys(obj) k)),
				  HINT = 'Compose the workflow rule''s body as {"payment": {"payment_id": "${CustomerPayment.PaymentID}", ...}}, or send payment_id, invoice_id or contact_id.';
	END IF;
	/* the invoices a payment pays are read from Zoho Books when the event lacks them */
	IF entity = 'payment' AND jsonb_typeof(obj -> 'invoices') IS DISTINCT FROM 'array' THEN
		obj := togai_zoho.zohobooks_call(c.name, 'payment_get',
										 jsonb_build_object('payment_id', obj ->> 'payment_id'));
	END IF;
	RETURN togai_zoho.mirror_inbox(c.id, entity, obj, 'webhook')::integer;
END
$$;
COMMENT ON FUNCTION togai_zoho.receive_webhook(text, jsonb) IS
'Hands in an event pushed by Togai (account or invoice) or Zoho Books (payment, invoice, contact); lands where a poll would put it. Returns 1 when it changed something, 0 for a repeat';

CREATE FUNCTION togai_zoho.register_zohobooks_webhook(connection text, url text, secret text,
	events text[] DEFAULT ARRAY['invoice_updated', 'customerpayment_created', 'contact_updated'])
	RETURNS text
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET log_min_error_statement = panic
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(register_zohobooks_webhook.connection,
														   'zohobooks');
	hook jsonb;
BEGIN
	PERFORM togai_zoho.normalize_url(url, 'url');
	IF secret IS NULL OR secret !~ '^[A-Za-z0-9]{12,50}$' THEN
		RAISE EXCEPTION 'a Zoho Books webhook secret is 12 to 50 letters and digits'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Put the same secret in the receiver''s secrets file.';
	END IF;
	IF events IS NULL OR cardinality(events) = 0 THEN
		RAISE EXCEPTION 'events must name at least one event' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	hook := togai_zoho.zohobooks_call(c.name, 'webhook_create', jsonb_build_object('webhook',
		jsonb_build_object('url', url, 'events', to_jsonb(events), 'secret', secret)));
	UPDATE togai_zoho.connection x
	   SET webhook_url = url, webhook_id = hook ->> 'webhook_id', webhook_registered_at = now(),
		   updated_at = now()
	 WHERE x.id = c.id;
	RETURN hook ->> 'webhook_id';
END
$$;
COMMENT ON FUNCTION togai_zoho.register_zohobooks_webhook(text, text, text, text[]) IS
'Registers the receiver''s URL as a Zoho Books webhook (POST /settings/webhooks) signed with secret; from then on the connection''s polls only sweep (togai_zoho.poll_sweep). Returns Zoho''s webhook id';
REVOKE ALL ON FUNCTION togai_zoho.register_zohobooks_webhook(text, text, text, text[]) FROM PUBLIC;

CREATE FUNCTION togai_zoho.forget_zohobooks_webhook(connection text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(forget_zohobooks_webhook.connection,
														   'zohobooks');
BEGIN
	UPDATE togai_zoho.connection x
	   SET webhook_url = NULL, webhook_id = NULL, webhook_registered_at = NULL, updated_at = now()
	 WHERE x.id = c.id;
	RAISE NOTICE 'togai_zoho: polls of connection "%" no longer count on webhooks', c.name
		USING HINT = 'Delete the webhook in Zoho Books (Settings, Automation) if it is still there.';
END
$$;
COMMENT ON FUNCTION togai_zoho.forget_zohobooks_webhook(text) IS
'Polls of the connection go back to their own pacing (the webhook at Zoho Books is left as it is)';
REVOKE ALL ON FUNCTION togai_zoho.forget_zohobooks_webhook(text) FROM PUBLIC;
