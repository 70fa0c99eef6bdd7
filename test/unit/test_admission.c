/*
 * test_admission.c
 *	  Unit tests of the one admission gate's decision (src/pure/admission.c)
 *	  over a connection's pause, budget, cap and pace together: a GO takes
 *	  exactly one of each, a refusal takes nothing (a call held by the
 *	  budget never spends a pace token), a look changes nothing, and token
 *	  mints pass whatever the state.
 */
#include <stdio.h>
#include <string.h>

#include "admission.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define NOW 1000.0

static TzBudget
budget(int per_day, int concurrent)
{
	TzBudget	b;

	memset(&b, 0, sizeof(b));
	b.per_day = per_day;
	b.concurrent = concurrent;
	b.day_ends_s = NOW + TZ_DAY_SECONDS;
	b.day = 7;
	return b;
}

static TzAdmission
admit(TzBucket *k, TzBudget *b, double now, double per_minute, bool take)
{
	return tz_admission_decide(k, b, now, per_minute, TZ_PURPOSE_DELIVERY, take);
}

/* A GO counts the call, takes a slot and a token; the cap then holds the next. */
static void
test_go_takes_one_of_each(void)
{
	TzBudget	b = budget(100, 2);
	TzBucket	k = {0};
	TzAdmission a;
	double		tokens;

	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
	tokens = k.tokens;
	CHECK(b.in_flight == 1 && tz_budget_spent(&b) == 1);
	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
	CHECK(b.in_flight == 2 && k.tokens == tokens - 1);
	a = admit(&k, &b, NOW, 60, true);
	CHECK(a.verdict == TZ_ADMIT_BUSY && tz_admission_short(a.verdict));
	/* busy took nothing: no call counted, no token spent */
	CHECK(b.in_flight == 2 && tz_budget_spent(&b) == 2 && k.tokens == tokens - 1);
	tz_budget_release(&b);
	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
}

/* Paced: the bucket is empty; nothing is counted and no slot is held. */
static void
test_paced_takes_nothing(void)
{
	TzBudget	b = budget(0, 0);
	TzBucket	k = {0};
	TzAdmission a;
	int			go = 0;

	for (int i = 0; i < 100; i++)
		go += admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO;
	CHECK(go == (int) tz_bucket_burst(60));
	CHECK(tz_budget_spent(&b) == go && b.in_flight == go);
	a = admit(&k, &b, NOW, 60, true);
	CHECK(a.verdict == TZ_ADMIT_PACED && a.wait_ms > 0 && a.wait_ms <= 1100);
	CHECK(tz_budget_spent(&b) == go && b.in_flight == go);
	/* 57 tokens a minute after the burst: one is back within 1.1 s */
	CHECK(admit(&k, &b, NOW + 1.1, 60, true).verdict == TZ_ADMIT_GO);
	/* no limit: never paced */
	for (int i = 0; i < 1000; i++)
		CHECK(admit(&k, &b, NOW + 1.1, 0, true).verdict == TZ_ADMIT_GO);
}

/* Spent and paused hold the call without spending a pace token, until when they say. */
static void
test_spent_and_paused_keep_the_pace(void)
{
	TzBudget	b = budget(1, 0);
	TzBucket	k = {0};
	TzAdmission a;
	double		tokens;

	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
	tokens = k.tokens;
	a = admit(&k, &b, NOW, 60, true);
	CHECK(a.verdict == TZ_ADMIT_SPENT && a.until_s == b.day_ends_s);
	CHECK(!tz_admission_short(a.verdict));
	CHECK(k.tokens == tokens && tz_budget_spent(&b) == 1);

	b = budget(0, 0);
	tz_budget_rest(&b, NOW, 30);
	a = admit(&k, &b, NOW + 10, 60, true);
	CHECK(a.verdict == TZ_ADMIT_PAUSED && a.until_s == NOW + 30);
	CHECK(tz_budget_spent(&b) == 0);
	CHECK(admit(&k, &b, NOW + 31, 60, true).verdict == TZ_ADMIT_GO);
}

/* A look tells the verdict and changes nothing. */
static void
test_look_changes_nothing(void)
{
	TzBudget	b = budget(10, 1);
	TzBucket	k = {0};
	TzBudget	before;
	TzBucket	kbefore;

	CHECK(admit(&k, &b, NOW, 60, false).verdict == TZ_ADMIT_GO);
	CHECK(b.in_flight == 0 && tz_budget_spent(&b) == 0 && !k.primed);
	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
	before = b;
	kbefore = k;
	CHECK(admit(&k, &b, NOW, 60, false).verdict == TZ_ADMIT_BUSY);
	CHECK(memcmp(&before, &b, sizeof(b)) == 0 && memcmp(&kbefore, &k, sizeof(k)) == 0);
}

/* Token mints pass a spent, paused or busy connection, counted but holding no slot. */
static void
test_tokens_always_pass(void)
{
	TzBudget	b = budget(1, 1);
	TzBucket	k = {0};

	CHECK(admit(&k, &b, NOW, 60, true).verdict == TZ_ADMIT_GO);
	tz_budget_rest(&b, NOW, 600);
	CHECK(tz_admission_decide(&k, &b, NOW, 60, TZ_PURPOSE_TOKEN, true).verdict == TZ_ADMIT_GO);
	CHECK(b.calls[TZ_PURPOSE_TOKEN] == 1 && b.in_flight == 1 && tz_budget_spent(&b) == 1);
}

int
main(void)
{
	test_go_takes_one_of_each();
	test_paced_takes_nothing();
	test_spent_and_paused_keep_the_pace();
	test_look_changes_nothing();
	test_tokens_always_pass();
	printf("admission: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
