/*-------------------------------------------------------------------------
 *
 * parse.h
 *	  Reading the remote APIs' answers (pure: jansson only, no server, no
 *	  network), so the parsers can be unit-tested and fuzzed alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_PARSE_H
#define TZ_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* What an answer means, whichever app sent it. */
typedef enum TzAnswerClass
{
	TZ_ANSWER_OK,
	TZ_ANSWER_REJECTED,			/* 4xx validation: the request must change */
	TZ_ANSWER_AUTH,				/* 401: token or credentials refused */
	TZ_ANSWER_FORBIDDEN,		/* not allowed to do this */
	TZ_ANSWER_NOT_FOUND,
	TZ_ANSWER_RATE_LIMITED,
	TZ_ANSWER_SERVER_ERROR,		/* 5xx */
	TZ_ANSWER_MALFORMED			/* not the JSON the app sends */
} TzAnswerClass;

/* An answer's JSON object, or NULL if the body is not a JSON object. */
extern json_t *tz_json_object(const char *body, size_t len);

/* The string member, or NULL when absent or not a string. */
extern const char *tz_json_str(const json_t *obj, const char *key);

/*
 * Zoho Books envelope: {"code": 0, "message": "...", ...}.  Returns the
 * class, and sets *code (-1 when absent) and *message (NULL when absent,
 * pointing into root).
 */
extern TzAnswerClass tz_zoho_classify(long http_status, const json_t *root,
									  long *code, const char **message);

/* Togai answers: errors are {"message": "..."}; *message may be NULL. */
extern TzAnswerClass tz_togai_classify(long http_status, const json_t *root,
									   const char **message);

/* Zoho OAuth token answer (exchange or refresh). */
typedef struct TzZohoToken
{
	const char *access_token;	/* pointers into root */
	const char *refresh_token;	/* NULL on refresh answers */
	const char *api_domain;
	long		expires_in;		/* seconds; 3600 when absent */
	const char *error;			/* set when Zoho refused: invalid_code, ... */
	const char *error_description;
} TzZohoToken;

/* Returns false when root is not a token answer nor an OAuth error. */
extern bool tz_zoho_token(const json_t *root, TzZohoToken *token);

#endif							/* TZ_PARSE_H */
