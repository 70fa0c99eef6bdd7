/*
 * budget.sql
 *	  Zoho Books' call budget: the day's counts kept across restarts, the day's
 *	  end at the organization's midnight, plans, and the polls' share.
 */

CREATE TABLE togai_zoho.api_usage_day (
	connection_id  bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	day            date NOT NULL,
	delivery_calls integer NOT NULL DEFAULT 0,
	poll_calls     integer NOT NULL DEFAULT 0,
	session_calls  integer NOT NULL DEFAULT 0,
	token_calls    integer NOT NULL DEFAULT 0,
	refused        integer NOT NULL DEFAULT 0,
	paused_until   timestamptz,
	first_call_at  timestamptz,
	PRIMARY KEY (connection_id, day)
);
COMMENT ON COLUMN togai_zoho.api_usage_day.connection_id IS 'The connection';
COMMENT ON COLUMN togai_zoho.api_usage_day.day IS 'The date in the organization''s time zone (connection.time_zone)';
COMMENT ON COLUMN togai_zoho.api_usage_day.delivery_calls IS 'API calls of jobs (the worker and process_outbox)';
COMMENT ON COLUMN togai_zoho.api_usage_day.poll_calls IS 'API calls of poll_togai and poll_zohobooks';
COMMENT ON COLUMN togai_zoho.api_usage_day.session_calls IS 'API calls of other SQL functions (zohobooks_call, checks, set-up)';
COMMENT ON COLUMN togai_zoho.api_usage_day.token_calls IS 'Access tokens minted at the accounts server (not API calls)';
COMMENT ON COLUMN togai_zoho.api_usage_day.refused IS 'Calls the remote refused for rate (HTTP 429)';
COMMENT ON COLUMN togai_zoho.api_usage_day.paused_until IS 'The remote''s daily cap was reached: calls pause until then';
COMMENT ON COLUMN togai_zoho.api_usage_day.first_call_at IS 'The day''s first API call, for the pace';
COMMENT ON TABLE togai_zoho.api_usage_day IS
'API calls of each connection per day of its organization, by purpose, as the worker stored them (togai_zoho.api_usage shows the live figures)';
REVOKE ALL ON togai_zoho.api_usage_day FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.api_usage_day', '');

/* The organization's day now: its date and when it ends. */
CREATE FUNCTION togai_zoho.api_day(time_zone text, OUT day date, OUT ends_at timestamptz)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT (now() AT TIME ZONE coalesce(time_zone, 'UTC'))::date,
	   ((now() AT TIME ZONE coalesce(time_zone, 'UTC'))::date + 1)::timestamp AT TIME ZONE coalesce(time_zone, 'UTC')
$$;
COMMENT ON FUNCTION togai_zoho.api_day(text) IS 'The date in a time zone (NULL: UTC) and the moment it ends';
REVOKE ALL ON FUNCTION togai_zoho.api_day(text) FROM PUBLIC;

CREATE FUNCTION togai_zoho.api_budget_refresh(connection_id bigint, lift_pause boolean)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_budget_refresh';
COMMENT ON FUNCTION togai_zoho.api_budget_refresh(bigint, boolean) IS
'Internal: gives the shared budget of a connection its stored settings now, and lifts a pause for the day';
REVOKE ALL ON FUNCTION togai_zoho.api_budget_refresh(bigint, boolean) FROM PUBLIC;

CREATE FUNCTION togai_zoho.api_budget_live(connection_id bigint,
	OUT delivery_calls integer, OUT poll_calls integer, OUT session_calls integer,
	OUT token_calls integer, OUT refused integer, OUT in_flight integer,
	OUT paused_until timestamptz, OUT day_resets_at timestamptz, OUT runs_out_at timestamptz)
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_budget_live';
COMMENT ON FUNCTION togai_zoho.api_budget_live(bigint) IS
'Internal: the day''s calls of a connection as every process sees them now (NULLs before its first call since the server started)';
REVOKE ALL ON FUNCTION togai_zoho.api_budget_live(bigint) FROM PUBLIC;

CREATE FUNCTION togai_zoho.api_plan(plan text, OUT per_day integer, OUT concurrent integer)
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_plan';
COMMENT ON FUNCTION togai_zoho.api_plan(text) IS
'Internal: a Zoho Books plan''s daily API budget and concurrency cap (NULLs for an unknown plan)';
REVOKE ALL ON FUNCTION togai_zoho.api_plan(text) FROM PUBLIC;

CREATE FUNCTION togai_zoho.api_poll_spacing(connection_id bigint, streams integer, active boolean)
	RETURNS double precision
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_poll_spacing';
COMMENT ON FUNCTION togai_zoho.api_poll_spacing(bigint, integer, boolean) IS
'Internal: seconds between polls of a stream that keep the polls within togai_zoho.poll_share of the day''s budget; NULL when that share is spent, -1 when the whole budget is (or the connection is paused for the day)';
REVOKE ALL ON FUNCTION togai_zoho.api_poll_spacing(bigint, integer, boolean) FROM PUBLIC;

/*
 * The organization's time zone, for the end of its API day: Zoho Books
 * names it in GET /organizations (time_zone, or timezone in older answers).
 */
CREATE FUNCTION togai_zoho.learn_time_zone(c togai_zoho.connection)
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	tz text;
	base text;
BEGIN
	SELECT coalesce(o ->> 'time_zone', o ->> 'timezone'), upper(o ->> 'currency_code') INTO tz, base
	  FROM jsonb_array_elements(togai_zoho.zohobooks_call(c.name, 'organizations')) o
	 WHERE o ->> 'organization_id' = c.organization_id;
	/* the same answer names the base currency: kept for exchange rates */
	IF base ~ '^[A-Z]{3}$' THEN
		UPDATE togai_zoho.connection x SET base_currency = base
		 WHERE x.id = c.id AND x.base_currency IS DISTINCT FROM base;
	END IF;
	IF tz IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz) THEN
		RAISE WARNING 'togai_zoho: the time zone of organization % is unknown (%): its API day ends at midnight UTC',
			c.organization_id, coalesce(tz, 'not given');
		RETURN NULL;
	END IF;
	RETURN tz;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'togai_zoho: could not read the time zone of organization %: %', c.organization_id, SQLERRM
		USING HINT = 'Its API day ends at midnight UTC until set_api_budget() is called again.';
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION togai_zoho.learn_time_zone(togai_zoho.connection) IS
'Internal: the time zone of a Zoho Books connection''s organization, read from GET /organizations (NULL, with a WARNING, when unknown); keeps its base currency on the way';
REVOKE ALL ON FUNCTION togai_zoho.learn_time_zone(togai_zoho.connection) FROM PUBLIC;

CREATE VIEW togai_zoho.api_usage AS
SELECT c.name AS connection, c.app, c.api_plan AS plan, c.api_per_day AS per_day,
	   coalesce(c.api_concurrent, CASE c.app WHEN 'zohobooks' THEN 10 END) AS concurrent,
	   coalesce(l.delivery_calls + l.poll_calls + l.session_calls,
				u.delivery_calls + u.poll_calls + u.session_calls, 0) AS calls_today,
	   coalesce(l.delivery_calls, u.delivery_calls, 0) AS delivery_calls,
	   coalesce(l.poll_calls, u.poll_calls, 0) AS poll_calls,
	   coalesce(l.session_calls, u.session_calls, 0) AS session_calls,
	   coalesce(l.token_calls, u.token_calls, 0) AS token_calls,
	   coalesce(l.refused, u.refused, 0) AS refused_today,
	   coalesce(l.in_flight, 0) AS in_flight,
	   CASE WHEN l.in_flight IS NOT NULL THEN l.paused_until
			WHEN u.paused_until > now() THEN u.paused_until END AS paused_until,
	   d.ends_at AS day_resets_at,
	   l.runs_out_at AS budget_runs_out_at,
	   coalesce(c.time_zone, 'UTC') AS time_zone
  FROM togai_zoho.connection c
 CROSS JOIN LATERAL togai_zoho.api_day(c.time_zone) d
 CROSS JOIN LATERAL togai_zoho.api_budget_live(c.id) l
  LEFT JOIN togai_zoho.api_usage_day u ON u.connection_id = c.id AND u.day = d.day;
COMMENT ON VIEW togai_zoho.api_usage IS
'Each connection''s API calls today (its organization''s day), by purpose, against its daily budget and concurrency cap: refusals, a pause for the day, when the day resets and when the budget runs out at today''s pace';
COMMENT ON COLUMN togai_zoho.api_usage.connection IS 'The connection''s name';
COMMENT ON COLUMN togai_zoho.api_usage.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.api_usage.plan IS 'The Zoho Books plan the budget was set from, if any';
COMMENT ON COLUMN togai_zoho.api_usage.per_day IS 'API calls a day allowed (NULL: no daily budget)';
COMMENT ON COLUMN togai_zoho.api_usage.concurrent IS 'API calls in flight at once allowed, whatever togai_zoho.max_concurrency says (NULL: no cap)';
COMMENT ON COLUMN togai_zoho.api_usage.delivery_calls IS 'Today''s API calls of jobs';
COMMENT ON COLUMN togai_zoho.api_usage.poll_calls IS 'Today''s API calls of polls';
COMMENT ON COLUMN togai_zoho.api_usage.session_calls IS 'Today''s API calls of other SQL functions';
COMMENT ON COLUMN togai_zoho.api_usage.token_calls IS 'Access tokens minted today (the accounts server: not in calls_today)';
COMMENT ON COLUMN togai_zoho.api_usage.in_flight IS 'API calls in flight now, from every process';
COMMENT ON COLUMN togai_zoho.api_usage.day_resets_at IS 'The organization''s next midnight, when the counts start again';
COMMENT ON COLUMN togai_zoho.api_usage.time_zone IS 'The organization''s time zone (from GET /organizations; UTC when unknown)';
COMMENT ON COLUMN togai_zoho.api_usage.calls_today IS 'API calls today: delivery, poll and session calls (token mints go to the accounts server and are not counted)';
COMMENT ON COLUMN togai_zoho.api_usage.refused_today IS 'Calls the remote refused for rate (HTTP 429) today';
COMMENT ON COLUMN togai_zoho.api_usage.paused_until IS 'The remote''s daily cap was reached: no call until then (set_api_budget lifts it)';
COMMENT ON COLUMN togai_zoho.api_usage.budget_runs_out_at IS 'When per_day is reached at today''s pace, if before the day resets';
REVOKE ALL ON togai_zoho.api_usage FROM PUBLIC;

/*
 * set_api_budget: the daily budget and concurrency cap of a connection.  A
 * plan gives both; a NULL keeps what is set; 0 removes a limit.  It takes
 * effect at once for every process and lifts a pause for the day.
 */
CREATE FUNCTION togai_zoho.set_api_budget(connection text, per_day integer DEFAULT NULL,
										  concurrent integer DEFAULT NULL, plan text DEFAULT NULL)
	RETURNS SETOF togai_zoho.api_usage
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(set_api_budget.connection);
	v_day integer := c.api_per_day;
	v_conc integer := c.api_concurrent;
	v_tz text := c.time_zone;
BEGIN
	IF set_api_budget.plan IS NOT NULL THEN
		IF c.app <> 'zohobooks' THEN
			RAISE EXCEPTION 'a plan is a Zoho Books plan; connection "%" is a % connection', c.name, c.app
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Give per_day and concurrent for a Togai connection.';
		END IF;
		SELECT p.per_day, p.concurrent INTO v_day, v_conc FROM togai_zoho.api_plan(set_api_budget.plan) p;
		IF v_day IS NULL THEN
			RAISE EXCEPTION 'unknown Zoho Books plan "%"', set_api_budget.plan
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Plans: free, standard, professional, premium, elite, ultimate.';
		END IF;
	END IF;
	IF set_api_budget.per_day < 0 OR set_api_budget.concurrent < 0 THEN
		RAISE EXCEPTION 'per_day and concurrent must not be negative'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'NULL keeps the value set; 0 removes the limit.';
	END IF;
	IF set_api_budget.per_day IS NOT NULL THEN
		v_day := nullif(set_api_budget.per_day, 0);
	END IF;
	IF set_api_budget.concurrent IS NOT NULL THEN
		v_conc := nullif(set_api_budget.concurrent, 0);
	END IF;
	UPDATE togai_zoho.connection x
	   SET api_per_day = v_day, api_concurrent = v_conc,
		   api_plan = coalesce(set_api_budget.plan, CASE WHEN set_api_budget.per_day IS NULL
													  AND set_api_budget.concurrent IS NULL
													 THEN x.api_plan END),
		   updated_at = now()
	 WHERE x.id = c.id
	RETURNING * INTO c;
	/* a new budget lifts a pause for the day, before the time zone is read */
	PERFORM togai_zoho.api_budget_refresh(c.id, true);
	IF c.app = 'zohobooks' THEN
		v_tz := coalesce(togai_zoho.learn_time_zone(c), v_tz);
		UPDATE togai_zoho.connection x SET time_zone = v_tz WHERE x.id = c.id RETURNING * INTO c;
		PERFORM togai_zoho.api_budget_refresh(c.id, false);
	END IF;
	/* the jobs that wait for this connection's budget look again now */
	UPDATE togai_zoho.outbox o SET due_at = now()
	 WHERE o.state = 'pending' AND o.due_at > now()
	   AND (o.last_error LIKE 'the daily API budget of connection %'
			OR o.last_error LIKE 'the remote refused connection %')
	   AND position(format('connection "%s"', c.name) IN o.last_error) > 0;
	IF FOUND THEN
		PERFORM togai_zoho.notify_worker();
	END IF;
	RETURN QUERY SELECT * FROM togai_zoho.api_usage u WHERE u.connection = c.name;
END
$$;
COMMENT ON FUNCTION togai_zoho.set_api_budget(text, integer, integer, text) IS
'Sets a connection''s daily API budget and concurrency cap (plan: free, standard, professional, premium, elite, ultimate gives both; NULL keeps a value; 0 removes a limit); takes effect at once and lifts a pause for the day';
REVOKE ALL ON FUNCTION togai_zoho.set_api_budget(text, integer, integer, text) FROM PUBLIC;

/*
 * Invoices made as drafts, to be marked sent with one bulk call for many
 * (POST /invoices/status/sent): written with the job's outcome, deleted
 * once Zoho Books marked them.
 */
CREATE TABLE togai_zoho.zohobooks_unsent (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	invoice_id    text NOT NULL,
	queued_at     timestamptz NOT NULL DEFAULT now(),
	attempts      integer NOT NULL DEFAULT 0,
	last_error    text,
	PRIMARY KEY (connection_id, invoice_id)
);
COMMENT ON TABLE togai_zoho.zohobooks_unsent IS
'Zoho Books invoices made as drafts by invoice_create with mark_sent, waiting for the bulk call that marks them sent';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.connection_id IS 'The Zoho Books connection';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.invoice_id IS 'The Zoho Books invoice';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.queued_at IS 'When its job made it';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.attempts IS 'Times Zoho Books refused to mark it (after 5 it is left for a person)';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.last_error IS 'Zoho Books'' words for the last refusal';
REVOKE ALL ON togai_zoho.zohobooks_unsent FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_unsent', '');
