/*
 * ready_flows.sql
 *	  The ready flows, backfill of existing rows, and previews of what a flow
 *	  would send.
 */

CREATE FUNCTION togai_zoho.install_default_flows(togai_connection text, zohobooks_connection text)
	RETURNS SETOF text
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	t togai_zoho.connection;
	z togai_zoho.connection;
	d record;
	existing togai_zoho.flow;
	step jsonb;
BEGIN
	t := togai_zoho.find_connection(togai_connection, 'togai');
	z := togai_zoho.find_connection(zohobooks_connection, 'zohobooks');
	FOR d IN
		SELECT * FROM (VALUES
			(1, 'Sync accounts created from Togai to ZohoBooks', 'outbound', t.name, 'account_changed',
			 'A new Togai account becomes a Zoho Books contact, kept up to date; the contact id is written back onto the account',
			 jsonb_build_array(jsonb_build_array(z.name, 'contact_upsert', '{}'::jsonb),
							   jsonb_build_array(t.name, 'account_write_back', '{}'::jsonb))),
			(2, 'Create an invoice in ZohoBooks on Togai invoice', 'outbound', t.name, 'invoice_generated',
			 'When an ongoing Togai invoice is generated, the Zoho Books invoice is created for the account''s contact and marked sent; prepaid credits applied in Togai become a credit note applied to it',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_create', '{"mark_sent": true}'::jsonb),
							   jsonb_build_array(z.name, 'invoice_credits', '{}'::jsonb))),
			(3, 'Void the ZohoBooks invoice of a voided Togai invoice', 'outbound', t.name, 'invoice_voided',
			 'A voided Togai invoice voids its Zoho Books invoice',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_void', '{}'::jsonb))),
			(4, 'Record ZohoBooks payments in Togai', 'inbound', z.name, 'payment_recorded',
			 'A payment recorded in Zoho Books against synced invoices is recorded in Togai, once',
			 jsonb_build_array(jsonb_build_array(t.name, 'payment_record', '{}'::jsonb))),
			(5, 'Record Togai payments in ZohoBooks', 'outbound', t.name, 'payment_collected',
			 'A payment collected in Togai (its gateway, or entered by hand) is recorded in Zoho Books against the synced invoices, once; one that came from Zoho Books is not sent back',
			 jsonb_build_array(jsonb_build_array(z.name, 'payment_apply', '{}'::jsonb))),
			(6, 'Write off the ZohoBooks invoice of an uncollectible Togai invoice', 'outbound', t.name,
			 'invoice_written_off',
			 'A Togai invoice written off as uncollectible writes off the balance of its Zoho Books invoice',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_write_off', '{}'::jsonb))),
			(7, 'Refund the ZohoBooks invoice of a refunded Togai invoice', 'outbound', t.name,
			 'invoice_refunded',
			 'A refunded Togai invoice gets a credit note in Zoho Books: applied to what is unpaid, the paid amount refunded',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_refund', '{}'::jsonb))),
			(8, 'Update the ZohoBooks invoice of a changed Togai invoice', 'outbound', t.name,
			 'invoice_updated',
			 'A generated Togai invoice that changes (a charge added, finished late) updates its Zoho Books invoice while nothing is paid on it; after that the difference is said in the job''s result',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_update', '{}'::jsonb)))
		) AS v(n, name, direction, source, trigger, description, actions)
		ORDER BY n
	LOOP
		SELECT * INTO existing FROM togai_zoho.flow f WHERE f.name = d.name;
		IF FOUND THEN
			IF existing.trigger_connection_id <> (togai_zoho.find_connection(d.source)).id THEN
				RAISE EXCEPTION 'flow "%" exists already, for another connection', d.name
					USING ERRCODE = 'duplicate_object',
						  HINT = 'Drop or rename it (drop_flow) to install the ready flows for these connections.';
			END IF;
			RAISE NOTICE 'flow "%" exists already: left as it is', d.name;
			RETURN NEXT d.name;
			CONTINUE;
		END IF;
		PERFORM togai_zoho.create_flow(d.name, d.direction, d.source, d.trigger, d.description);
		FOR step IN SELECT e FROM jsonb_array_elements(d.actions) e LOOP
			PERFORM togai_zoho.add_flow_action(d.name, step ->> 0, step ->> 1, step -> 2);
		END LOOP;
		PERFORM togai_zoho.set_flow_enabled(d.name, true);
		RETURN NEXT d.name;
	END LOOP;
END
$$;
COMMENT ON FUNCTION togai_zoho.install_default_flows(text, text) IS
'Creates and enables the ready flows (accounts to contacts with write-back, generated invoices, voided invoices, Zoho Books payments to Togai, Togai payments to Zoho Books, write-offs, refunds, invoice updates) for a Togai and a Zoho Books connection; returns their names';

/*
 * What a backfill costs at Zoho Books: calls per job of each action (a
 * backfilled job searches before it creates: two calls for a contact or an
 * invoice, plus a share of a bulk call to mark invoices sent) times the
 * jobs, and the days that takes within the day's budget less the polls'
 * share.  Togai calls are not budgeted.
 */
CREATE FUNCTION togai_zoho.backfill_calls_per_job(action text)
	RETURNS numeric
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE action WHEN 'contact_upsert' THEN 2 WHEN 'payment_apply' THEN 2
				   WHEN 'invoice_create' THEN 2.01 WHEN 'invoice_refund' THEN 5 ELSE 1 END::numeric
$$;
COMMENT ON FUNCTION togai_zoho.backfill_calls_per_job(text) IS
'Internal: the Zoho Books calls a backfilled job of the action makes (a search, then the create)';
REVOKE ALL ON FUNCTION togai_zoho.backfill_calls_per_job(text) FROM PUBLIC;

CREATE FUNCTION togai_zoho.backfill_cost(flow_id bigint, jobs bigint, OUT calls bigint, OUT days numeric)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ceil(jobs * coalesce(sum(togai_zoho.backfill_calls_per_job(a.action)), 0))::bigint,
	   round(max(ceil(jobs * togai_zoho.backfill_calls_per_job(a.action))
				 / (c.api_per_day * (1 - current_setting('togai_zoho.poll_share')::numeric))), 1)
  FROM togai_zoho.flow_action a
  JOIN togai_zoho.connection c ON c.id = a.connection_id AND c.app = 'zohobooks'
 WHERE a.flow_id = backfill_cost.flow_id
$$;
COMMENT ON FUNCTION togai_zoho.backfill_cost(bigint, bigint) IS
'Internal: the Zoho Books calls a backfill of that many jobs needs, and the days they take within the budget (NULL without a daily budget)';
REVOKE ALL ON FUNCTION togai_zoho.backfill_cost(bigint, bigint) FROM PUBLIC;

/* Backfilled jobs look for their remote objects before they create them. */
CREATE FUNCTION togai_zoho.backfill(flow text)
	RETURNS bigint
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	f togai_zoho.flow;
	t togai_zoho.trigger_def;
	zoho_connections bigint[];
	src record;
	n bigint := 0;
	every constant integer := 5000;
	entities text[] := '{}';
	ids text[] := '{}';
	payloads jsonb[] := '{}';
	est record;
BEGIN
	f := togai_zoho.find_flow(backfill.flow);
	IF NOT f.enabled THEN
		RAISE EXCEPTION 'flow "%" is disabled', f.name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Enable it first with set_flow_enabled(); a disabled flow sends nothing.';
	END IF;
	SELECT * INTO t FROM togai_zoho.trigger_def d WHERE d.name = f.trigger;
	SELECT array_agg(a.connection_id) INTO zoho_connections
	  FROM togai_zoho.flow_action a JOIN togai_zoho.connection c ON c.id = a.connection_id
	 WHERE a.flow_id = f.id AND c.app = 'zohobooks';

	FOR src IN
		/* accounts without a contact */
		SELECT 'account' AS entity, x.account_id AS source_id, to_jsonb(x) AS payload
		  FROM togai_zoho.customers x
		 WHERE t.entity = 'account' AND x.connection_id = f.trigger_connection_id
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'account' AND m.togai_connection_id = x.connection_id
							  AND m.togai_id = x.account_id
							  AND m.zohobooks_connection_id = ANY (zoho_connections))
		UNION ALL
		/* generated invoices without a Zoho invoice; voided or written off ones that have one */
		SELECT 'invoice', x.invoice_id, to_jsonb(x)
		  FROM togai_zoho.invoices x
		 WHERE t.entity = 'invoice' AND t.app = 'togai' AND x.connection_id = f.trigger_connection_id
		   AND CASE f.trigger
				   WHEN 'invoice_generated' THEN togai_zoho.invoice_is_generated(x.status)
						AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
										 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
										   AND m.togai_id = x.invoice_id
										   AND m.zohobooks_connection_id = ANY (zoho_connections))
				   /* a backfill does not know what changed: nothing to update */
				   WHEN 'invoice_updated' THEN false
				   ELSE x.status = CASE f.trigger WHEN 'invoice_voided' THEN 'VOID'
											  WHEN 'invoice_refunded' THEN 'REFUND_COMPLETED'
											  ELSE 'UN_COLLECTIBLE' END
						AND EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
									 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
									   AND m.togai_id = x.invoice_id) END
		UNION ALL
		/* Togai payments not in Zoho Books yet (an echo of a Zoho Books payment does nothing) */
		SELECT 'payment', x.payment_id, to_jsonb(x)
		  FROM togai_zoho.payments x
		 WHERE t.entity = 'payment' AND t.app = 'togai' AND x.connection_id = f.trigger_connection_id
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'payment' AND m.togai_connection_id = x.connection_id
							  AND m.togai_id = x.payment_id
							  AND m.zohobooks_connection_id = ANY (zoho_connections))
		UNION ALL
		/* Zoho Books objects of the flow's kind not recorded in Togai yet */
		SELECT x.entity, x.remote_id, to_jsonb(x)
		  FROM togai_zoho.inbox x
		 WHERE t.app = 'zohobooks' AND x.connection_id = f.trigger_connection_id
		   AND x.entity = t.entity
		   AND (f.trigger <> 'invoice_paid' OR x.status = 'paid')
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'payment' AND m.zohobooks_connection_id = x.connection_id
							  AND m.zohobooks_id = CASE x.entity WHEN 'invoice' THEN 'invoice:' || x.remote_id
														 ELSE x.remote_id END)
	LOOP
		entities := entities || src.entity;
		ids := ids || src.source_id;
		payloads := payloads || src.payload;
		n := n + 1;
		IF n % every = 0 THEN
			/*
			 * may_exist: what existed before the flow may have a remote
			 * object already (a connection added again after its mappings
			 * went): each job looks for it, by reading, before it creates one.
			 */
			PERFORM togai_zoho.write_jobs(f.id, f.trigger_connection_id, entities, ids, payloads, true);
			entities := '{}'; ids := '{}'; payloads := '{}';
			RAISE NOTICE 'backfill of flow "%": % rows enqueued so far', f.name, n;
		END IF;
	END LOOP;
	PERFORM togai_zoho.write_jobs(f.id, f.trigger_connection_id, entities, ids, payloads, true);
	PERFORM togai_zoho.notify_worker();
	SELECT * INTO est FROM togai_zoho.backfill_cost(f.id, n);
	UPDATE togai_zoho.flow x SET backfill_calls = est.calls, backfill_days = est.days,
		   backfill_at = now()
	 WHERE x.id = f.id;
	RAISE NOTICE 'backfill of flow "%": % rows enqueued, about % API calls%', f.name, n, est.calls,
		CASE WHEN est.days IS NOT NULL
			 THEN format(', %s days within the daily budget', est.days)
			 ELSE ' (no daily budget set)' END
		USING HINT = 'sync_status shows them being delivered; togai_zoho.api_usage the calls.';
	RETURN n;
END
$$;
COMMENT ON FUNCTION togai_zoho.backfill(text) IS
'Enqueues every existing source row of an enabled flow not synced yet; NOTICE every 5000 rows; returns the number enqueued';

CREATE FUNCTION togai_zoho.preview_flow(flow text, sample jsonb DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE C
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS 'MODULE_PATHNAME', 'preview_flow';
COMMENT ON FUNCTION togai_zoho.preview_flow(text, jsonb) IS
'The exact requests the flow''s actions would send for a sample source row (or the latest one), secrets masked; sends nothing';
