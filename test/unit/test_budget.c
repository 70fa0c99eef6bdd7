/*
 * test_budget.c
 *	  Unit tests of the daily API budget (src/budget.c): the day's calls
 *	  never exceed per_day nor the calls in flight the cap, a new day starts
 *	  again, a refusal for the day pauses until midnight, a rest (Togai's
 *	  429) pauses for its seconds only, and polls keep to their share of the
 *	  day.
 */
#include <stdio.h>
#include <string.h>

#include "budget.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static TzBudget
budget(int per_day, int concurrent)
{
	TzBudget	b;

	memset(&b, 0, sizeof(b));
	b.per_day = per_day;
	b.concurrent = concurrent;
	b.day_ends_s = 1000.0 + TZ_DAY_SECONDS;
	b.day = 7;
	return b;
}

static void
test_daily_budget(void)
{
	TzBudget	b = budget(5, 0);
	double		until;
	int			go = 0;

	for (int i = 0; i < 20; i++)
		if (tz_budget_take(&b, 1000.0 + i, i % 3 == 0 ? TZ_PURPOSE_POLL : TZ_PURPOSE_DELIVERY,
						   &until) == TZ_BUDGET_GO)
		{
			go++;
			tz_budget_release(&b);
		}
	CHECK(go == 5);
	CHECK(tz_budget_spent(&b) == 5);
	CHECK(tz_budget_take(&b, 2000.0, TZ_PURPOSE_SESSION, &until) == TZ_BUDGET_SPENT);
	CHECK(until == b.day_ends_s);
	/* a token mint is counted, never refused, and is not an API call */
	CHECK(tz_budget_take(&b, 2000.0, TZ_PURPOSE_TOKEN, &until) == TZ_BUDGET_GO);
	CHECK(b.calls[TZ_PURPOSE_TOKEN] == 1 && tz_budget_spent(&b) == 5);
	CHECK(b.in_flight == 0);

	/* the next day starts again */
	CHECK(tz_budget_take(&b, 1000.0 + TZ_DAY_SECONDS + 1, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO);
	CHECK(b.day == 8 && tz_budget_spent(&b) == 1);
	CHECK(b.day_ends_s == 1000.0 + 2 * TZ_DAY_SECONDS);
	/* idle for three days: one roll, to the day now is in */
	tz_budget_roll(&b, 1000.0 + 4.5 * TZ_DAY_SECONDS);
	CHECK(b.day == 11 && tz_budget_spent(&b) == 0);

	/* no budget: only counted */
	b = budget(0, 0);
	go = 0;
	for (int i = 0; i < 10000; i++)
		go += tz_budget_take(&b, 1000.0, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO;
	CHECK(go == 10000 && tz_budget_spent(&b) == 10000);
}

static void
test_concurrency(void)
{
	TzBudget	b = budget(0, 3);
	double		until;

	for (int i = 0; i < 3; i++)
		CHECK(tz_budget_take(&b, 1000.0, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO);
	CHECK(tz_budget_take(&b, 1000.0, TZ_PURPOSE_SESSION, &until) == TZ_BUDGET_BUSY);
	CHECK(until == 0);
	CHECK(tz_budget_spent(&b) == 3);	/* a refused take counts nothing */
	tz_budget_release(&b);
	CHECK(tz_budget_take(&b, 1000.0, TZ_PURPOSE_SESSION, &until) == TZ_BUDGET_GO);
	CHECK(b.in_flight == 3);
	for (int i = 0; i < 10; i++)
		tz_budget_release(&b);
	CHECK(b.in_flight == 0);	/* never below zero */
}

static void
test_refusals(void)
{
	TzBudget	b = budget(0, 0);
	double		until;

	CHECK(tz_budget_refusal_kind("You have reached the maximum number of API calls allowed for your organization per day.", false) == TZ_REFUSAL_DAY);
	CHECK(tz_budget_refusal_kind("Daily limit exceeded", true) == TZ_REFUSAL_DAY);
	CHECK(tz_budget_refusal_kind("You have exceeded the maximum number of requests allowed per minute.", false) == TZ_REFUSAL_SHORT);
	CHECK(tz_budget_refusal_kind("Too many concurrent requests", false) == TZ_REFUSAL_SHORT);
	CHECK(tz_budget_refusal_kind("Too many requests", true) == TZ_REFUSAL_SHORT);
	CHECK(tz_budget_refusal_kind("Too many requests", false) == TZ_REFUSAL_UNKNOWN);
	CHECK(tz_budget_refusal_kind(NULL, false) == TZ_REFUSAL_UNKNOWN);

	CHECK(!tz_budget_refused(&b, 1000.0, TZ_REFUSAL_SHORT));
	CHECK(tz_budget_take(&b, 1001.0, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO);
	CHECK(tz_budget_refused(&b, 1002.0, TZ_REFUSAL_DAY));
	CHECK(b.refused == 2);
	CHECK(tz_budget_take(&b, 1003.0, TZ_PURPOSE_POLL, &until) == TZ_BUDGET_PAUSED);
	CHECK(until == b.day_ends_s);
	/* midnight lifts it */
	CHECK(tz_budget_take(&b, b.day_ends_s + 1, TZ_PURPOSE_POLL, &until) == TZ_BUDGET_GO);
	CHECK(b.refused == 0);

	/* an unexplained refusal: the day's only when it repeats within the strike window */
	b = budget(0, 0);
	CHECK(!tz_budget_refused(&b, 1000.0, TZ_REFUSAL_UNKNOWN));
	CHECK(!tz_budget_refused(&b, 1000.0 + TZ_UNKNOWN_STRIKE_S + 1, TZ_REFUSAL_UNKNOWN));
	CHECK(tz_budget_refused(&b, 1000.0 + TZ_UNKNOWN_STRIKE_S + 60, TZ_REFUSAL_UNKNOWN));
	CHECK(b.paused_until_s == b.day_ends_s);
}

/* Togai's 429: a pause of some seconds, counted, never extended to the day. */
static void
test_rest(void)
{
	TzBudget	b = budget(0, 0);
	double		until;

	tz_budget_rest(&b, 1000.0, 60.0);
	CHECK(b.refused == 1);
	CHECK(b.paused_until_s == 1060.0);
	CHECK(tz_budget_take(&b, 1030.0, TZ_PURPOSE_POLL, &until) == TZ_BUDGET_PAUSED);
	CHECK(until == 1060.0);
	/* a shorter rest does not shorten a longer one */
	tz_budget_rest(&b, 1031.0, 5.0);
	CHECK(b.paused_until_s == 1060.0 && b.refused == 2);
	/* tokens are never refused; after the rest calls go on */
	CHECK(tz_budget_take(&b, 1031.0, TZ_PURPOSE_TOKEN, &until) == TZ_BUDGET_GO);
	CHECK(tz_budget_take(&b, 1061.0, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO);
	/* repeated rests stay rests */
	for (int i = 0; i < 5; i++)
		tz_budget_rest(&b, 1100.0 + i, 30.0);
	CHECK(b.paused_until_s == 1134.0);
	CHECK(b.paused_until_s < b.day_ends_s);
}

static void
test_plans(void)
{
	int32_t		d,
				c;

	CHECK(tz_budget_plan("free", &d, &c) && d == 1000 && c == 5);
	CHECK(tz_budget_plan("standard", &d, &c) && d == 2000 && c == 10);
	CHECK(tz_budget_plan("professional", &d, &c) && d == 5000);
	CHECK(tz_budget_plan("ultimate", &d, &c) && d == 10000);
	CHECK(!tz_budget_plan("gold", &d, &c));
}

/* A simulated quiet day: polls spaced as told spend at most their share. */
static void
test_poll_share(void)
{
	TzBudget	b = budget(2000, 10);
	double		t = 1000.0;
	double		until;
	int			polls = 0;
	double		longest = 0;
	double		last = t;

	CHECK(tz_budget_poll_spacing_s(&b, t, 0.1, 1, 1, false) > 400);	/* 86400 / 200 */
	while (t < b.day_ends_s - 1)
	{
		double		s = tz_budget_poll_spacing_s(&b, t, 0.1, 1, 1, false);

		if (s < 0)
			break;
		if (s < 60)
			s = 60;				/* pg_cron runs every minute */
		t += s;
		if (t >= b.day_ends_s)
			break;
		CHECK(tz_budget_take(&b, t, TZ_PURPOSE_POLL, &until) == TZ_BUDGET_GO);
		tz_budget_release(&b);
		polls++;
		if (t - last > longest)
			longest = t - last;
		last = t;
	}
	CHECK(b.calls[TZ_PURPOSE_POLL] <= 200);
	CHECK(polls >= 190);
	CHECK(longest <= 15 * 60);

	/* a busy stream polls at once while the polls are on pace, not after */
	b = budget(2000, 10);
	CHECK(tz_budget_poll_spacing_s(&b, 1000.0, 0.1, 1, 1, true) == 0);
	b.calls[TZ_PURPOSE_POLL] = 150;		/* far ahead of an even spread at 1000 s */
	CHECK(tz_budget_poll_spacing_s(&b, 1000.0, 0.1, 1, 1, true) > 0);
	b.calls[TZ_PURPOSE_POLL] = 200;
	CHECK(tz_budget_poll_spacing_s(&b, 1000.0, 0.1, 1, 1, false) < 0);
	/* no budget: no spacing */
	b = budget(0, 0);
	CHECK(tz_budget_poll_spacing_s(&b, 1000.0, 0.1, 1, 2, false) == 0);
}

static void
test_pace(void)
{
	TzBudget	b = budget(1000, 0);
	double		until;

	CHECK(tz_budget_runs_out_s(&b, 1000.0) == 0);
	for (int i = 0; i < 100; i++)
	{
		CHECK(tz_budget_take(&b, 1000.0 + i * 36.0, TZ_PURPOSE_DELIVERY, &until) == TZ_BUDGET_GO);
		tz_budget_release(&b);
	}
	/* 100 calls in an hour: the other 900 in nine more */
	until = tz_budget_runs_out_s(&b, 1000.0 + 3600.0);
	CHECK(until > 1000.0 + 3600.0 * 9.9 && until < 1000.0 + 3600.0 * 10.1);
}

int
main(void)
{
	test_daily_budget();
	test_concurrency();
	test_refusals();
	test_rest();
	test_plans();
	test_poll_share();
	test_pace();
	printf("budget: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
