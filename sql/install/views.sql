/*
 * views.sql
 *	  What an operator reads in psql: connections, flows, status, dead jobs,
 *	  attempts, mappings, polls and API usage.
 */

CREATE VIEW togai_zoho.connections AS
SELECT c.id, c.name, c.app, c.base_url, c.accounts_url, c.region, c.organization_id,
	   c.client_id, c.rate_limit_per_minute,
	   (s.api_token IS NOT NULL OR s.refresh_token IS NOT NULL) AS has_credentials,
	   s.access_token_expires_at,
	   (SELECT count(*) FROM togai_zoho.flow f
		 WHERE f.trigger_connection_id = c.id
			OR EXISTS (SELECT 1 FROM togai_zoho.flow_action a
						WHERE a.flow_id = f.id AND a.connection_id = c.id)) AS flows,
	   c.created_at, c.updated_at
  FROM togai_zoho.connection c
  LEFT JOIN togai_zoho.connection_secret s ON s.connection_id = c.id;
COMMENT ON VIEW togai_zoho.connections IS 'Connections, without secrets';
COMMENT ON COLUMN togai_zoho.connections.id IS 'Connection id';
COMMENT ON COLUMN togai_zoho.connections.name IS 'Connection name';
COMMENT ON COLUMN togai_zoho.connections.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.connections.base_url IS 'API root';
COMMENT ON COLUMN togai_zoho.connections.accounts_url IS 'Zoho accounts server (Zoho Books only)';
COMMENT ON COLUMN togai_zoho.connections.region IS 'Zoho data centre (Zoho Books only)';
COMMENT ON COLUMN togai_zoho.connections.organization_id IS 'Zoho Books organization (Zoho Books only)';
COMMENT ON COLUMN togai_zoho.connections.client_id IS 'Zoho self-client id (Zoho Books only)';
COMMENT ON COLUMN togai_zoho.connections.rate_limit_per_minute IS 'Calls per minute; NULL means the app''s published limit';
COMMENT ON COLUMN togai_zoho.connections.has_credentials IS 'Whether a token (Togai) or refresh token (Zoho Books) is stored';
COMMENT ON COLUMN togai_zoho.connections.access_token_expires_at IS 'Expiry of the cached Zoho access token';
COMMENT ON COLUMN togai_zoho.connections.flows IS 'Number of flows using the connection';
COMMENT ON COLUMN togai_zoho.connections.created_at IS 'When the connection was added';
COMMENT ON COLUMN togai_zoho.connections.updated_at IS 'When the connection last changed';

CREATE VIEW togai_zoho.flows AS
SELECT f.id, f.name, f.direction, c.app AS trigger_app, c.name AS trigger_connection,
	   f.trigger, f.enabled,
	   (SELECT string_agg(format('%s. %s: %s%s', a.position, ac.name, a.action,
								 CASE WHEN a.options <> '{}' THEN ' ' || a.options::text END),
						  E'\n' ORDER BY a.position)
		  FROM togai_zoho.flow_action a
		  JOIN togai_zoho.connection ac ON ac.id = a.connection_id
		 WHERE a.flow_id = f.id) AS actions,
	   f.description, f.created_at, f.updated_at
  FROM togai_zoho.flow f
  JOIN togai_zoho.connection c ON c.id = f.trigger_connection_id;
COMMENT ON VIEW togai_zoho.flows IS 'Flows with their trigger and actions in order';
COMMENT ON COLUMN togai_zoho.flows.id IS 'Flow id';
COMMENT ON COLUMN togai_zoho.flows.name IS 'Flow name';
COMMENT ON COLUMN togai_zoho.flows.direction IS 'outbound or inbound';
COMMENT ON COLUMN togai_zoho.flows.trigger_app IS 'App whose events start the flow';
COMMENT ON COLUMN togai_zoho.flows.trigger_connection IS 'Connection whose events start the flow';
COMMENT ON COLUMN togai_zoho.flows.trigger IS 'Trigger';
COMMENT ON COLUMN togai_zoho.flows.enabled IS 'Whether the flow enqueues work';
COMMENT ON COLUMN togai_zoho.flows.actions IS 'Actions in order, one a line, as "position. connection: action options"';
COMMENT ON COLUMN togai_zoho.flows.description IS 'Free text';
COMMENT ON COLUMN togai_zoho.flows.created_at IS 'When the flow was created';
COMMENT ON COLUMN togai_zoho.flows.updated_at IS 'When the flow or its actions last changed';

CREATE VIEW togai_zoho.sync_status AS
SELECT f.name AS flow, f.direction, f.trigger, f.enabled,
	   count(o.id) FILTER (WHERE o.state = 'pending') +
		(SELECT count(*) FROM togai_zoho.outbox_stage s, unnest(s.flow_ids) AS u(id) WHERE u.id = f.id) AS pending,
	   count(o.id) FILTER (WHERE o.state = 'running') AS running,
	   count(o.id) FILTER (WHERE o.state = 'done') AS done,
	   count(o.id) FILTER (WHERE o.state = 'dead') AS dead,
	   now() - least(min(o.due_at) FILTER (WHERE o.state = 'pending' AND o.due_at <= now()),
					 (SELECT min(s.created_at) FROM togai_zoho.outbox_stage s WHERE f.id = ANY (s.flow_ids)))
		   AS oldest_due_age,
	   max(o.finished_at) FILTER (WHERE o.state = 'done') AS last_delivered_at,
	   (SELECT e.last_error FROM togai_zoho.outbox e
		 WHERE e.flow_id = f.id AND e.last_error IS NOT NULL
		 ORDER BY e.updated_at DESC LIMIT 1) AS last_error,
	   f.backfill_calls, f.backfill_days
  FROM togai_zoho.flow f
  LEFT JOIN togai_zoho.outbox o ON o.flow_id = f.id
 GROUP BY f.id;
COMMENT ON VIEW togai_zoho.sync_status IS 'Per flow: jobs pending, running, done and dead, the oldest due job''s age and the last error';
COMMENT ON COLUMN togai_zoho.sync_status.flow IS 'Flow name';
COMMENT ON COLUMN togai_zoho.sync_status.direction IS 'outbound or inbound';
COMMENT ON COLUMN togai_zoho.sync_status.trigger IS 'Trigger';
COMMENT ON COLUMN togai_zoho.sync_status.enabled IS 'Whether the flow enqueues work';
COMMENT ON COLUMN togai_zoho.sync_status.pending IS 'Jobs waiting to run (due now or retrying later)';
COMMENT ON COLUMN togai_zoho.sync_status.running IS 'Jobs leased by a worker or process_outbox()';
COMMENT ON COLUMN togai_zoho.sync_status.done IS 'Jobs delivered (kept for togai_zoho.ttl)';
COMMENT ON COLUMN togai_zoho.sync_status.dead IS 'Jobs given up on; see dead_jobs and retry()';
COMMENT ON COLUMN togai_zoho.sync_status.oldest_due_age IS 'How long the oldest due job has waited';
COMMENT ON COLUMN togai_zoho.sync_status.last_delivered_at IS 'When a job of the flow was last delivered';
COMMENT ON COLUMN togai_zoho.sync_status.last_error IS 'The most recent error of any job of the flow';
COMMENT ON COLUMN togai_zoho.sync_status.backfill_calls IS 'Zoho Books calls the flow''s last backfill needs (an estimate)';
COMMENT ON COLUMN togai_zoho.sync_status.backfill_days IS 'Days those calls take within the daily budget, less the polls'' share (NULL: no daily budget)';

CREATE VIEW togai_zoho.dead_jobs AS
SELECT o.id AS job, f.name AS flow, o.entity, o.source_id, o.step, o.attempts,
	   o.last_http_status, o.last_error, o.created_at, o.finished_at AS died_at, o.payload
  FROM togai_zoho.outbox o
  JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE o.state = 'dead';
COMMENT ON VIEW togai_zoho.dead_jobs IS 'Jobs given up on, with the remote''s last answer';
COMMENT ON COLUMN togai_zoho.dead_jobs.job IS 'Job id (pass it to retry())';
COMMENT ON COLUMN togai_zoho.dead_jobs.flow IS 'Flow name';
COMMENT ON COLUMN togai_zoho.dead_jobs.entity IS 'Kind of source object';
COMMENT ON COLUMN togai_zoho.dead_jobs.source_id IS 'Id of the source object';
COMMENT ON COLUMN togai_zoho.dead_jobs.step IS 'Action position the job stopped at';
COMMENT ON COLUMN togai_zoho.dead_jobs.attempts IS 'Attempts made';
COMMENT ON COLUMN togai_zoho.dead_jobs.last_http_status IS 'HTTP status of the last attempt';
COMMENT ON COLUMN togai_zoho.dead_jobs.last_error IS 'Why it died, as the remote said it';
COMMENT ON COLUMN togai_zoho.dead_jobs.created_at IS 'When the job was enqueued';
COMMENT ON COLUMN togai_zoho.dead_jobs.died_at IS 'When the job was given up on';
COMMENT ON COLUMN togai_zoho.dead_jobs.payload IS 'The source row the job carried';

CREATE VIEW togai_zoho.job_attempts AS
SELECT a.job_id AS job, f.name AS flow, o.entity, o.source_id, a.attempt, a.step,
	   a.outcome, a.http_status, a.error, a.requests, a.started_at, a.finished_at,
	   a.finished_at - a.started_at AS took, a.worker
  FROM togai_zoho.outbox_attempt a
  JOIN togai_zoho.outbox o ON o.id = a.job_id
  JOIN togai_zoho.flow f ON f.id = o.flow_id;
COMMENT ON VIEW togai_zoho.job_attempts IS 'Every delivery attempt: job, flow, outcome, HTTP status, error and timing';
COMMENT ON COLUMN togai_zoho.job_attempts.job IS 'Job id';
COMMENT ON COLUMN togai_zoho.job_attempts.flow IS 'Flow name';
COMMENT ON COLUMN togai_zoho.job_attempts.entity IS 'Kind of source object';
COMMENT ON COLUMN togai_zoho.job_attempts.source_id IS 'Id of the source object';
COMMENT ON COLUMN togai_zoho.job_attempts.attempt IS 'Attempt number';
COMMENT ON COLUMN togai_zoho.job_attempts.step IS 'Action position the attempt ended on';
COMMENT ON COLUMN togai_zoho.job_attempts.outcome IS 'delivered, retry, dead, deferred, throttled or reclaimed';
COMMENT ON COLUMN togai_zoho.job_attempts.http_status IS 'HTTP status of the last answer';
COMMENT ON COLUMN togai_zoho.job_attempts.error IS 'What went wrong';
COMMENT ON COLUMN togai_zoho.job_attempts.requests IS 'API requests made';
COMMENT ON COLUMN togai_zoho.job_attempts.started_at IS 'When the attempt began';
COMMENT ON COLUMN togai_zoho.job_attempts.finished_at IS 'When its outcome was written';
COMMENT ON COLUMN togai_zoho.job_attempts.took IS 'How long the attempt took';
COMMENT ON COLUMN togai_zoho.job_attempts.worker IS 'worker, or process_outbox with its process id';

CREATE VIEW togai_zoho.mappings AS
SELECT m.entity, m.togai_id, m.togai_customer_id, m.zohobooks_id,
	   t.name AS togai_connection, z.name AS zohobooks_connection, m.created_at, m.updated_at
  FROM togai_zoho.id_mapping m
  JOIN togai_zoho.connection t ON t.id = m.togai_connection_id
  JOIN togai_zoho.connection z ON z.id = m.zohobooks_connection_id;
COMMENT ON VIEW togai_zoho.mappings IS 'Togai and Zoho Books ids that correspond, with connection names';
COMMENT ON COLUMN togai_zoho.mappings.entity IS 'account (Zoho Books contact), invoice or payment';
COMMENT ON COLUMN togai_zoho.mappings.togai_id IS 'Togai id';
COMMENT ON COLUMN togai_zoho.mappings.togai_customer_id IS 'Togai customer id, for accounts';
COMMENT ON COLUMN togai_zoho.mappings.zohobooks_id IS 'Zoho Books id';
COMMENT ON COLUMN togai_zoho.mappings.togai_connection IS 'Togai connection name';
COMMENT ON COLUMN togai_zoho.mappings.zohobooks_connection IS 'Zoho Books connection name';
COMMENT ON COLUMN togai_zoho.mappings.created_at IS 'When the mapping was made';
COMMENT ON COLUMN togai_zoho.mappings.updated_at IS 'When the mapping last changed';

/*
 * Synced invoices whose money the two sides see differently, as each was
 * last read (the Togai mirror, the Zoho Books inbox): a total that differs,
 * or what is still owed.  Written off and voided invoices owe nothing.
 * While a payment travels, its invoice shows here until both polls saw it.
 */
CREATE VIEW togai_zoho.money_differences AS
SELECT t.name AS togai_connection, z.name AS zohobooks_connection,
	   i.invoice_id AS togai_invoice, i.sequence_id AS togai_number, m.zohobooks_id AS zohobooks_invoice,
	   i.status AS togai_status, x.status AS zohobooks_status, i.currency,
	   i.total_amount AS togai_total, togai_zoho.json_numeric(x.payload -> 'total') AS zohobooks_total,
	   d.togai_owed, d.zohobooks_balance, d.zohobooks_balance - d.togai_owed AS difference,
	   i.mirrored_at AS togai_read_at, x.received_at AS zohobooks_first_read_at,
	   x.remote_modified_at AS zohobooks_modified_at
  FROM togai_zoho.id_mapping m
  JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id AND i.invoice_id = m.togai_id
  JOIN togai_zoho.inbox x ON x.connection_id = m.zohobooks_connection_id AND x.entity = 'invoice'
						  AND x.remote_id = m.zohobooks_id
  JOIN togai_zoho.connection t ON t.id = m.togai_connection_id
  JOIN togai_zoho.connection z ON z.id = m.zohobooks_connection_id
 CROSS JOIN LATERAL (
	SELECT CASE WHEN i.status IN ('UN_COLLECTIBLE', 'VOID', 'REFUND_COMPLETED') THEN 0
				ELSE round(i.total_amount - coalesce(i.paid_amount, 0), togai_zoho.currency_digits(i.currency))
		   END AS togai_owed,
		   CASE WHEN x.status = 'void' THEN 0
				ELSE round(togai_zoho.json_numeric(x.payload -> 'balance'), togai_zoho.currency_digits(i.currency))
		   END AS zohobooks_balance) d
 WHERE m.entity = 'invoice'
   AND (d.togai_owed IS DISTINCT FROM d.zohobooks_balance
		/* with its prepaid credits as a credit note, the Zoho Books total is before credits */
		OR coalesce(round(togai_zoho.json_numeric(x.payload -> 'total'), togai_zoho.currency_digits(i.currency))
		   NOT IN (round(i.total_amount, togai_zoho.currency_digits(i.currency)),
				   round(i.total_amount, togai_zoho.currency_digits(i.currency))
				   + togai_zoho.invoice_credits(jsonb_build_object('revenue_info', i.revenue_info),
												togai_zoho.currency_digits(i.currency))), true));
COMMENT ON VIEW togai_zoho.money_differences IS 'Synced invoices whose total (before or after prepaid credits) or amount owed differs between Togai and Zoho Books, as each side was last read';
COMMENT ON COLUMN togai_zoho.money_differences.togai_connection IS 'Togai connection name';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_connection IS 'Zoho Books connection name';
COMMENT ON COLUMN togai_zoho.money_differences.togai_invoice IS 'Togai invoice id';
COMMENT ON COLUMN togai_zoho.money_differences.togai_number IS 'Togai invoice number (sequenceId)';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_invoice IS 'Zoho Books invoice id';
COMMENT ON COLUMN togai_zoho.money_differences.togai_status IS 'Togai status';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_status IS 'Zoho Books status';
COMMENT ON COLUMN togai_zoho.money_differences.currency IS 'Currency of both amounts';
COMMENT ON COLUMN togai_zoho.money_differences.togai_total IS 'Togai total';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_total IS 'Zoho Books total';
COMMENT ON COLUMN togai_zoho.money_differences.togai_owed IS 'Still owed in Togai: total less paid (0 written off, voided or refunded)';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_balance IS 'Still owed in Zoho Books: its balance (0 voided)';
COMMENT ON COLUMN togai_zoho.money_differences.difference IS 'zohobooks_balance less togai_owed';
COMMENT ON COLUMN togai_zoho.money_differences.togai_read_at IS 'When the Togai invoice was last changed in the mirror';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_first_read_at IS 'When the Zoho Books invoice first reached the inbox';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_modified_at IS 'Zoho Books last_modified_time as last read';

/* Where each poll stream stands, and what stopped it last. */
CREATE VIEW togai_zoho.poll_status AS
SELECT c.name AS connection, c.app, s.stream,
	   (s.cursor::jsonb ->> 'last_poll_at')::timestamptz AS last_poll_at,
	   (s.cursor::jsonb ->> 'last_full_walk')::timestamptz AS last_complete_walk_at,
	   s.cursor::jsonb ->> 'last_error' AS last_error,
	   (s.cursor::jsonb ->> 'last_error_at')::timestamptz AS last_error_at,
	   s.cursor::jsonb ->> 'since' AS changed_since,
	   (s.cursor::jsonb ->> 'next_poll_at')::timestamptz AS next_poll_at,
	   (s.cursor::jsonb ->> 'idle_polls')::integer AS quiet_polls
  FROM togai_zoho.sync_cursor s
  JOIN togai_zoho.connection c ON c.id = s.connection_id;
COMMENT ON VIEW togai_zoho.poll_status IS
'Each polled stream of each connection: when it was last polled and last walked to its end, the error that stopped it (until a walk completes), and the change time the next poll reads from';
COMMENT ON COLUMN togai_zoho.poll_status.connection IS 'Polled connection';
COMMENT ON COLUMN togai_zoho.poll_status.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.poll_status.stream IS 'What is polled (invoices, contacts, accounts, customers)';
COMMENT ON COLUMN togai_zoho.poll_status.last_poll_at IS 'When a poll last read the stream';
COMMENT ON COLUMN togai_zoho.poll_status.last_complete_walk_at IS 'When a poll last read the stream to its end';
COMMENT ON COLUMN togai_zoho.poll_status.last_error IS 'What stopped the stream''s last walk (NULL once a walk completes)';
COMMENT ON COLUMN togai_zoho.poll_status.last_error_at IS 'When that happened';
COMMENT ON COLUMN togai_zoho.poll_status.changed_since IS 'The change time the next walk reads from (Zoho Books)';
COMMENT ON COLUMN togai_zoho.poll_status.next_poll_at IS 'A poll before then skips the stream: it was quiet, or the polls'' budget share is spread over the day (Zoho Books)';
COMMENT ON COLUMN togai_zoho.poll_status.quiet_polls IS 'Polls in a row that found nothing new; each doubles the wait, up to togai_zoho.poll_idle_max';
