/*
 * polling_togai.sql
 *	  Polling Togai at the cost of what can still change.  Togai's lists have
 *	  no changed-since filter, so a poll reads only what can move: the invoices
 *	  in the statuses of togai_zoho.togai_open_statuses (the status filter), the
 *	  invoices of a recent window (start_time), the customers and accounts made
 *	  since the last walk (from the token of the list's last page) and a new
 *	  account's invoices (owner_id).  An invoice that drops out
 *	  of the open lists is read alone.  A slow sweep (togai_zoho.togai_sweep)
 *	  walks every list in full for anything else.  While Togai's webhooks are
 *	  set up (set_togai_webhook), even those reads wait togai_zoho.poll_sweep.
 *
 *	  Each list is a stream of sync_cursor: 'customers', 'accounts' and
 *	  'invoices' are the sweep's; 'customers:new', 'accounts:new',
 *	  'invoices:<STATUS>', 'invoices:recent' and 'invoices:moved' the frequent
 *	  reads.  Payments (for a payment_collected flow) never change once made:
 *	  'payments' is walked whole once, 'payments:new' reads on from its tail.
 */

CREATE TABLE togai_zoho.togai_open_invoice (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	invoice_id    text NOT NULL,
	status        text NOT NULL,
	seen_at       timestamptz NOT NULL,
	ends_at       timestamptz,
	PRIMARY KEY (connection_id, invoice_id)
);
/* what a poll reads alone: those that left the lists, and drafts at their period's end */
CREATE INDEX togai_open_invoice_left_idx ON togai_zoho.togai_open_invoice (connection_id, seen_at)
	WHERE status <> 'DRAFT';
CREATE INDEX togai_open_invoice_ending_idx ON togai_zoho.togai_open_invoice (connection_id, ends_at)
	WHERE status = 'DRAFT';
COMMENT ON TABLE togai_zoho.togai_open_invoice IS
'Togai invoices last seen in a status that can still move (togai_zoho.togai_open_statuses) and ongoing drafts, none of them mirrored yet or any more: one missing from the latest walks of those lists, or a draft past its period''s end, is read alone';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.connection_id IS 'The Togai connection';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.invoice_id IS 'The Togai invoice';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.status IS 'Its status when last seen';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.seen_at IS 'When a list, a read or a webhook last showed it';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.ends_at IS 'A draft''s period end (endDate): from then on it is read alone until it leaves DRAFT';
REVOKE ALL ON togai_zoho.togai_open_invoice FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.togai_open_invoice', '');

/* The statuses every poll reads, from togai_zoho.togai_open_statuses. */
CREATE FUNCTION togai_zoho.togai_open_statuses()
	RETURNS text[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ARRAY(SELECT btrim(s) FROM unnest(string_to_array(coalesce(
		current_setting('togai_zoho.togai_open_statuses', true),
		'DUE,PARTIALLY_PAID,REFUND_INITIATED,REFUND_COMPLETED'), ',')) s
			  WHERE btrim(s) <> '')
$$;
COMMENT ON FUNCTION togai_zoho.togai_open_statuses() IS
'The Togai invoice statuses every poll reads (togai_zoho.togai_open_statuses; its default before the library is loaded)';
REVOKE ALL ON FUNCTION togai_zoho.togai_open_statuses() FROM PUBLIC;

/* Notes an invoice as seen now: kept while its status can move, forgotten once not. */
CREATE FUNCTION togai_zoho.note_togai_invoice(connection_id bigint, invoice jsonb)
	RETURNS void
	LANGUAGE sql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH settled AS (
	DELETE FROM togai_zoho.togai_open_invoice o
	 WHERE o.connection_id = note_togai_invoice.connection_id AND o.invoice_id = invoice ->> 'id'
	   AND NOT coalesce(invoice ->> 'status' = ANY (togai_zoho.togai_open_statuses() || 'DRAFT'::text), false))
INSERT INTO togai_zoho.togai_open_invoice AS o (connection_id, invoice_id, status, seen_at, ends_at)
SELECT note_togai_invoice.connection_id, invoice ->> 'id', invoice ->> 'status', clock_timestamp(),
	   CASE WHEN invoice ->> 'status' = 'DRAFT' THEN togai_zoho.remote_time(invoice ->> 'endDate') END
 WHERE invoice ->> 'status' = ANY (togai_zoho.togai_open_statuses() || 'DRAFT'::text) AND invoice ->> 'id' <> ''
ON CONFLICT (connection_id, invoice_id) DO UPDATE
	SET status = EXCLUDED.status, seen_at = EXCLUDED.seen_at, ends_at = EXCLUDED.ends_at
$$;
COMMENT ON FUNCTION togai_zoho.note_togai_invoice(bigint, jsonb) IS
'Internal: notes where a Togai invoice was seen (in togai_open_invoice while its status can move, a draft with its period''s end)';
REVOKE ALL ON FUNCTION togai_zoho.note_togai_invoice(bigint, jsonb) FROM PUBLIC;

/* Whether a stream's walk is under way or its last whole walk is older than every. */
CREATE FUNCTION togai_zoho.stream_due(connection_id bigint, stream text, every interval)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT cur ? 'next_token' OR cur ? 'walk_started' OR cur ->> 'last_full_walk' IS NULL
	   OR (cur ->> 'last_full_walk')::timestamptz <= clock_timestamp() - every
  FROM togai_zoho.get_cursor(stream_due.connection_id, stream_due.stream) AS cur
$$;
COMMENT ON FUNCTION togai_zoho.stream_due(bigint, text, interval) IS
'Internal: whether a polled stream is to be read now (a walk under way, or none within every)';
REVOKE ALL ON FUNCTION togai_zoho.stream_due(bigint, text, interval) FROM PUBLIC;

/*
 * The streams a poll of a Togai connection reads now, in order: the sweep's
 * first until the accounts were walked once (the frequent reads build on
 * the mirror); else the frequent reads, least recently read first (so that
 * a small max_pages still reaches them all; a whole poll reads new
 * customers, new accounts, the open lists, then the invoices that left
 * them), then the sweep's.
 */
CREATE FUNCTION togai_zoho.togai_poll_plan(c togai_zoho.connection)
	RETURNS text[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH payments AS (
	/* Togai's payments are read only for an enabled flow that carries them */
	SELECT EXISTS (SELECT 1 FROM togai_zoho.flow f
				    WHERE f.trigger_connection_id = c.id AND f.enabled
					  AND f.trigger = 'payment_collected') AS wanted
), due AS (
	SELECT u.s, u.n FROM unnest(ARRAY(SELECT togai_zoho.poll_order(c.id,
			ARRAY['customers:new', 'accounts:new']
			|| ARRAY(SELECT 'invoices:' || t FROM unnest(togai_zoho.togai_open_statuses()) t)
			|| ARRAY['invoices:recent', 'invoices:moved']
			|| ARRAY(SELECT 'payments:new' FROM payments WHERE wanted)))) WITH ORDINALITY AS u(s, n)
	 WHERE (c.webhook_url IS NULL
			OR togai_zoho.stream_due(c.id, u.s, current_setting('togai_zoho.poll_sweep')::interval))
	   AND (u.s NOT LIKE '%:new' OR togai_zoho.get_cursor(c.id, u.s) ? 'tail')
), sweep AS (
	SELECT u.s, u.n FROM unnest(ARRAY['customers', 'accounts', 'invoices']) WITH ORDINALITY AS u(s, n)
	 WHERE togai_zoho.stream_due(c.id, u.s, current_setting('togai_zoho.togai_sweep')::interval)
	UNION ALL
	/*
	 * A payment never changes once made: the whole list is walked once, for
	 * the tail that payments:new reads on from (and again after sweep_now)
	 */
	SELECT 'payments', 4 FROM payments
	 WHERE wanted AND togai_zoho.stream_due(c.id, 'payments', '1000 years')
)
SELECT CASE WHEN togai_zoho.get_cursor(c.id, 'accounts') ? 'last_full_walk'
			THEN coalesce((SELECT array_agg(s ORDER BY n) FROM due), '{}')
				 || coalesce((SELECT array_agg(s ORDER BY n) FROM sweep), '{}')
			ELSE coalesce((SELECT array_agg(s ORDER BY n) FROM sweep), '{}')
				 || coalesce((SELECT array_agg(s ORDER BY n) FROM due), '{}') END
$$;
COMMENT ON FUNCTION togai_zoho.togai_poll_plan(togai_zoho.connection) IS
'Internal: the streams a poll of a Togai connection reads now, in order';
REVOKE ALL ON FUNCTION togai_zoho.togai_poll_plan(togai_zoho.connection) FROM PUBLIC;

/*
 * When every open list was last walked whole from its start: an invoice
 * noted open before that has left them (NULL while one list never was).
 */
CREATE FUNCTION togai_zoho.togai_lists_walked_since(connection_id bigint)
	RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN bool_and(w IS NOT NULL) THEN min(w) END
  FROM (SELECT (togai_zoho.get_cursor(togai_lists_walked_since.connection_id, 'invoices:' || s)
				->> 'last_walk_started')::timestamptz AS w
		  FROM unnest(togai_zoho.togai_open_statuses()) AS s) x
$$;
COMMENT ON FUNCTION togai_zoho.togai_lists_walked_since(bigint) IS
'Internal: the start of the oldest of the latest whole walks of the open invoice lists';
REVOKE ALL ON FUNCTION togai_zoho.togai_lists_walked_since(bigint) FROM PUBLIC;

/*
 * The arguments of a Togai list call of a stream: its page size, the
 * window of the recent invoices (from an hour before the first walk, then
 * from the window kept), or the status a stream of invoices reads.
 */
CREATE FUNCTION togai_zoho.togai_list_args(stream text, cur jsonb, started timestamptz)
	RETURNS jsonb
	LANGUAGE sql
	IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_build_object('page_size', 50) || CASE
	WHEN stream = 'invoices:recent' THEN jsonb_build_object('start_time',
		coalesce(cur ->> 'since_ms',
				 (floor(extract(epoch FROM started - interval '1 hour') * 1000))::bigint::text))
	WHEN split_part(stream, ':', 1) = 'invoices' AND stream <> 'invoices'
	THEN jsonb_build_object('status', split_part(stream, ':', 2))
	ELSE '{}' END
$$;
COMMENT ON FUNCTION togai_zoho.togai_list_args(text, jsonb, timestamptz) IS
'Internal: the arguments of a Togai list call of a poll stream (page size, window, status)';
REVOKE ALL ON FUNCTION togai_zoho.togai_list_args(text, jsonb, timestamptz) FROM PUBLIC;

/*
 * What a poll reads alone, up to max_reads calls: the invoices that left
 * Togai's open lists since they were last seen, and the drafts whose period
 * has ended (a draft moves then: generated, paid at once from a wallet, or
 * voided), each poll until it leaves DRAFT (not twice in one transaction).
 * Drafts are read so only while the DRAFT list is not among the lists every
 * poll reads.  One
 * gone from Togai is no longer followed; one that fails is read again
 * after the next walks.
 */
CREATE FUNCTION togai_zoho.togai_read_moved(c togai_zoho.connection, max_reads integer,
											OUT reads integer, OUT seen integer, OUT changed integer,
											OUT failed integer, OUT finished boolean,
											OUT err text, OUT err_state text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	since timestamptz := togai_zoho.togai_lists_walked_since(c.id);
	drafts_listed boolean := 'DRAFT' = ANY (togai_zoho.togai_open_statuses());
	id text;
	invoice jsonb;
BEGIN
	reads := 0; seen := 0; changed := 0; failed := 0; finished := true;
	FOR id IN (SELECT o.invoice_id FROM togai_zoho.togai_open_invoice o
				WHERE o.connection_id = c.id AND (o.status <> 'DRAFT' OR drafts_listed)
				  AND o.seen_at < since
				ORDER BY o.seen_at, o.invoice_id)
			  UNION ALL
			  (SELECT o.invoice_id FROM togai_zoho.togai_open_invoice o
				WHERE o.connection_id = c.id AND o.status = 'DRAFT' AND NOT drafts_listed
				  AND o.ends_at <= clock_timestamp() AND o.seen_at < now()
				ORDER BY o.ends_at, o.invoice_id) LOOP
		IF reads >= max_reads THEN
			finished := false;
			EXIT;
		END IF;
		BEGIN
			reads := reads + 1;
			invoice := togai_zoho.togai_call(c.name, 'invoice_get', jsonb_build_object('invoice_id', id));
		EXCEPTION WHEN OTHERS THEN
			IF SQLSTATE = 'TZ404' THEN
				/* gone from Togai: nothing left to follow */
				DELETE FROM togai_zoho.togai_open_invoice o WHERE o.connection_id = c.id AND o.invoice_id = id;
				CONTINUE;
			END IF;
			err := SQLERRM;
			err_state := SQLSTATE;
			finished := false;
			EXIT;
		END;
		seen := seen + 1;
		BEGIN
			IF togai_zoho.take_invoice(c, invoice) THEN
				changed := changed + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			failed := failed + 1;
			RAISE WARNING 'togai_zoho: invoice % of connection "%" not mirrored: %', id, c.name, SQLERRM;
			/* read again after the next walks, not at once */
			PERFORM togai_zoho.note_togai_invoice(c.id, invoice);
		END;
	END LOOP;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_read_moved(togai_zoho.connection, integer) IS
'Internal: the invoices that left Togai''s open lists since last seen, and drafts past their period''s end, each read alone (the stream invoices:moved)';
REVOKE ALL ON FUNCTION togai_zoho.togai_read_moved(togai_zoho.connection, integer) FROM PUBLIC;

/*
 * Takes one entry of a Togai list into its mirror; for a new account
 * (accounts:new) and while may_read, also the first page of its invoices,
 * whatever their status (one paid at once among them): a longer history
 * comes by the lists and the sweep.  An entry that fails is named in a
 * warning and counted; the walk goes on.
 */
CREATE FUNCTION togai_zoho.togai_take_listed(c togai_zoho.connection, stream text, item jsonb,
											 names jsonb, may_read boolean, OUT changed integer,
											 OUT read_page boolean, OUT failed boolean)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	list text := split_part(stream, ':', 1);
	owned jsonb;
BEGIN
	changed := 0;
	failed := false;
	read_page := may_read AND stream = 'accounts:new' AND NOT EXISTS (
		SELECT 1 FROM togai_zoho.customers a WHERE a.connection_id = c.id AND a.account_id = item ->> 'id');
	IF (CASE list WHEN 'customers' THEN togai_zoho.take_customer(c, item)
				  WHEN 'accounts' THEN togai_zoho.take_account(c, item, names)
				  WHEN 'payments' THEN togai_zoho.mirror_payment(c.id, item)
				  ELSE togai_zoho.take_invoice(c, item) END) THEN
		changed := 1;
	END IF;
	IF read_page THEN
		FOR owned IN SELECT e FROM jsonb_array_elements(coalesce(togai_zoho.togai_call(
				c.name, 'invoices_list', jsonb_build_object('owner_id', item ->> 'id',
														   'page_size', 50)) -> 'data', '[]')) e LOOP
			IF togai_zoho.take_invoice(c, owned) THEN
				changed := changed + 1;
			END IF;
		END LOOP;
	END IF;
EXCEPTION WHEN OTHERS THEN
	failed := true;
	RAISE WARNING 'togai_zoho: % % of connection "%" not mirrored: %',
		rtrim(list, 's'), item ->> 'id', c.name, SQLERRM;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_take_listed(togai_zoho.connection, text, jsonb, jsonb, boolean) IS
'Internal: one entry of a Togai list into its mirror, with a new account''s first page of invoices';
REVOKE ALL ON FUNCTION togai_zoho.togai_take_listed(togai_zoho.connection, text, jsonb, jsonb, boolean) FROM PUBLIC;

/*
 * Where a walk of a Togai stream leaves its cursor: after an error, the
 * page to read again (a stream of new entries whose kept token Togai no
 * longer takes waits for the next sweep to keep a new one); after a full
 * walk, when it ran, where new entries will come (the last page), and for
 * the recent invoices the next window, from a little before this walk
 * began for the clocks; a walk cut short goes on from its next token.
 */
CREATE FUNCTION togai_zoho.togai_walk_settle(c togai_zoho.connection, stream text, cur jsonb,
											 started timestamptz, page_token text, token text,
											 finished boolean, err text, err_state text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	IF err IS NOT NULL AND stream LIKE '%:new' AND err_state IN ('TZ400', 'TZ404') THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_build_object(
			'last_error', err, 'last_error_sqlstate', err_state, 'last_error_at', clock_timestamp()));
	ELSIF err IS NOT NULL THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, (cur - 'next_token') || jsonb_strip_nulls(
			jsonb_build_object('next_token', page_token, 'walk_started', started,
							   'last_error', err, 'last_error_sqlstate', err_state,
							   'last_error_at', clock_timestamp(), 'last_poll_at', clock_timestamp())));
	ELSIF finished THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
			'last_full_walk', clock_timestamp(), 'last_walk_started', started,
			'last_poll_at', clock_timestamp(),
			'tail', CASE WHEN stream LIKE '%:new' THEN coalesce(page_token, '') END,
			'since_ms', CASE WHEN stream = 'invoices:recent'
				THEN (floor(extract(epoch FROM started - interval '10 minutes') * 1000))::bigint::text END)));
		IF stream IN ('customers', 'accounts', 'payments') THEN
			PERFORM togai_zoho.set_cursor(c.id, stream || ':new',
				togai_zoho.get_cursor(c.id, stream || ':new') - 'next_token' - 'walk_started'
				|| jsonb_build_object('tail', coalesce(page_token, '')));
		END IF;
	ELSE
		PERFORM togai_zoho.set_cursor(c.id, stream, (cur - 'next_token' - 'last_error'
			- 'last_error_sqlstate' - 'last_error_at') || jsonb_strip_nulls(jsonb_build_object(
			'next_token', token, 'walk_started', started, 'last_poll_at', clock_timestamp())));
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_walk_settle(togai_zoho.connection, text, jsonb, timestamptz, text, text, boolean, text, text) IS
'Internal: where a walk of a Togai stream leaves its cursor';
REVOKE ALL ON FUNCTION togai_zoho.togai_walk_settle(togai_zoho.connection, text, jsonb, timestamptz, text, text, boolean, text, text) FROM PUBLIC;

/*
 * A poll of Togai: up to max_pages calls, the streams in done left out (those
 * a CALL of poll() read already); names carries the customers' names of a
 * sweep from call to call (poll() passes them on).
 */
CREATE FUNCTION togai_zoho.poll_togai_run(connection text, max_pages integer, done text[],
										  names jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET togai_zoho.call_purpose = 'poll'
	AS $$
DECLARE
	c togai_zoho.connection;
	stream text;
	list text;
	cur jsonb;
	args jsonb;
	page jsonb;
	item jsonb;
	took record;
	moved record;
	budget record;
	pages integer := 0;
	polled integer := 0;
	seen integer;
	changed integer;
	failed integer;
	token text;
	page_token text;
	started timestamptz;
	finished boolean;
	plan text[];
	frequent_cap integer;
	cap integer;
	result jsonb := '{}';
	err text;
	err_state text;
	stream_err text;
BEGIN
	c := togai_zoho.poll_begin(poll_togai_run.connection, 'togai', max_pages);
	names := coalesce(names, '{}');
	IF c.id IS NULL THEN
		RETURN jsonb_build_object('connection', poll_togai_run.connection,
								  'skipped', 'another poll of this connection is running');
	END IF;
	SELECT * INTO budget FROM togai_zoho.poll_budget_held(c, 1);
	IF budget.held IS NOT NULL THEN
		RETURN budget.held;
	END IF;

	/* while a sweep is due, the frequent reads leave it a quarter of the pages, one at least */
	plan := togai_zoho.togai_poll_plan(c);
	frequent_cap := max_pages - CASE WHEN plan && ARRAY['customers', 'accounts', 'invoices']
									 THEN greatest(1, max_pages / 4) ELSE 0 END;
	FOREACH stream IN ARRAY plan LOOP
		CONTINUE WHEN stream = ANY (done);
		EXIT WHEN pages >= max_pages;
		cap := CASE WHEN stream LIKE '%:%' THEN frequent_cap ELSE max_pages END;
		CONTINUE WHEN pages >= cap;
		polled := polled + 1;
		cur := togai_zoho.get_cursor(c.id, stream);
		list := split_part(stream, ':', 1);
		started := coalesce((cur ->> 'walk_started')::timestamptz, clock_timestamp());
		seen := 0; changed := 0; failed := 0; finished := false; stream_err := NULL;
		token := NULL; page_token := NULL;

		IF stream = 'invoices:moved' THEN
			SELECT * INTO moved FROM togai_zoho.togai_read_moved(c, cap - pages);
			pages := pages + moved.reads;
			seen := moved.seen; changed := moved.changed; failed := moved.failed;
			finished := moved.finished; stream_err := moved.err; err_state := moved.err_state;
		ELSE
			token := CASE WHEN cur ? 'next_token' THEN cur ->> 'next_token'
						  WHEN stream LIKE '%:new' THEN nullif(cur ->> 'tail', '') END;
			args := togai_zoho.togai_list_args(stream, cur, started);
			LOOP
				page_token := token;
				BEGIN
					page := togai_zoho.togai_call(c.name, list || '_list',
						jsonb_strip_nulls(args || jsonb_build_object('next_token', token)));
				EXCEPTION WHEN OTHERS THEN
					stream_err := SQLERRM;
					err_state := SQLSTATE;
					EXIT;
				END;
				pages := pages + 1;
				FOR item IN SELECT e FROM jsonb_array_elements(coalesce(page -> 'data', '[]')) e LOOP
					seen := seen + 1;
					IF list = 'customers' AND item ->> 'id' IS NOT NULL THEN
						names := names || jsonb_build_object(item ->> 'id', item ->> 'name');
					END IF;
					SELECT * INTO took FROM togai_zoho.togai_take_listed(c, stream, item, names, pages < cap);
					changed := changed + took.changed;
					failed := failed + took.failed::integer;
					pages := pages + took.read_page::integer;
				END LOOP;
				token := nullif(page ->> 'nextToken', '');
				finished := token IS NULL;
				EXIT WHEN finished OR pages >= cap;
			END LOOP;
		END IF;

		IF stream_err IS NOT NULL THEN
			RAISE WARNING 'togai_zoho: polling % of connection "%" stopped: %', stream, c.name, stream_err
				USING HINT = 'The next poll resumes from the same page; togai_zoho.poll_status shows it.';
			err := coalesce(err, stream || ': ' || stream_err);
		END IF;
		PERFORM togai_zoho.togai_walk_settle(c, stream, cur, started, page_token, token, finished,
											 stream_err, err_state);
		result := result || jsonb_build_object(stream, jsonb_strip_nulls(jsonb_build_object(
			'seen', seen, 'changed', changed, 'failed', failed,
			'complete', finished AND stream_err IS NULL, 'error', stream_err)));
		/* a refusal for rate pauses the connection: no use asking again now */
		EXIT WHEN stream_err IS NOT NULL AND err_state = 'TZ429';
		/* a walk cut short by max_pages ends the poll; a failed list does not stop the others */
		EXIT WHEN stream_err IS NULL AND NOT finished AND pages >= max_pages;
	END LOOP;
	IF polled = 0 AND cardinality(done) = 0 THEN
		RAISE NOTICE 'togai_zoho: no list of connection "%" is due', c.name
			USING HINT = 'With Togai''s webhooks set up, polls read its lists every togai_zoho.poll_sweep; togai_zoho.sweep_now() reads them at the next poll.';
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'names', names,
								  'skipped', 'no list is due');
	END IF;
	RETURN jsonb_build_object('connection', c.name, 'pages', pages, 'names', names) || result
		|| jsonb_strip_nulls(jsonb_build_object('error', err));
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_togai_run(text, integer, text[], jsonb) IS
'Internal: a poll of Togai of up to max_pages calls, the streams in done left out; poll_togai() and poll() call it';
REVOKE ALL ON FUNCTION togai_zoho.poll_togai_run(text, integer, text[], jsonb) FROM PUBLIC;

/*
 * A poll's result as a person reads it: the streams of a list added up under
 * the list's name (customers, accounts, invoices), each stream under lists.
 */
CREATE FUNCTION togai_zoho.poll_summary(r jsonb)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT (r - ARRAY(SELECT k FROM jsonb_each(r) AS e(k, v)
				   WHERE jsonb_typeof(v) = 'object' AND k <> 'names'))
	   || coalesce((SELECT jsonb_object_agg(l.list, jsonb_strip_nulls(jsonb_build_object(
						'seen', l.seen, 'changed', l.changed, 'failed', l.failed,
						'complete', l.complete, 'error', l.error)))
					  FROM (SELECT split_part(k, ':', 1) AS list, sum((v ->> 'seen')::integer) AS seen,
								   sum((v ->> 'changed')::integer) AS changed,
								   sum((v ->> 'failed')::integer) AS failed,
								   bool_and((v ->> 'complete')::boolean) AS complete,
								   string_agg(v ->> 'error', '; ') AS error
							  FROM jsonb_each(r) AS e(k, v)
							 WHERE jsonb_typeof(v) = 'object' AND k <> 'names'
							 GROUP BY 1) l), '{}')
	   || coalesce((SELECT jsonb_build_object('lists', jsonb_object_agg(k, v))
					  FROM jsonb_each(r) AS e(k, v)
					 WHERE jsonb_typeof(v) = 'object' AND k <> 'names'
					HAVING count(*) > 0), '{}')
$$;
COMMENT ON FUNCTION togai_zoho.poll_summary(jsonb) IS
'Internal: a Togai poll''s counts by list (customers, accounts, invoices) with each stream under lists';
REVOKE ALL ON FUNCTION togai_zoho.poll_summary(jsonb) FROM PUBLIC;

CREATE FUNCTION togai_zoho.poll_togai(connection text, max_pages integer DEFAULT 100)
	RETURNS jsonb
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT togai_zoho.poll_summary(togai_zoho.poll_togai_run(connection, max_pages, '{}', '{}') - 'names')
$$;
COMMENT ON FUNCTION togai_zoho.poll_togai(text, integer) IS
'Reads what can have changed in Togai (the invoices that can still move, recent invoices, new accounts; every list in full once a togai_zoho.togai_sweep) into customers and invoices, which fires the flows; at most max_pages calls, resuming where the last call stopped; returns counts. Safe from pg_cron every minute and twice at once; CALL poll() does the same a page per transaction';

/*
 * The next poll of a connection reads every list in full (Togai) or every
 * list at once (Zoho Books), whatever their pacing says.
 */
CREATE FUNCTION togai_zoho.sweep_now(connection text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(sweep_now.connection);
BEGIN
	UPDATE togai_zoho.sync_cursor s
	   SET cursor = (s.cursor::jsonb - 'last_full_walk' - 'next_poll_at')::text, updated_at = now()
	 WHERE s.connection_id = c.id
	   AND (c.app = 'zohobooks' OR s.stream IN ('customers', 'accounts', 'invoices', 'payments'));
END
$$;
COMMENT ON FUNCTION togai_zoho.sweep_now(text) IS
'The next poll of the connection reads every list: in full for Togai (as its daily sweep does), at once for Zoho Books';
REVOKE ALL ON FUNCTION togai_zoho.sweep_now(text) FROM PUBLIC;

/*
 * Togai sends webhooks from its own flows (an "Initiate Webhook" action);
 * nothing registers them through its API.  This records that they are set
 * up, pointed at the receiver's URL, so that polls of the connection only
 * sweep; url NULL: polls go back to every call.
 */
CREATE FUNCTION togai_zoho.set_togai_webhook(connection text, url text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(set_togai_webhook.connection, 'togai');
BEGIN
	IF url IS NOT NULL THEN
		PERFORM togai_zoho.normalize_url(url, 'url');
	END IF;
	UPDATE togai_zoho.connection x
	   SET webhook_url = set_togai_webhook.url,
		   webhook_registered_at = CASE WHEN set_togai_webhook.url IS NOT NULL THEN now() END,
		   updated_at = now()
	 WHERE x.id = c.id;
	IF url IS NULL THEN
		RAISE NOTICE 'togai_zoho: polls of connection "%" no longer count on webhooks', c.name
			USING HINT = 'Remove the "Initiate Webhook" action from the Togai flows if it is still there.';
	ELSE
		RAISE NOTICE 'togai_zoho: polls of connection "%" now read its lists every togai_zoho.poll_sweep', c.name
			USING HINT = 'Togai''s flows must send account and invoice events to the receiver''s /togai/<connection> with the X-Togai-Zoho-Secret header.';
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.set_togai_webhook(text, text) IS
'Records that Togai''s flows send the connection''s account and invoice events to url (the receiver); polls then only sweep (togai_zoho.poll_sweep). NULL: polls go back to every call';
REVOKE ALL ON FUNCTION togai_zoho.set_togai_webhook(text, text) FROM PUBLIC;
