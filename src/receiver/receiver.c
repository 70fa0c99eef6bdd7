/*-------------------------------------------------------------------------
 *
 * receiver.c
 *	  togai_zoho_receiver: the webhook receiver of both apps, its own process.
 *
 *	  POST /zohobooks/<connection>	signed: X-Zoho-Webhook-Signature
 *	  POST /togai/<connection>		X-Togai-Zoho-Secret: the connection's secret
 *
 * A call whose signature or secret does not hold is refused (401) before any
 * database work: the receiver connects to the database only for a call that
 * holds.  It then hands the body to togai_zoho.receive_webhook() as a role
 * that may do nothing else, and answers 200 once that statement committed
 * (400 for a body the database refuses, 503 when the database cannot be
 * reached: the sender tries again).  Bodies over 1 MB are refused (413).
 *
 * Usage: togai_zoho_receiver --listen ADDR:PORT --secrets FILE [--dsn DSN]
 *		  [--threads N]
 * FILE (readable by the receiver alone): a line per connection,
 *	  zohobooks <connection> <secret>   or   togai <connection> <secret>
 * The first line on stdout is "LISTENING <port>".  SIGTERM or SIGINT stops it.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#include "signature.h"

#define MAX_BODY	(1024 * 1024)
#define MAX_SECRETS 256

typedef struct Secret
{
	char		app[16];
	char		connection[128];
	char		secret[128];
} Secret;

typedef struct Upload
{
	char	   *body;
	size_t		len;
	bool		too_large;
} Upload;

static Secret secrets[MAX_SECRETS];
static int	nsecrets = 0;
static const char *dsn = "";
static volatile sig_atomic_t stopping = 0;
static __thread PGconn *db = NULL;	/* one per thread of the pool */

static void
on_signal(int sig)
{
	(void) sig;
	stopping = 1;
}

static void
load_secrets(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[512];

	if (f == NULL)
	{
		fprintf(stderr, "togai_zoho_receiver: cannot read %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f) && nsecrets < MAX_SECRETS)
	{
		Secret	   *s = &secrets[nsecrets];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%15s %127s %127s", s->app, s->connection, s->secret) != 3 ||
			(strcmp(s->app, "zohobooks") != 0 && strcmp(s->app, "togai") != 0))
		{
			fprintf(stderr, "togai_zoho_receiver: %s: a line is not \"zohobooks|togai <connection> <secret>\"\n",
					path);
			exit(2);
		}
		nsecrets++;
	}
	fclose(f);
	if (nsecrets == 0)
	{
		fprintf(stderr, "togai_zoho_receiver: %s names no connection\n", path);
		exit(2);
	}
}

static const Secret *
find_secret(const char *app, const char *connection)
{
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i].app, app) == 0 && strcmp(secrets[i].connection, connection) == 0)
			return &secrets[i];
	return NULL;
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned int status, const char *json)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *) json,
															   MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The statement, on this thread's connection (made or mended on demand). */
static enum MHD_Result
hand_in(struct MHD_Connection *c, const char *connection, const Upload *u)
{
	const char *values[2] = {connection, u->body};
	PGresult   *res;
	char		out[512];
	enum MHD_Result ret;

	if (db == NULL)
		db = PQconnectdb(dsn);
	else if (PQstatus(db) != CONNECTION_OK)
		PQreset(db);
	if (PQstatus(db) != CONNECTION_OK)
	{
		fprintf(stderr, "togai_zoho_receiver: database: %s", PQerrorMessage(db));
		return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "{\"error\": \"database unavailable\"}");
	}
	res = PQexecParams(db, "SELECT togai_zoho.receive_webhook($1, $2::jsonb)", 2, NULL, values,
					   NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		snprintf(out, sizeof(out), "{\"changed\": %s}", PQgetvalue(res, 0, 0));
		ret = answer(c, MHD_HTTP_OK, out);
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		bool		refused = state && (strncmp(state, "22", 2) == 0 || strncmp(state, "42", 2) == 0);

		/* the event's fault (22: bad body, 42: unknown connection), or ours: try again */
		snprintf(out, sizeof(out), "{\"error\": \"%s\", \"sqlstate\": \"%s\"}",
				 refused ? "the database refused the event" : "the event could not be stored",
				 state ? state : "");
		ret = answer(c, refused ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_SERVICE_UNAVAILABLE, out);
	}
	PQclear(res);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	Upload	   *u = *con_cls;
	char		app[16];
	char		connection[128];
	const Secret *s;
	bool		holds;

	(void) cls;
	(void) version;
	if (u == NULL)
	{
		if (strcmp(method, "POST") != 0)
			return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\": \"POST only\"}");
		u = calloc(1, sizeof(Upload));
		if (u == NULL)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (!u->too_large && u->len + *upload_data_size <= MAX_BODY)
		{
			char	   *grown = realloc(u->body, u->len + *upload_data_size + 1);

			if (grown == NULL)
				return MHD_NO;
			u->body = grown;
			memcpy(u->body + u->len, upload_data, *upload_data_size);
			u->len += *upload_data_size;
			u->body[u->len] = '\0';
		}
		else
			u->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (u->too_large)
		return answer(c, MHD_HTTP_CONTENT_TOO_LARGE, "{\"error\": \"body over 1 MB\"}");
	if (sscanf(url, "/%15[a-z]/%127[^/?]", app, connection) != 2 ||
		(s = find_secret(app, connection)) == NULL)
		return answer(c, MHD_HTTP_NOT_FOUND, "{\"error\": \"no such webhook\"}");
	if (strcmp(app, "zohobooks") == 0)
		holds = tz_sig_zoho_valid(s->secret, (const unsigned char *) (u->body ? u->body : ""), u->len,
								  MHD_lookup_connection_value(c, MHD_HEADER_KIND,
															  "X-Zoho-Webhook-Signature"));
	else
		holds = tz_sig_secret_valid(s->secret,
									MHD_lookup_connection_value(c, MHD_HEADER_KIND,
																"X-Togai-Zoho-Secret"));
	if (!holds)
		return answer(c, MHD_HTTP_UNAUTHORIZED, "{\"error\": \"signature does not hold\"}");
	if (u->body == NULL)
		return answer(c, MHD_HTTP_BAD_REQUEST, "{\"error\": \"empty body\"}");
	return hand_in(c, connection, u);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	Upload	   *u = *con_cls;

	(void) cls;
	(void) c;
	(void) toe;
	if (u)
	{
		free(u->body);
		free(u);
		*con_cls = NULL;
	}
}

int
main(int argc, char **argv)
{
	const char *listen_at = "127.0.0.1:8484";
	const char *secrets_path = NULL;
	unsigned int threads = 4;
	struct sockaddr_in addr;
	char		host[64];
	int			port;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (strcmp(argv[i], "--listen") == 0)
			listen_at = argv[i + 1];
		else if (strcmp(argv[i], "--secrets") == 0)
			secrets_path = argv[i + 1];
		else if (strcmp(argv[i], "--dsn") == 0)
			dsn = argv[i + 1];
		else if (strcmp(argv[i], "--threads") == 0)
			threads = (unsigned int) atoi(argv[i + 1]);
		else
		{
			fprintf(stderr, "togai_zoho_receiver: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (secrets_path == NULL || sscanf(listen_at, "%63[^:]:%d", host, &port) != 2 || threads < 1)
	{
		fprintf(stderr, "usage: togai_zoho_receiver --listen ADDR:PORT --secrets FILE [--dsn DSN] [--threads N]\n");
		return 2;
	}
	load_secrets(secrets_path);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
	{
		fprintf(stderr, "togai_zoho_receiver: %s is not an IPv4 address\n", host);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
						 0, NULL, NULL, on_request, NULL,
						 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
						 MHD_OPTION_THREAD_POOL_SIZE, threads,
						 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
						 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 1000,
						 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
						 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "togai_zoho_receiver: cannot listen at %s\n", listen_at);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("LISTENING %u\n", info ? (unsigned int) info->port : (unsigned int) port);
	fflush(stdout);
	while (!stopping)
		pause();
	MHD_stop_daemon(d);
	return 0;
}
