/*
 * test_policy.c
 *	  Unit tests of the delivery policy (src/policy.c): verdicts, backoff, and
 *	  the token bucket's promise never to exceed a per-minute limit in any
 *	  60-second window.
 */
#include <stdio.h>

#include "policy.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void
test_verdicts(void)
{
	CHECK(tz_verdict(false, 0, false) == TZ_VERDICT_RETRY);
	CHECK(tz_verdict(true, 429, false) == TZ_VERDICT_THROTTLED);
	CHECK(tz_verdict(true, 401, false) == TZ_VERDICT_REFRESH);
	CHECK(tz_verdict(true, 401, true) == TZ_VERDICT_RETRY);
	CHECK(tz_verdict(true, 408, false) == TZ_VERDICT_RETRY);
	CHECK(tz_verdict(true, 500, false) == TZ_VERDICT_RETRY);
	CHECK(tz_verdict(true, 503, false) == TZ_VERDICT_RETRY);
	CHECK(tz_verdict(true, 400, false) == TZ_VERDICT_DEAD);
	CHECK(tz_verdict(true, 404, false) == TZ_VERDICT_DEAD);
	CHECK(tz_verdict(true, 422, false) == TZ_VERDICT_DEAD);

	CHECK(!tz_may_have_reached(false, 0));
	CHECK(!tz_may_have_reached(true, 400));
	CHECK(!tz_may_have_reached(true, 404));
	CHECK(tz_may_have_reached(true, 408));
	CHECK(tz_may_have_reached(true, 500));
	CHECK(tz_may_have_reached(true, 200));
	CHECK(tz_may_have_reached(true, 0));	/* timed out after connecting */
}

static void
test_backoff(void)
{
	int64_t		d;

	CHECK(tz_backoff_ms(1, 1000, 60000, 0) == 500);
	d = tz_backoff_ms(1, 1000, 60000, 0.999);
	CHECK(d >= 500 && d <= 1000);
	d = tz_backoff_ms(3, 1000, 60000, 0.5);
	CHECK(d >= 2000 && d <= 4000);
	d = tz_backoff_ms(1000, 1000, 60000, 0.7);
	CHECK(d >= 30000 && d <= 60000);
	CHECK(tz_backoff_ms(0, 1000, 60000, 0) == 500);
	CHECK(tz_backoff_ms(2, 1000, 60000, 7.0) == 1000);	/* out of range: no jitter */
	CHECK(tz_backoff_ms(2, 1000, 60000, -1.0) == 1000);
}

/* Greedy callers for ten minutes: no 60-second window may hold more than the limit. */
static void
check_window(double per_minute)
{
	static double times[20000];
	int			n = 0;
	TzBucket	b = {0};
	double		now = 1000.0;
	int			worst = 0;

	while (now < 1600.0 && n < 20000)
	{
		int64_t		wait = tz_bucket_take(&b, now, per_minute);

		if (wait == 0)
			times[n++] = now;
		else
			now += wait / 1000.0;
	}
	for (int i = 0, j = 0; i < n; i++)
	{
		while (times[i] - times[j] >= 60.0)
			j++;
		if (i - j + 1 > worst)
			worst = i - j + 1;
	}
	CHECK(worst <= (int) per_minute);
	/* and nothing is wasted: the limit less the burst, every minute */
	CHECK(n >= (int) ((per_minute - tz_bucket_burst(per_minute)) * 10));
	if (worst > (int) per_minute || n < (int) ((per_minute - tz_bucket_burst(per_minute)) * 10))
		printf("  per_minute %.0f: worst window %d, %d calls in 10 minutes\n", per_minute, worst, n);
}

static void
test_bucket(void)
{
	TzBucket	b = {0};
	int64_t		wait;

	CHECK(tz_bucket_burst(100) == 5);
	CHECK(tz_bucket_rate(100) > 95 / 60.0 - 1e-9 && tz_bucket_rate(100) < 95 / 60.0 + 1e-9);
	CHECK(tz_bucket_burst(1) == 1 && tz_bucket_rate(1) > 0);
	CHECK(tz_bucket_burst(3) == 1 && tz_bucket_rate(3) > 0);

	for (int i = 0; i < 5; i++)
		CHECK(tz_bucket_take(&b, 10.0, 100) == 0);
	wait = tz_bucket_take(&b, 10.0, 100);
	CHECK(wait >= 631 && wait <= 633);	/* 60 / 95 s */
	CHECK(tz_bucket_take(&b, 10.0 + wait / 1000.0, 100) == 0);

	tz_bucket_pause(&b, 20.0, 100, 5000);
	wait = tz_bucket_take(&b, 20.0, 100);
	CHECK(wait >= 5000);

	check_window(100);
	check_window(60);
	check_window(1000);
	check_window(7);
}

int
main(void)
{
	test_verdicts();
	test_backoff();
	test_bucket();
	printf("policy: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
