/*-------------------------------------------------------------------------
 *
 * budget.c
 *	  A connection's daily API budget and concurrency cap (see budget.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#include <strings.h>

#include "budget.h"

void
tz_budget_roll(TzBudget *b, double now_s)
{
	if (b->day_ends_s <= 0 || now_s < b->day_ends_s)
		return;
	/* a worker idle for days rolls once, to the day now is in */
	while (b->day_ends_s <= now_s)
	{
		b->day_ends_s += TZ_DAY_SECONDS;
		b->day++;
	}
	memset(b->calls, 0, sizeof(b->calls));
	b->refused = 0;
	b->paused_until_s = 0;
	b->first_call_s = 0;
	b->unknown_at_s = 0;
	b->dirty = true;
}

int32_t
tz_budget_spent(const TzBudget *b)
{
	return b->calls[TZ_PURPOSE_DELIVERY] + b->calls[TZ_PURPOSE_POLL] + b->calls[TZ_PURPOSE_SESSION];
}

TzBudgetVerdict
tz_budget_take(TzBudget *b, double now_s, TzPurpose purpose, double *until_s)
{
	tz_budget_roll(b, now_s);
	*until_s = 0;
	if (purpose != TZ_PURPOSE_TOKEN)
	{
		if (b->paused_until_s > now_s)
		{
			*until_s = b->paused_until_s;
			return TZ_BUDGET_PAUSED;
		}
		if (b->per_day > 0 && tz_budget_spent(b) >= b->per_day)
		{
			*until_s = b->day_ends_s;
			return TZ_BUDGET_SPENT;
		}
		if (b->concurrent > 0 && b->in_flight >= b->concurrent)
			return TZ_BUDGET_BUSY;
		b->in_flight++;
		if (b->first_call_s <= 0)
			b->first_call_s = now_s;
	}
	b->calls[purpose]++;
	b->dirty = true;
	return TZ_BUDGET_GO;
}

void
tz_budget_release(TzBudget *b)
{
	if (b->in_flight > 0)
		b->in_flight--;
}

bool
tz_budget_refused(TzBudget *b, double now_s, TzRefusal kind)
{
	bool		for_day = kind == TZ_REFUSAL_DAY;

	tz_budget_roll(b, now_s);
	b->refused++;
	b->dirty = true;
	if (kind == TZ_REFUSAL_UNKNOWN)
	{
		/* the minute's and the concurrency limit pass; the day's repeats */
		for_day = b->unknown_at_s > 0 && now_s - b->unknown_at_s < TZ_UNKNOWN_STRIKE_S;
		b->unknown_at_s = now_s;
	}
	if (for_day)
		b->paused_until_s = b->day_ends_s > now_s ? b->day_ends_s : now_s + TZ_DAY_SECONDS;
	return for_day;
}

void
tz_budget_rest(TzBudget *b, double now_s, double seconds)
{
	tz_budget_roll(b, now_s);
	b->refused++;
	b->dirty = true;
	if (now_s + seconds > b->paused_until_s)
		b->paused_until_s = now_s + seconds;
}

double
tz_budget_runs_out_s(const TzBudget *b, double now_s)
{
	int32_t		spent = tz_budget_spent(b);
	double		elapsed = now_s - b->first_call_s;
	double		at;

	if (b->per_day <= 0 || spent <= 0 || b->first_call_s <= 0)
		return 0;
	if (spent >= b->per_day)
		return now_s;
	if (elapsed < 60)
		elapsed = 60;			/* a burst of a few calls is not a pace */
	at = now_s + (b->per_day - spent) * elapsed / spent;
	return at < b->day_ends_s ? at : 0;
}

double
tz_budget_poll_spacing_s(const TzBudget *b, double now_s, double share, double calls_per_poll,
						 int streams, bool active)
{
	double		allowed = b->per_day * share;
	double		left;
	double		day_left;
	double		on_pace;

	if (b->per_day <= 0 || share <= 0)
		return 0;
	if (streams < 1)
		streams = 1;
	left = allowed - b->calls[TZ_PURPOSE_POLL];
	if (left < calls_per_poll)
		return -1;
	day_left = b->day_ends_s - now_s;
	if (day_left <= 0)
		return 0;
	if (day_left > TZ_DAY_SECONDS)
		day_left = TZ_DAY_SECONDS;
	/* what an even spread would have spent by now, and a few polls more */
	on_pace = allowed * (1.0 - day_left / TZ_DAY_SECONDS) + 5.0 * streams * calls_per_poll;
	if (active && b->calls[TZ_PURPOSE_POLL] <= on_pace)
		return 0;
	return day_left * calls_per_poll * streams / left;
}

/* Whether text holds word, ignoring case. */
static bool
mentions(const char *text, const char *word)
{
	size_t		n = strlen(word);

	for (const char *p = text; *p; p++)
		if (strncasecmp(p, word, n) == 0)
			return true;
	return false;
}

TzRefusal
tz_budget_refusal_kind(const char *message, bool has_retry_after)
{
	static const char *const daily[] = {"per day", "a day", "daily", "today", "24 hours", "in a day"};
	static const char *const shorter[] = {"minute", "second", "concurren", "simultaneous", "parallel"};

	if (message)
	{
		for (size_t i = 0; i < sizeof(daily) / sizeof(daily[0]); i++)
			if (mentions(message, daily[i]))
				return TZ_REFUSAL_DAY;
		for (size_t i = 0; i < sizeof(shorter) / sizeof(shorter[0]); i++)
			if (mentions(message, shorter[i]))
				return TZ_REFUSAL_SHORT;
	}
	/* the daily cap's answer carries no Retry-After */
	return has_retry_after ? TZ_REFUSAL_SHORT : TZ_REFUSAL_UNKNOWN;
}

bool
tz_budget_plan(const char *plan, int32_t *per_day, int32_t *concurrent)
{
	static const struct
	{
		const char *name;
		int32_t		per_day;
		int32_t		concurrent;
	}			plans[] = {
		/* Zoho Books' published figures, per organization */
		{"free", 1000, 5},
		{"standard", 2000, 10},
		{"professional", 5000, 10},
		{"premium", 10000, 10},
		{"elite", 10000, 10},
		{"ultimate", 10000, 10},
	};

	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
		if (strcmp(plan, plans[i].name) == 0)
		{
			*per_day = plans[i].per_day;
			*concurrent = plans[i].concurrent;
			return true;
		}
	return false;
}
