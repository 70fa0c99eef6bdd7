/*
 * polling.sql
 *	  Polling: safe from pg_cron every minute, and twice at once (the second call
 *	  returns at once). A walk cut short by max_pages, or by an error, resumes
 *	  where it stopped at the next call.
 */

CREATE TABLE togai_zoho.sync_cursor (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	stream        text NOT NULL CHECK (stream <> ''),
	cursor        text,
	updated_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, stream)
);
COMMENT ON TABLE togai_zoho.sync_cursor IS 'Where polling of each connection and stream got to';
COMMENT ON COLUMN togai_zoho.sync_cursor.connection_id IS 'Polled connection';
COMMENT ON COLUMN togai_zoho.sync_cursor.stream IS 'What is polled (accounts, invoices, customerpayments, ...)';
COMMENT ON COLUMN togai_zoho.sync_cursor.cursor IS 'Opaque position: a page token or a last-modified time';
COMMENT ON COLUMN togai_zoho.sync_cursor.updated_at IS 'When the cursor last moved';
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.sync_cursor', '');

/*
 * The connection a poll reads, its arguments checked; a row of nulls when
 * another poll of the connection holds its lock (until that transaction ends).
 */
CREATE FUNCTION togai_zoho.poll_begin(connection text, app text, max_pages integer)
	RETURNS togai_zoho.connection
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(poll_begin.connection, poll_begin.app);
BEGIN
	IF max_pages IS NULL THEN
		RAISE EXCEPTION 'max_pages must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF max_pages < 1 THEN
		RAISE EXCEPTION 'max_pages must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	/* the lock is named by what it guards: the connection's rows of sync_cursor */
	IF NOT pg_try_advisory_xact_lock('togai_zoho.sync_cursor'::regclass::oid::integer, c.id::integer) THEN
		RETURN NULL;
	END IF;
	RETURN c;
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_begin(text, text, integer) IS 'The connection a poll reads, arguments checked, with the transaction lock that keeps two polls of it apart; a row of nulls when another poll holds it';

/* The cursor of a stream (JSON text), or '{}' when it has none. */
CREATE FUNCTION togai_zoho.get_cursor(connection_id bigint, stream text)
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT coalesce((SELECT s.cursor::jsonb FROM togai_zoho.sync_cursor s
				  WHERE s.connection_id = get_cursor.connection_id AND s.stream = get_cursor.stream),
				'{}')
$$;
COMMENT ON FUNCTION togai_zoho.get_cursor(bigint, text) IS 'The polling cursor of a connection''s stream, or {}';

/* The streams, the one walked least recently first (an unfinished walk has no last_full_walk). */
CREATE FUNCTION togai_zoho.poll_order(connection_id bigint, streams text[])
	RETURNS SETOF text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT u.s FROM unnest(streams) WITH ORDINALITY AS u(s, n)
 ORDER BY (togai_zoho.get_cursor(poll_order.connection_id, u.s) ->> 'last_full_walk')::timestamptz
		  NULLS FIRST, u.n
$$;
COMMENT ON FUNCTION togai_zoho.poll_order(bigint, text[]) IS 'A poll''s streams, the one walked least recently first, so a small max_pages still reaches them all';

CREATE FUNCTION togai_zoho.set_cursor(connection_id bigint, stream text, value jsonb)
	RETURNS void
	LANGUAGE sql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
INSERT INTO togai_zoho.sync_cursor AS s (connection_id, stream, cursor)
VALUES (set_cursor.connection_id, set_cursor.stream, value::text)
ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
$$;
COMMENT ON FUNCTION togai_zoho.set_cursor(bigint, text, jsonb) IS 'Stores the polling cursor of a connection''s stream';

/* A time as Zoho Books' lists take it: 2026-11-23T10:15:00+0000. */
CREATE FUNCTION togai_zoho.zoho_time(t timestamptz)
	RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+0000'
$$;
COMMENT ON FUNCTION togai_zoho.zoho_time(timestamptz) IS 'A time in the form Zoho Books'' list filters take, in UTC';
REVOKE ALL ON FUNCTION togai_zoho.zoho_time(timestamptz) FROM PUBLIC;

/*
 * How far a one-page read has seen, given the newest change on it: all of
 * it once that change is a minute older than the read (nothing can still be
 * changing within its second); otherwise a second less, so that a change
 * made later in that same second is read again.
 */
CREATE FUNCTION togai_zoho.seen_through(newest timestamptz, read_at timestamptz)
	RETURNS timestamptz
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN newest < read_at - interval '1 minute' THEN newest ELSE newest - interval '1 s' END
$$;
COMMENT ON FUNCTION togai_zoho.seen_through(timestamptz, timestamptz) IS
'The change time a one-page read has seen everything up to: its newest change, or a second less while that change is under a minute old';
REVOKE ALL ON FUNCTION togai_zoho.seen_through(timestamptz, timestamptz) FROM PUBLIC;

/*
 * Whether a synced Zoho Books invoice (a list entry) has money applied that
 * Togai does not know of: paid in Zoho Books (total less balance less what
 * was written off) is not what the Togai invoice has paid.  When both say
 * the same, the payments that moved the balance are on both sides already
 * (made by the extension from Togai, or recorded from Zoho Books): nothing to
 * read.  In doubt (a stale mirror, credits applied) it says yes: a read costs
 * a call, a miss would lose money.
 */
CREATE FUNCTION togai_zoho.zohobooks_paid_unexplained(zohobooks_connection_id bigint, invoice jsonb)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT coalesce(bool_or(i.paid_amount IS NULL OR round(i.paid_amount, 2) IS DISTINCT FROM round(
			togai_zoho.json_numeric(invoice -> 'total') - togai_zoho.json_numeric(invoice -> 'balance')
			- coalesce(togai_zoho.json_numeric(invoice -> 'write_off_amount'), 0), 2)), false)
  FROM togai_zoho.id_mapping m
  LEFT JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id AND i.invoice_id = m.togai_id
 WHERE m.entity = 'invoice' AND m.zohobooks_connection_id = zohobooks_paid_unexplained.zohobooks_connection_id
   AND m.zohobooks_id = invoice ->> 'invoice_id'
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_paid_unexplained(bigint, jsonb) IS
'Internal: whether a synced Zoho Books invoice has money applied that its Togai invoice does not show (its payments are then read); false for an invoice not synced';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_paid_unexplained(bigint, jsonb) FROM PUBLIC;

/*
 * Whether a poll of the connection may read now, its streams paying from
 * the day's budget: the shortest spacing of its streams' polls (see
 * api_poll_spacing), or, when the budget, the polls' share or a pause of
 * the remote holds them, the poll's result saying so and when the next
 * poll runs.  Togai publishes no limit: a budget set with
 * set_api_budget() holds its polls too.
 */
CREATE FUNCTION togai_zoho.poll_budget_held(c togai_zoho.connection, streams integer,
											OUT spacing double precision, OUT held jsonb)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	paused_until timestamptz;
	why text;
BEGIN
	PERFORM togai_zoho.api_budget_refresh(c.id, false);
	spacing := togai_zoho.api_poll_spacing(c.id, streams, false);
	IF spacing IS NOT NULL AND spacing >= 0 THEN
		RETURN;
	END IF;
	SELECT l.paused_until INTO paused_until FROM togai_zoho.api_budget_live(c.id) l;
	why := CASE WHEN paused_until > now() AND c.app = 'togai'
				THEN 'Togai refused the connection for rate (HTTP 429)'
				WHEN paused_until > now()
				THEN 'Zoho Books refused the connection for the rest of its day (its daily API cap)'
				WHEN spacing IS NULL THEN 'the polls'' share of the day''s API budget is spent'
				ELSE 'the day''s API budget is spent' END;
	IF paused_until IS NULL OR paused_until <= now() THEN
		paused_until := (togai_zoho.api_day(c.time_zone)).ends_at;
	END IF;
	RAISE NOTICE 'togai_zoho: connection "%" is not polled now: %; the next poll runs at %',
		c.name, why, paused_until
		USING HINT = 'togai_zoho.api_usage shows the day''s calls; togai_zoho.poll_share sets the polls'' share; set_api_budget() changes the budget and lifts a pause.';
	held := jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', paused_until,
							   'skipped', why);
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_budget_held(togai_zoho.connection, integer) IS
'Internal: the spacing of a connection''s polls, or the skipped result when its budget, the polls'' share or a pause holds them';
REVOKE ALL ON FUNCTION togai_zoho.poll_budget_held(togai_zoho.connection, integer) FROM PUBLIC;

/* The Zoho Books lists an enabled flow of the connection needs: payments come through invoices. */
CREATE FUNCTION togai_zoho.zohobooks_poll_streams(c togai_zoho.connection)
	RETURNS text[]
	LANGUAGE sql
	STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ARRAY(SELECT s FROM unnest(ARRAY['invoices', 'contacts']) s
	WHERE EXISTS (SELECT 1 FROM togai_zoho.flow f
				   WHERE f.trigger_connection_id = c.id AND f.enabled
					 AND f.trigger = ANY (CASE s WHEN 'invoices'
						 THEN ARRAY['payment_recorded', 'invoice_paid']
						 ELSE ARRAY['contact_updated'] END)))
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_poll_streams(togai_zoho.connection) IS
'Internal: the Zoho Books lists (invoices, contacts) an enabled flow of the connection needs polled';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_poll_streams(togai_zoho.connection) FROM PUBLIC;

/*
 * Takes one entry of a Zoho Books list into the inbox and, for an invoice
 * whose money moved while a flow records payments, the payments it got.
 * An entry that fails is named in a warning and counted; the walk goes on.
 */
CREATE FUNCTION togai_zoho.zohobooks_take_listed(c togai_zoho.connection, stream text, item jsonb,
												 want_payments boolean, OUT changed boolean,
												 OUT payments integer, OUT failed boolean)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	prev jsonb;
	item_err text;
BEGIN
	payments := 0;
	failed := false;
	IF stream = 'invoices' THEN
		SELECT i.payload INTO prev FROM togai_zoho.inbox i
		 WHERE i.connection_id = c.id AND i.entity = 'invoice' AND i.remote_id = item ->> 'invoice_id';
	END IF;
	changed := togai_zoho.mirror_inbox(c.id, rtrim(stream, 's'), item, 'poll');
	/* money applied to a synced invoice: read the payments it got */
	IF stream = 'invoices' AND want_payments
	   AND (prev ->> 'balance' IS DISTINCT FROM item ->> 'balance'
			OR prev ->> 'last_payment_date' IS DISTINCT FROM item ->> 'last_payment_date')
	   AND coalesce(togai_zoho.json_numeric(item -> 'balance'), 0)
		   < coalesce(togai_zoho.json_numeric(item -> 'total'), 0)
	   AND togai_zoho.zohobooks_paid_unexplained(c.id, item) THEN
		payments := togai_zoho.take_invoice_payments(c, item);
	END IF;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS item_err = MESSAGE_TEXT;
	changed := false;
	payments := 0;
	failed := true;
	RAISE WARNING 'togai_zoho: Zoho Books % % of connection "%" not taken: %',
		rtrim(stream, 's'), item ->> (rtrim(stream, 's') || '_id'), c.name, item_err;
END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_take_listed(togai_zoho.connection, text, jsonb, boolean) IS
'Internal: one entry of a Zoho Books list into the inbox, with the payments of an invoice whose money moved';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_take_listed(togai_zoho.connection, text, jsonb, boolean) FROM PUBLIC;

/*
 * Where a walk of a Zoho Books list leaves its cursor.  A walk that ended:
 * the next poll of the stream at once after a change (while the polls are
 * not ahead of their budget's pace), after a quiet one twice as long each
 * time, up to togai_zoho.poll_idle_max, never sooner than the budget's even
 * spread; with webhooks, a slow sweep.  It reads what changed after this
 * walk could see (see seen_through).  Contacts sorted by change: after the
 * newest on the page where the newest stand (the first, or the last when
 * oldest come first), since a contact changed during the walk moves there.
 * Invoices: after the newest of a walk of one page; after a longer walk,
 * from before it began (less a margin for the clocks), so that an invoice
 * changed meanwhile is read again.  A walk cut short (max_pages, an error)
 * goes on from its page at the next poll.
 */
CREATE FUNCTION togai_zoho.zohobooks_walk_settle(c togai_zoho.connection, stream text, cur jsonb,
												 walk jsonb, spacing double precision,
												 streams integer)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	margin constant interval := '1 minute';
	since timestamptz := togai_zoho.remote_time(cur ->> 'since');
	started timestamptz := (walk ->> 'started')::timestamptz;
	high timestamptz := (walk ->> 'high')::timestamptz;
	newest_first boolean := coalesce((walk ->> 'newest_first')::boolean, true);
	idle integer;
	next_at timestamptz;
BEGIN
	IF walk ? 'error' OR (walk ->> 'more')::boolean THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
			'since', togai_zoho.zoho_time(since), 'high', togai_zoho.zoho_time(high),
			'page', walk -> 'page', 'walk_started', started,
			'last_full_walk', cur -> 'last_full_walk', 'last_poll_at', clock_timestamp(),
			'last_error', walk -> 'error', 'last_error_sqlstate', walk -> 'sqlstate',
			'last_error_at', CASE WHEN walk ? 'error' THEN clock_timestamp() END)));
		RETURN;
	END IF;
	idle := CASE WHEN (walk ->> 'changed')::integer > 0 THEN 0
				 ELSE coalesce((cur ->> 'idle_polls')::integer, 0) + 1 END;
	next_at := clock_timestamp() + make_interval(secs => CASE
		WHEN c.webhook_url IS NOT NULL
		THEN greatest(extract(epoch FROM current_setting('togai_zoho.poll_sweep')::interval), spacing)
		WHEN idle = 0
		THEN coalesce(togai_zoho.api_poll_spacing(c.id, streams, true), spacing)
		ELSE greatest(least(extract(epoch FROM current_setting('togai_zoho.poll_idle_max')::interval),
							30 * 2 ^ least(idle, 20)), spacing) END);
	PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
		'since', togai_zoho.zoho_time(coalesce(CASE
			WHEN stream = 'contacts' AND newest_first
				THEN togai_zoho.seen_through((walk ->> 'first_high')::timestamptz, started)
			WHEN stream = 'contacts' OR ((walk ->> 'pages')::integer = 1 AND (cur ->> 'page') IS NULL)
				THEN togai_zoho.seen_through(high, started)
			ELSE least(high, started - margin) END, since, started - margin)),
		'high', togai_zoho.zoho_time(high),
		/* oldest first: the next walk starts at the last page, where changes go */
		'page', CASE WHEN stream = 'contacts' AND NOT newest_first THEN walk -> 'page' END,
		'last_full_walk', clock_timestamp(), 'last_poll_at', clock_timestamp(),
		'idle_polls', idle, 'next_poll_at', next_at)));
END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_walk_settle(togai_zoho.connection, text, jsonb, jsonb, double precision, integer) IS
'Internal: where a walk of a Zoho Books list leaves its cursor, and when the list is polled next';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_walk_settle(togai_zoho.connection, text, jsonb, jsonb, double precision, integer) FROM PUBLIC;

/*
 * Zoho Books' lists as they are documented: invoices through their
 * last_modified_time filter (modified after the cursor); contacts sorted by
 * last_modified_time (no filter exists; the direction is not documented, so
 * both are followed); payments through the invoices whose balance or last
 * payment date moved.  The next walk starts a margin before this one began,
 * so objects changed while it ran are read again, never skipped.
 */
CREATE FUNCTION togai_zoho.poll_zohobooks_run(connection text, max_pages integer, done text[])
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET togai_zoho.call_purpose = 'poll'
	AS $$
DECLARE
	c togai_zoho.connection;
	stream text;
	cur jsonb;
	page jsonb;
	item jsonb;
	took record;
	walk jsonb;
	pages integer := 0;
	since timestamptz;
	t timestamptz;
	seen integer;
	failed integer;
	payments integer := 0;
	older_reached boolean;
	want_payments boolean;
	result jsonb := '{}';
	err text;
	streams text[];
	budget record;
	next_at timestamptz;
	polled integer := 0;
BEGIN
	c := togai_zoho.poll_begin(poll_zohobooks_run.connection, 'zohobooks', max_pages);
	IF c.id IS NULL THEN
		RETURN jsonb_build_object('connection', poll_zohobooks_run.connection,
								  'skipped', 'another poll of this connection is running');
	END IF;
	/* payments are looked for only for a flow that records them */
	want_payments := EXISTS (SELECT 1 FROM togai_zoho.flow f
							  WHERE f.trigger_connection_id = c.id AND f.enabled
								AND f.trigger = 'payment_recorded');
	streams := togai_zoho.zohobooks_poll_streams(c);
	IF cardinality(streams) = 0 THEN
		RETURN jsonb_build_object('connection', c.name, 'pages', 0,
								  'skipped', 'no enabled flow needs a Zoho Books list');
	END IF;
	SELECT * INTO budget FROM togai_zoho.poll_budget_held(c, cardinality(streams));
	IF budget.held IS NOT NULL THEN
		RETURN budget.held;
	END IF;

	FOR stream IN SELECT togai_zoho.poll_order(c.id, ARRAY(SELECT s FROM unnest(streams) s
													 WHERE s <> ALL (done))) LOOP
		EXIT WHEN pages >= max_pages;
		cur := togai_zoho.get_cursor(c.id, stream);
		/* a quiet stream waits its turn; a walk under way goes on */
		CONTINUE WHEN (cur ->> 'next_poll_at')::timestamptz > clock_timestamp()
					  AND NOT cur ? 'walk_started';
		polled := polled + 1;
		since := togai_zoho.remote_time(cur ->> 'since');
		walk := jsonb_build_object('started', coalesce((cur ->> 'walk_started')::timestamptz, clock_timestamp()),
			'high', togai_zoho.remote_time(cur ->> 'high'), 'page', coalesce((cur ->> 'page')::integer, 1),
			'pages', 0, 'changed', 0, 'more', true);
		seen := 0; failed := 0; older_reached := false;
		LOOP
			BEGIN
				page := togai_zoho.zohobooks_call(c.name, 'list_changed', jsonb_strip_nulls(
					jsonb_build_object('list', stream, 'page', walk -> 'page', 'since',
									   CASE WHEN stream = 'invoices' THEN togai_zoho.zoho_time(since) END)));
			EXCEPTION WHEN OTHERS THEN
				walk := walk || jsonb_build_object('error', SQLERRM, 'sqlstate', SQLSTATE);
				RAISE WARNING 'togai_zoho: polling % of connection "%" stopped: %', stream, c.name, SQLERRM
					USING HINT = 'The next poll resumes from the same page; togai_zoho.poll_status shows it.';
				err := coalesce(err, stream || ': ' || SQLERRM);
				EXIT;
			END;
			pages := pages + 1;
			walk := walk || jsonb_build_object('pages', (walk ->> 'pages')::integer + 1,
				/* Zoho does not document the direction of a sort: read it from the page */
				'newest_first', stream <> 'contacts' OR coalesce(page #>> '{page_context,sort_order}' = 'D',
					togai_zoho.remote_time(page #>> '{contacts,0,last_modified_time}') >=
					togai_zoho.remote_time(page -> 'contacts' -> -1 ->> 'last_modified_time'), true));
			FOR item IN SELECT e FROM jsonb_array_elements(coalesce(page -> stream, '[]')) e LOOP
				t := togai_zoho.remote_time(item ->> 'last_modified_time');
				/* contacts are not filtered: those not changed after the cursor were taken before */
				IF stream = 'contacts' AND since IS NOT NULL AND t <= since THEN
					older_reached := older_reached OR (walk ->> 'newest_first')::boolean;
					CONTINUE;
				END IF;
				seen := seen + 1;
				walk := walk || jsonb_strip_nulls(jsonb_build_object(
					'high', greatest((walk ->> 'high')::timestamptz, t),
					'first_high', CASE WHEN (walk ->> 'pages')::integer = 1
									   THEN greatest((walk ->> 'first_high')::timestamptz, t) END));
				SELECT * INTO took FROM togai_zoho.zohobooks_take_listed(c, stream, item, want_payments);
				walk := jsonb_set(walk, '{changed}', to_jsonb((walk ->> 'changed')::integer + took.changed::integer));
				failed := failed + took.failed::integer;
				payments := payments + took.payments;
			END LOOP;
			walk := jsonb_set(walk, '{more}', to_jsonb(coalesce((page #>> '{page_context,has_more_page}')::boolean, false)
													   AND NOT older_reached));
			EXIT WHEN NOT (walk ->> 'more')::boolean;
			walk := jsonb_set(walk, '{page}', to_jsonb((walk ->> 'page')::integer + 1));
			EXIT WHEN pages >= max_pages;
		END LOOP;
		PERFORM togai_zoho.zohobooks_walk_settle(c, stream, cur, walk, budget.spacing, cardinality(streams));
		result := result || jsonb_build_object(stream, jsonb_strip_nulls(jsonb_build_object(
			'seen', seen, 'changed', walk -> 'changed', 'failed', failed,
			'complete', NOT walk ? 'error' AND NOT (walk ->> 'more')::boolean, 'error', walk -> 'error')));
		/* a stream that fails does not stop the others; a walk cut short by max_pages does */
		EXIT WHEN NOT walk ? 'error' AND (walk ->> 'more')::boolean;
	END LOOP;
	SELECT min((s.cursor::jsonb ->> 'next_poll_at')::timestamptz) INTO next_at
	  FROM togai_zoho.sync_cursor s
	 WHERE s.connection_id = c.id AND s.stream = ANY (streams);
	IF polled = 0 AND cardinality(done) > 0 THEN
		/* a CALL of poll() has walked every list that was due */
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', next_at);
	END IF;
	IF polled = 0 THEN
		RAISE NOTICE 'togai_zoho: no list of connection "%" is due; the next poll runs at %', c.name, next_at
			USING HINT = 'Quiet lists are polled less often (togai_zoho.poll_idle_max); a change brings them back to every poll.';
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', next_at,
								  'skipped', 'no list is due');
	END IF;
	RETURN jsonb_build_object('connection', c.name, 'pages', pages, 'payments', payments) || result
		|| jsonb_strip_nulls(jsonb_build_object('error', err, 'next_poll_at', next_at));
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_zohobooks_run(text, integer, text[]) IS
'Internal: a poll of Zoho Books of up to max_pages pages, the lists in done left out; poll_zohobooks() and poll() call it';
REVOKE ALL ON FUNCTION togai_zoho.poll_zohobooks_run(text, integer, text[]) FROM PUBLIC;

CREATE FUNCTION togai_zoho.poll_zohobooks(connection text, max_pages integer DEFAULT 100)
	RETURNS jsonb
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT togai_zoho.poll_zohobooks_run(connection, max_pages, '{}')
$$;
COMMENT ON FUNCTION togai_zoho.poll_zohobooks(text, integer) IS
'Reads Zoho Books payments, invoices and contacts changed since the stored cursor (all pages) into the inbox, which fires the inbound flows; returns counts. Safe from pg_cron every minute and twice at once; CALL poll() does the same a page per transaction';

/*
 * A poll for pg_cron: CALL togai_zoho.poll('zoho') reads a page at a time
 * and commits each, so that no transaction stays open across the calls of a
 * long walk (each page takes the poll's lock afresh; a poll running beside
 * it takes the next page, never the same one).  Each list is walked once a
 * call; a list that failed is left for the next call.  Then it fails when a
 * list failed, so that cron.job_run_details shows the error (a SELECT's
 * result never reaches it).  No SET clause: a procedure with one cannot
 * commit; every name is qualified instead.
 */
CREATE PROCEDURE togai_zoho.poll(connection text, max_pages integer DEFAULT 100)
	LANGUAGE plpgsql
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(poll.connection);
	r jsonb;
	took jsonb := '{}';
	done text[] := '{}';
	names jsonb := '{}';
	pages integer := 0;
	stream text;
	errors text[] := '{}';
BEGIN
	IF max_pages IS NULL OR max_pages < 1 THEN
		/* the poll functions say what is wrong with it */
		PERFORM togai_zoho.poll_begin(c.name, c.app, max_pages);
	END IF;
	LOOP
		IF c.app = 'togai' THEN
			r := togai_zoho.poll_togai_run(c.name, 1, done, names);
			names := r OPERATOR(pg_catalog.->) 'names';
		ELSE
			r := togai_zoho.poll_zohobooks_run(c.name, 1, done);
		END IF;
		COMMIT;
		pages := pages OPERATOR(pg_catalog.+) coalesce((r OPERATOR(pg_catalog.->>) 'pages')::integer, 0);
		FOR stream IN SELECT k FROM pg_catalog.jsonb_object_keys(r) k
					   WHERE pg_catalog.jsonb_typeof(r OPERATOR(pg_catalog.->) k) = 'object'
						 AND k OPERATOR(pg_catalog.<>) 'names' LOOP
			took := took OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(stream,
				r OPERATOR(pg_catalog.->) stream);
			IF (r OPERATOR(pg_catalog.#>>) ARRAY[stream, 'complete'])::boolean THEN
				done := done OPERATOR(pg_catalog.||) stream;
			ELSIF r OPERATOR(pg_catalog.->) stream OPERATOR(pg_catalog.?) 'error' THEN
				done := done OPERATOR(pg_catalog.||) stream;
				errors := errors OPERATOR(pg_catalog.||) (stream OPERATOR(pg_catalog.||) ': '
					OPERATOR(pg_catalog.||) (r OPERATOR(pg_catalog.#>>) ARRAY[stream, 'error']));
			END IF;
		END LOOP;
		EXIT WHEN r OPERATOR(pg_catalog.?) 'skipped' OR pages OPERATOR(pg_catalog.>=) max_pages
			OR coalesce((r OPERATOR(pg_catalog.->>) 'pages')::integer, 0) OPERATOR(pg_catalog.=) 0;
	END LOOP;
	IF c.app = 'togai' THEN
		took := togai_zoho.poll_summary(took);
	END IF;
	took := pg_catalog.jsonb_build_object('connection', c.name, 'pages', pages)
		OPERATOR(pg_catalog.||) took OPERATOR(pg_catalog.||)
		pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('skipped', r OPERATOR(pg_catalog.->) 'skipped',
			'next_poll_at', r OPERATOR(pg_catalog.->) 'next_poll_at'));
	IF pg_catalog.cardinality(errors) OPERATOR(pg_catalog.>) 0 THEN
		RAISE EXCEPTION 'togai_zoho: polling connection "%" stopped at %', c.name,
			pg_catalog.array_to_string(errors, '; ')
			USING ERRCODE = 'external_routine_exception',
				  DETAIL = pg_catalog.format('The poll took: %s', took),
				  HINT = 'What it took is kept; togai_zoho.poll_status shows each stream.';
	END IF;
END
$$;
COMMENT ON PROCEDURE togai_zoho.poll(text, integer) IS
'Polls a connection a page per transaction (as poll_togai or poll_zohobooks would), then fails naming each list that stopped: schedule it with pg_cron as CALL togai_zoho.poll(''<connection>'')';
REVOKE ALL ON PROCEDURE togai_zoho.poll(text, integer) FROM PUBLIC;
