/*-------------------------------------------------------------------------
 *
 * http.c
 *	  The one request path to the remote APIs, on libcurl multi.
 *
 * Every request gets connect and total timeouts, TLS peer and host
 * verification, http and https only, no redirects, a capped answer and the
 * extension's User-Agent.  A synchronous request is a multi handle with one
 * transfer, driven in short waits so query cancel and termination are seen
 * within about 100 ms.  Transfers live in malloc'd memory owned by this file;
 * only finished answers are copied into the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <time.h>

#include "miscadmin.h"

#include "http.h"
#include "togai_zoho.h"
#include "pure/url.h"

typedef struct Transfer
{
	CURL	   *easy;			/* NULL when refused before starting */
	struct curl_slist *headers;
	char	   *post;			/* a POST's body, handed to libcurl by read_cb (malloc) */
	size_t		post_len;
	size_t		post_sent;
	char	   *buf;			/* answer so far (malloc) */
	size_t		len;
	size_t		cap;
	size_t		limit;
	bool		too_large;
	long		retry_after_s;
	char		errbuf[CURL_ERROR_SIZE];
	void	   *tag;
	struct Transfer *next;		/* in flight, or refused and waiting to be taken */
} Transfer;

struct TzHttpMulti
{
	CURLM	   *multi;
	TzHttpSettings settings;	/* ca_bundle malloc'd */
	Transfer   *transfers;		/* every transfer not yet taken */
	int			running;
};

static bool curl_ready = false;

/* libcurl's global set-up, once per process (not in the postmaster). */
static void
ensure_curl(void)
{
	if (curl_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		elog(ERROR, "togai_zoho: could not initialise libcurl");
	curl_ready = true;
}

/* Appends received bytes; refuses (ending the transfer) past the limit. */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		n = size * nmemb;

	if (t->len + n > t->limit)
	{
		t->too_large = true;
		return 0;
	}
	if (t->len + n + 1 > t->cap)
	{
		size_t		cap = Max(t->cap * 2, t->len + n + 1);
		char	   *buf = realloc(t->buf, Max(cap, 4096));

		if (buf == NULL)
			return 0;
		t->buf = buf;
		t->cap = Max(cap, 4096);
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return n;
}

/* Notes Retry-After, in seconds or as an HTTP date. */
static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		n = size * nmemb;
	const char *name = "retry-after:";
	size_t		namelen = strlen(name);

	if (n > namelen && n < 200 && pg_strncasecmp(data, name, namelen) == 0)
	{
		char		value[200];
		char	   *v = value;
		char	   *end;
		long		secs;

		memcpy(value, data + namelen, n - namelen);
		value[n - namelen] = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		secs = strtol(v, &end, 10);
		if (end != v && (*end == '\r' || *end == '\n' || *end == '\0'))
			t->retry_after_s = Max(secs, 0);
		else
		{
			time_t		when = curl_getdate(v, NULL);

			if (when > 0)
				t->retry_after_s = Max((long) (when - time(NULL)), 0);
		}
	}
	return n;
}

/*
 * Hands a POST's body to libcurl.  There is deliberately no seek callback:
 * libcurl silently sends a request again when a reused connection closes
 * before any answer, and a POST that made its object before the answer was
 * lost would make it twice.  Unable to rewind the body, libcurl fails the
 * transfer instead (CURLE_SEND_FAIL_REWIND), which is reported as dropped
 * so the caller looks for the object before making it again.
 */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	Transfer   *t = arg;
	size_t		n = Min(size * nitems, t->post_len - t->post_sent);

	memcpy(buf, t->post + t->post_sent, n);
	t->post_sent += n;
	return n;
}

static void
free_transfer(Transfer *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->buf);
	if (t->post)
	{
		/* a token exchange's body holds the client secret */
		explicit_bzero(t->post, t->post_len);
		free(t->post);
	}
	free(t);
}

/* Adds a header to the transfer's list; the value is copied by libcurl. */
static void
add_header(Transfer *t, const char *name, const char *value)
{
	size_t		len = strlen(name) + 2 + strlen(value) + 1;
	char	   *line = malloc(len);
	struct curl_slist *l;

	if (line == NULL)
		elog(ERROR, "togai_zoho: out of memory for an HTTP header");
	snprintf(line, len, "%s: %s", name, value);
	l = curl_slist_append(t->headers, line);
	/* the line may hold a token: wipe our copy */
	explicit_bzero(line, len);
	free(line);
	if (l == NULL)
		elog(ERROR, "togai_zoho: out of memory for an HTTP header");
	t->headers = l;
}

static void
configure(Transfer *t, const TzHttpSettings *settings, const TzHttpRequest *req)
{
	CURL	   *e = t->easy;

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	/*
	 * Kept connections are not reused after 50 s idle, before load balancers
	 * (60 s and more) close them under a request: a POST is not sent again
	 * on another connection (see read_cb), so such a race is an error.
	 */
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, 50L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (settings->ca_bundle && settings->ca_bundle[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, settings->ca_bundle);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) settings->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) settings->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, TZ_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);

	add_header(t, "Accept", "application/json");
	add_header(t, "Expect", "");
	if (req->authorization)
		add_header(t, "Authorization", req->authorization);
	for (int i = 0; i < TZ_HTTP_MAX_HEADERS && req->headers[i].name; i++)
		add_header(t, req->headers[i].name, req->headers[i].value);

	if (req->body != NULL || strcmp(req->method, "GET") != 0)
	{
		if (req->content_type)
			add_header(t, "Content-Type", req->content_type);
		if (strcmp(req->method, "POST") == 0)
		{
			/* see read_cb: a POST is never sent twice; it keeps the connection */
			t->post_len = req->body ? req->body_len : 0;
			t->post = malloc(Max(t->post_len, 1));
			if (t->post == NULL)
				elog(ERROR, "togai_zoho: out of memory for an HTTP request");
			if (t->post_len > 0)
				memcpy(t->post, req->body, t->post_len);
			curl_easy_setopt(e, CURLOPT_POST, 1L);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) t->post_len);
			curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
			curl_easy_setopt(e, CURLOPT_READDATA, t);
		}
		else
		{
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) (req->body ? req->body_len : 0));
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		}
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
}

/* The multi handle's copy of the caller's settings (the CA file's name kept in malloc'd memory). */
static void
set_settings(TzHttpMulti *m, const TzHttpSettings *settings)
{
	char	   *ca = NULL;

	if (settings->ca_bundle && settings->ca_bundle[0] != '\0' &&
		(ca = strdup(settings->ca_bundle)) == NULL)
		elog(ERROR, "togai_zoho: out of memory for the HTTP settings");
	free((char *) m->settings.ca_bundle);
	m->settings = *settings;
	m->settings.ca_bundle = ca;
}

TzHttpMulti *
tz_http_multi_create(const TzHttpSettings *settings)
{
	TzHttpMulti *m;

	ensure_curl();
	m = calloc(1, sizeof(TzHttpMulti));
	if (m == NULL || (m->multi = curl_multi_init()) == NULL)
		elog(ERROR, "togai_zoho: could not create a libcurl multi handle");
	set_settings(m, settings);
	return m;
}

void
tz_http_multi_add(TzHttpMulti *m, const TzHttpRequest *req, void *tag)
{
	Transfer   *t = calloc(1, sizeof(Transfer));

	if (t == NULL)
		elog(ERROR, "togai_zoho: out of memory for an HTTP request");
	t->tag = tag;
	t->retry_after_s = -1;
	t->limit = (size_t) m->settings.max_response_bytes;
	t->next = m->transfers;
	m->transfers = t;

	/* A refused URL never reaches libcurl; it is reported like an answer. */
	if (tz_url_check_request(req->url, m->settings.allow_http) != TZ_URL_OK)
		return;

	t->easy = curl_easy_init();
	if (t->easy == NULL)
		elog(ERROR, "togai_zoho: could not create a libcurl handle");
	configure(t, &m->settings, req);
	if (curl_multi_add_handle(m->multi, t->easy) != CURLM_OK)
		elog(ERROR, "togai_zoho: could not start an HTTP request");
	m->running++;
}

void
tz_http_multi_send(TzHttpMulti *m)
{
	int			still;

	curl_multi_perform(m->multi, &still);
}

void
tz_http_multi_wait(TzHttpMulti *m, int wait_ms)
{
	int			still;

	curl_multi_perform(m->multi, &still);
	if (still < m->running)
		return;					/* something finished: let the caller take it */
	curl_multi_poll(m->multi, NULL, 0, wait_ms, NULL);
	curl_multi_perform(m->multi, &still);
}

static void
unlink_transfer(TzHttpMulti *m, Transfer *t)
{
	for (Transfer **p = &m->transfers; *p; p = &(*p)->next)
		if (*p == t)
		{
			*p = t->next;
			return;
		}
}

static TzHttpOutcome
outcome_of(CURLcode rc, const Transfer *t)
{
	switch (rc)
	{
		case CURLE_OK:
			return TZ_HTTP_ANSWERED;
		case CURLE_WRITE_ERROR:
			return t->too_large ? TZ_HTTP_TOO_LARGE : TZ_HTTP_FAILED;
		case CURLE_OPERATION_TIMEDOUT:
			return TZ_HTTP_TIMEOUT;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
			return TZ_HTTP_CONNECT_FAILED;
		case CURLE_GOT_NOTHING:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_SEND_FAIL_REWIND:	/* a POST's connection closed: see read_cb */
			return TZ_HTTP_DROPPED;
		default:
			return TZ_HTTP_FAILED;
	}
}

/* Copies a finished transfer into resp (palloc'd body) and frees it. */
static void
finish(Transfer *t, CURLcode rc, TzHttpResponse *resp)
{
	double		total = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = t->retry_after_s;
	if (t->easy == NULL)
		resp->outcome = TZ_HTTP_URL_REFUSED;
	else
	{
		resp->outcome = outcome_of(rc, t);
		resp->curl_code = rc;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &total);
		resp->elapsed_ms = total * 1000.0;
		strlcpy(resp->error, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc),
				sizeof(resp->error));
	}
	resp->body_len = t->len;
	resp->body = palloc(t->len + 1);
	if (t->len > 0)
		memcpy(resp->body, t->buf, t->len);
	resp->body[t->len] = '\0';
	free_transfer(t);
}

bool
tz_http_multi_next_done(TzHttpMulti *m, void **tag, TzHttpResponse *resp)
{
	CURLMsg    *msg;
	int			queued;

	/* Refused requests first: they never started. */
	for (Transfer *t = m->transfers; t; t = t->next)
		if (t->easy == NULL)
		{
			unlink_transfer(m, t);
			*tag = t->tag;
			finish(t, CURLE_OK, resp);
			return true;
		}

	while ((msg = curl_multi_info_read(m->multi, &queued)) != NULL)
	{
		Transfer   *t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		curl_multi_remove_handle(m->multi, t->easy);
		m->running--;
		unlink_transfer(m, t);
		*tag = t->tag;
		finish(t, msg->data.result, resp);
		return true;
	}
	return false;
}

void
tz_http_multi_abort_all(TzHttpMulti *m)
{
	while (m->transfers)
	{
		Transfer   *t = m->transfers;

		m->transfers = t->next;
		if (t->easy)
			curl_multi_remove_handle(m->multi, t->easy);
		free_transfer(t);
	}
	m->running = 0;
}

void
tz_http_multi_destroy(TzHttpMulti *m)
{
	tz_http_multi_abort_all(m);
	curl_multi_cleanup(m->multi);
	free((char *) m->settings.ca_bundle);
	free(m);
}

/*
 * The backend's own multi handle outlives single requests so connections to
 * the same host are reused.
 */
static TzHttpMulti *sync_multi = NULL;

void
tz_http_perform(const TzHttpSettings *settings, const TzHttpRequest *req, TzHttpResponse *resp)
{
	void	   *tag;

	if (sync_multi == NULL)
		sync_multi = tz_http_multi_create(settings);
	else
		set_settings(sync_multi, settings);
	tz_http_multi_add(sync_multi, req, NULL);

	PG_TRY();
	{
		while (!tz_http_multi_next_done(sync_multi, &tag, resp))
		{
			tz_http_multi_wait(sync_multi, 100);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		/* cancelled or terminated mid-request: drop the transfer */
		tz_http_multi_abort_all(sync_multi);
		PG_RE_THROW();
	}
	PG_END_TRY();
}
