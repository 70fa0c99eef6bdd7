/*-------------------------------------------------------------------------
 *
 * exchange.c
 *	  The exchange rate of an invoice or payment in a currency other than
 *	  the organization's base: Togai's where the object has one, else Zoho
 *	  Books' own for the date, read once per organization, currency and day.
 *
 * job_context() says, per organization, what is known (togai_zoho.
 * exchange_plans: Togai's rate, a rate a job kept within the day in
 * zohobooks_exchange_rate, the currency's Zoho Books id); the steps here
 * read what is not, keep it for the jobs after, and put it on the body
 * with a word in the result on where it came from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "utils/timestamp.h"

#include "pure/action.h"
#include "exchange.h"
#include "kit.h"

/* What this action's organization needs for an exchange rate (togai_zoho.exchange_plans), or NULL. */
static json_t *
exchange_plan(TzJob *job)
{
	return tz_step_for_organization(job, "exchange");
}

/*
 * The exchange rates this process is reading: jobs claimed together (a
 * billing run of one date) would each read the same rate before the first
 * answer is kept; the others wait for it instead, a moment, not as an
 * attempt, and then find it in zohobooks_exchange_rate.
 */
#define RATE_READS 16
#define RATE_READ_HOLD_MS (30 * 1000)
#define RATE_WAIT_MS 2000

static struct
{
	int64		connection_id;
	char		key[64];		/* currency and day */
	int64		job_id;
	TimestampTz until;
}			rate_reads[RATE_READS];

/* Whether another job reads this rate now; if none does, this job is noted as its reader. */
static bool
rate_read_by_another(TzJob *job, const char *currency, const char *day)
{
	int64		connection_id = tz_step_action(job)->connection_id;
	TimestampTz now = GetCurrentTimestamp();
	char		key[64];
	int			free_slot = 0;

	snprintf(key, sizeof(key), "%s %s", currency ? currency : "", day ? day : "");
	for (int i = 0; i < RATE_READS; i++)
	{
		if (rate_reads[i].until > now && rate_reads[i].connection_id == connection_id &&
			strcmp(rate_reads[i].key, key) == 0)
			return rate_reads[i].job_id != job->id;
		if (rate_reads[i].until < rate_reads[free_slot].until)
			free_slot = i;
	}
	rate_reads[free_slot].connection_id = connection_id;
	strlcpy(rate_reads[free_slot].key, key, sizeof(rate_reads[free_slot].key));
	rate_reads[free_slot].job_id = job->id;
	rate_reads[free_slot].until = TimestampTzPlusMilliseconds(now, RATE_READ_HOLD_MS);
	return false;
}

/*
 * An object in a currency other than the organization's base without
 * Togai's rate: Zoho Books' rate for its date is read first (or taken from
 * what a job read within the day).  True: that call is planned, or the job
 * waits for another job reading it.
 */
bool
tz_step_read_exchange_rate(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *plan = exchange_plan(job);
	const char *currency_id = json_string_value(json_object_get(plan, "currency_id"));
	const char *date = json_string_value(json_object_get(plan, "date"));
	const char *currency = json_string_value(json_object_get(plan, "currency"));
	json_t	   *cached = json_object_get(plan, "cached");

	if (plan == NULL || json_is_number(json_object_get(plan, "rate")) || a->rate_read ||
		currency_id == NULL)
		return false;
	if (json_is_object(cached))
	{
		/* read by a job within the day: the same answer */
		a->rate_read = true;
		a->rate = json_is_number(json_object_get(cached, "rate")) ?
			json_deep_copy(json_object_get(cached, "rate")) : NULL;
		a->rate_date = json_string_value(json_object_get(cached, "date")) ?
			pstrdup(json_string_value(json_object_get(cached, "date"))) : NULL;
		return false;
	}
	if (rate_read_by_another(job, currency, date))
	{
		job->delay_ms = RATE_WAIT_MS;
		tz_step_finish(job, TZ_OUTCOME_DEFERRED,
					   psprintf("waiting: another job reads Zoho Books' %s rate of %s",
						currency ? currency : "?", date ? date : "the day"));
		return true;
	}
	tz_step_call(job, TZ_PHASE_EXCHANGE_RATE, "exchange_rates", currency_id,
				 date ? TZ_STEP_QUERY(job, "exchange_rates", "from_date", date) : NULL, NULL);
	return true;
}

/* Keeps the rate just read (or that there is none) for objects of the same currency and day. */
static void
remember_rate(TzJob *job)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *plan = exchange_plan(job);
	const char *currency = json_string_value(json_object_get(plan, "currency"));
	const char *day = json_string_value(json_object_get(plan, "date"));
	TzLearntRate *learnt;

	if (currency == NULL || day == NULL)
		return;
	learnt = palloc0(sizeof(TzLearntRate));
	learnt->connection_id = a->connection_id;
	learnt->currency = pstrdup(currency);
	learnt->day = pstrdup(day);
	/* jansson allocates in the job's memory context */
	learnt->rate = a->rate ? json_dumps(a->rate, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
	learnt->effective = a->rate_date ? pnstrdup(a->rate_date, 64) : NULL;
	job->rates_learnt = lappend(job->rates_learnt, learnt);
}

/* The exchange rate on a body, and where it came from in the result. */
void
tz_step_add_exchange_rate(TzJob *job, json_t *body)
{
	TzJobAction *a = tz_step_action(job);
	json_t	   *plan = exchange_plan(job);
	json_t	   *togai = json_object_get(plan, "rate");
	const char *currency = json_string_value(json_object_get(plan, "currency"));
	const char *base = json_string_value(json_object_get(plan, "base"));
	const char *date = json_string_value(json_object_get(plan, "date"));

	if (plan == NULL || body == NULL)
		return;
	if (json_is_number(togai) || a->rate)
	{
		json_object_set(body, "exchange_rate", json_is_number(togai) ? togai : a->rate);
		tz_step_note(job, psprintf("exchange rate %s/%s %.*g, %s", currency ? currency : "?",
							   base ? base : "?", 15,
							   json_number_value(json_is_number(togai) ? togai : a->rate),
							   json_is_number(togai) ? "Togai's" :
							   psprintf("Zoho Books' of %s", a->rate_date ? a->rate_date : "?")));
	}
	else
		tz_step_note(job, psprintf("no exchange rate %s/%s in Zoho Books for %s or before%s: Zoho Books "
							   "applies its own", currency ? currency : "?", base ? base : "?",
							   date ? date : "the date",
							   json_object_get(plan, "currency_id") ? "" :
							   " (the currency's Zoho Books id is not known)"));
}

/* Zoho Books' answer: its rate for the date (or that there is none), kept. */
void
tz_step_exchange_rate_read(TzJob *job, const TzApiResult *r)
{
	TzJobAction *a = tz_step_action(job);
	const char *date = json_string_value(json_object_get(exchange_plan(job), "date"));
	const char *effective = NULL;
	json_t	   *rate = tz_find_exchange_rate(r->root, date, &effective);

	a->rate_read = true;
	a->rate = rate ? json_deep_copy(rate) : NULL;
	a->rate_date = effective ? pstrdup(effective) : NULL;
	remember_rate(job);
}
