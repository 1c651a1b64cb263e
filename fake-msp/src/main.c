/* main.c — the fake-msp program: flags, signals, the ready line. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_msp/fake_msp.h"
#include "executor/msp_executor.h"
#include "executor/msp_opts.h"
#include "executor/msp_util.h"

#define EXIT_USAGE   64
#define MAX_LIST     256
#define DEFAULT_PORT 8787

// clang-format off
static const char usage_text[] =
    "Usage: fake-msp [OPTIONS]\n"
    "\n"
    "A fake MSP god-mode API server for testing MSP executors.\n"
    "\n"
    "Without fixtures it imitates the MSP: POST /api/v1/god-mode/execute with\n"
    "every check of the platform (401 UNAUTHORIZED, 403 TENANT_MISMATCH and\n"
    "FORBIDDEN, 400 IDEMPOTENCY_CORRELATION_MISMATCH, 413 PAYLOAD_TOO_LARGE,\n"
    "400 VALIDATION, 404 NOT_FOUND, 400 CHANGESET_REQUIRED, 429 RATE_LIMITED,\n"
    "idempotent replay and 409 CONFLICT), the tools msp.list_devices,\n"
    "msp.agent_health, msp.process_kill and msp.device_wipe,\n"
    "GET /api/v1/god-mode/tools and GET /health. The built-in key of every\n"
    "credential role is issued: sk-test (tenant tenant-x), sk-readonly\n"
    "(read-only, the server's tenant), sk-other (another tenant).\n"
    "\n"
    "With contract fixtures, a request that matches a fixture's \"request\" gets\n"
    "its response (or the next of its \"responses\"), delays and faults included\n"
    "(reset, empty, garbage, hang, truncate, dribble, bad_chunking,\n"
    "reset_after_headers). Every request is journalled.\n"
    "\n"
    "Options:\n"
    "  --host ADDR            address to bind (default 127.0.0.1)\n"
    "  --port N               port to bind; 0 picks a free one (default 8787)\n"
    "  --port-file FILE       write the bound port to FILE (atomically) when ready\n"
    "  --contracts DIR        load every fixture *.json in DIR (repeatable)\n"
    "  --fixture FILE         load one fixture file (repeatable)\n"
    "  --bundled              load the bundled fixtures: those installed with\n"
    "                         fake-msp (in PREFIX/share/msp-contract-kit/), else\n"
    "                         the ones of the source tree it was built from\n"
    "  --key TOKEN=TENANT[:read_only]\n"
    "                         add a credential; read_only may run only read_only\n"
    "                         tools; another tenant than --tenant gets 403 (repeatable)\n"
    "  --tenant ID            the server's tenant (default tenant-x)\n"
    "  --strict               requests that match no fixture get 500\n"
    "                         NO_MATCHING_FIXTURE naming the closest fixture\n"
    "  --rate-limit N         N execute requests per minute per tenant, then 429\n"
    "                         with Retry-After (default: unlimited)\n"
    "  --max-body BYTES       largest request body (default 1048576), else 413\n"
    "  --journal-max N        requests kept in the journal (default 10000)\n"
    "  --idem-capacity N      responses kept for idempotent replay (default 4096)\n"
    "  --idem-ttl-ms MS       how long they are kept (default 86400000)\n"
    "  --idem-max-bytes BYTES bytes they hold at most (default 33554432)\n"
    "  --journal-max-bytes BYTES  bytes the journal holds at most (default\n"
    "                         67108864)\n"
    "  --fixture-budget BYTES bytes all fixtures may hold (bodies, repeats,\n"
    "                         responses; default 134217728); else refused\n"
    "  --max-fixtures N       fixtures at most, run-time additions included\n"
    "                         (default 10000)\n"
    "  --max-headers N        request headers at most, 1..128 (default 128),\n"
    "                         else 431\n"
    "  --seed N               seed for garbage faults without their own seed\n"
    "                         (splitmix64; default: from the clock, printed)\n"
    "  --admin-token-file FILE  the admin API needs \"Authorization: Bearer TOKEN\",\n"
    "                         TOKEN being FILE's first line (required to bind an\n"
    "                         address other than loopback, unless --no-admin)\n"
    "  --admin-token TOKEN    the same, TOKEN given here (visible in ps)\n"
    "  --no-admin             turn the admin API off (404)\n"
    "  --max-connections N    connections open at once (default 4096); past it a\n"
    "                         new one is closed at once\n"
    "  --max-connections-per-ip N  the same from one address (default 2048)\n"
    "  --request-budget-ms MS time to receive a whole request (default 30000),\n"
    "                         else the connection is closed\n"
    "  --tls-cert FILE        serve HTTPS with this PEM certificate ...\n"
    "  --tls-key FILE         ... and this PEM private key\n"
    "  --proxy URL            recording proxy: forward every request (admin API\n"
    "                         excepted) to URL and return its reply unchanged;\n"
    "                         502 BAD_GATEWAY naming the cause when it fails\n"
    "                         (URL with user:pass@ is only shown as ***@,\n"
    "                         in ps too once read;\n"
    "                         a request-target not \"/path\" gets 400)\n"
    "  --upstream-timeout MS  with --proxy: the longest upstream exchange\n"
    "                         (default 30000), then 502\n"
    "  --proxy-queue N        with --proxy: exchanges in flight at once (default\n"
    "                         256), past them 503 with Retry-After\n"
    "  --ca-file FILE         PEM CA bundle to verify the --proxy upstream's TLS\n"
    "  --record DIR           with --proxy: write one fixture per exchange into DIR\n"
    "                         (a retry extends its fixture into a sequence)\n"
    "  --redact PATH          with --record: replace the value at request.PATH or\n"
    "                         response.PATH (JSON body; a.b[0].c, [*]) (repeatable)\n"
    "  -q, --quiet            no per-request log lines\n"
    "  -h, --help             this text\n"
    "  --version              print \"fake-msp VERSION\" and exit 0\n"
    "\n"
    "Output: when ready, exactly one line on stdout,\n"
    "  fake-msp listening on http://HOST:PORT\n"
    "The seed and one line per request (API keys masked) go to stderr.\n"
    "\n"
    "Admin API on the same port: only for a Host naming this server and no\n"
    "cross-site Origin (else 403), with the admin token if set (else 401),\n"
    "bodies as application/json (else 415):\n"
    "  GET /__admin/           the dashboard, an HTML page for a browser (docs/reports.md)\n"
    "  GET /__admin/requests[?since=SEQ&limit=N]  the journal as JSON, streamed\n"
    "                            (Authorization masked)\n"
    "  DELETE /__admin/requests  clear the journal\n"
    "  POST /__admin/reset       clear journal, idempotency store, sequences, rate buckets;\n"
    "                            fixtures are kept, unless ?fixtures=1: then the ones\n"
    "                            added at run time are removed\n"
    "  GET /__admin/fixtures     loaded fixtures\n"
    "  POST /__admin/fixtures    add a fixture (JSON body); 400 with the reason if invalid\n"
    "  POST /__admin/provider-states  {\"state\",\"params\",\"action\"} (Pact): set up or\n"
    "                            tear down a bundled provider state; GET lists them\n"
    "  PUT /__admin/fixtures/NAME     replace fixture NAME (or add it)\n"
    "  DELETE /__admin/fixtures/NAME  remove fixture NAME\n"
    "\n"
    "Signals: SIGINT and SIGTERM stop the server cleanly (exit 0), hanging\n"
    "connections included.\n"
    "\n"
    "Exit status: 0 after a signal; 1 when the server cannot start (port in use,\n"
    "invalid fixture, unreadable TLS files); 64 for a bad command line.\n";
// clang-format on

static void log_line(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "fake-msp: %s\n", line);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fake-msp: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try --help)\n");
    return EXIT_USAGE;
}

/* A copy of a --proxy URL; its user:password@ in argv (what ps and
 * /proc/PID/cmdline show every local user) is overwritten with '*'. NULL on
 * ENOMEM. */
static char *hide_userinfo(char *arg)
{
    char *copy = strdup(arg), *s = strstr(arg, "://"), *at;
    size_t host = s ? strcspn(s + 3, "/?#") : 0;

    if (!copy || !s)
        return copy;
    s += 3;
    for (at = s + host; at > s && at[-1] != '@'; at--)
        ;
    if (at > s)
        memset(s, '*', (size_t)(at - 1 - s));
    return copy;
}

/* Everything the command line sets. */
struct cli {
    fake_msp_options opt;
    const char *dirs[MAX_LIST], *files[MAX_LIST], *keys[MAX_LIST],
        *redact[MAX_LIST];
    const char *port_file;
    char *proxy_url; /* --proxy's copy (argv's is masked) */
    char token[512]; /* --admin-token-file's token */
    int quiet, help, version;
};

/* The handlers write their refusal into use->why; main adds "fake-msp: "
 * and " (try --help)". */
__attribute__((format(printf, 2, 3))) static int refuse(msp_opt_use *use,
                                                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(use->why, use->why_size, fmt, ap);
    va_end(ap);
    return -1;
}

static int add_bundled(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;

    if (c->opt.n_contract_dirs == MAX_LIST)
        return refuse(use, "too many --contracts options");
    c->dirs[c->opt.n_contract_dirs++] = mspf_bundled_dir();
    return 0;
}

/* TOKEN=TENANT[:read_only]; never echoes any part of a key. */
static int add_key(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;
    const char *eq = strchr(use->value, '='), *colon;

    if (c->opt.n_keys == MAX_LIST)
        return refuse(use, "too many --key options");
    if (!eq || eq == use->value || !eq[1] || eq[1] == ':')
        return refuse(use, "--key wants TOKEN=TENANT[:read_only]");
    colon = strchr(eq + 1, ':');
    if (colon && strcmp(colon + 1, "read_only") != 0)
        return refuse(use, "--key: the only role is read_only "
                           "(TOKEN=TENANT[:read_only])");
    c->keys[c->opt.n_keys++] = use->value;
    return 0;
}

static int admin_token(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;

    if (!*use->value)
        return refuse(use, "--admin-token is empty");
    c->opt.admin_token = use->value;
    return 0;
}

/* The admin token from a file, through the kit's one key-file reader
 * (whole first line, newline dropped, its buffers wiped); never echoes
 * what it read. */
static int admin_token_file(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;
    const char *file = use->value;
    size_t cap = sizeof c->token - 1;
    char *t = msp_read_key_file(file, cap);
    int e = errno;

    if (!t) {
        if (e == EFBIG)
            return refuse(use,
                          "--admin-token-file: the token in %s is over %zu "
                          "bytes",
                          file, cap);
        if (e == ENODATA)
            return refuse(use,
                          "--admin-token-file: %s has no token on its first "
                          "line",
                          file);
        return refuse(use, "--admin-token-file: cannot read %s: %s", file,
                      strerror(e));
    }
    snprintf(c->token, sizeof c->token, "%s", t);
    msp_secret_free(t);
    c->opt.admin_token = c->token;
    return 0;
}

static int proxy(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;

    free(c->proxy_url);
    if (!(c->opt.proxy_url = c->proxy_url = hide_userinfo(use->value)))
        return refuse(use, "out of memory");
    return 0;
}

#define AT(member) MSP_OPT_FIELD(struct cli, member)
#define COUNT(n)   offsetof(struct cli, n)

_Static_assert(FAKE_MSP_DEFAULT_MAX_HEADERS == 128,
               "--max-headers' message names 128");

/* The options, in --help's order: where each value goes and its bounds. */
static const msp_opt options[] = {
    MSP_OPT_ROW("host", 0, MSP_OPT_STRING, AT(opt.host)),
    MSP_OPT_NUMBER_ROW("port", 0, AT(opt.port), 0, 65535,
                       "--port wants 0..65535"),
    MSP_OPT_ROW("port-file", 0, MSP_OPT_STRING, AT(port_file)),
    MSP_OPT_LIST_ROW("contracts", AT(dirs), COUNT(opt.n_contract_dirs)),
    MSP_OPT_LIST_ROW("fixture", AT(files), COUNT(opt.n_fixture_files)),
    MSP_OPT_CALL_ROW("bundled", MSP_OPT_CALL_FLAG, add_bundled),
    MSP_OPT_CALL_ROW("key", MSP_OPT_CALL, add_key),
    MSP_OPT_ROW("tenant", 0, MSP_OPT_STRING, AT(opt.tenant)),
    MSP_OPT_ROW("strict", 0, MSP_OPT_FLAG, AT(opt.strict)),
    MSP_OPT_NUMBER_ROW("rate-limit", 0, AT(opt.rate_limit_per_min), 1, LONG_MAX,
                       "--rate-limit wants a positive integer"),
    MSP_OPT_NUMBER_ROW("max-body", 0, AT(opt.max_body), 1, 1ULL << 30,
                       "--max-body wants 1..1073741824"),
    MSP_OPT_NUMBER_ROW("journal-max", 0, AT(opt.journal_max), 1, 10000000,
                       "--journal-max wants 1..10000000"),
    MSP_OPT_NUMBER_ROW("idem-capacity", 0, AT(opt.idem_capacity), 1, 10000000,
                       "--idem-capacity wants 1..10000000"),
    MSP_OPT_NUMBER_ROW("idem-ttl-ms", 0, AT(opt.idem_ttl_ms), 1, LLONG_MAX / 2,
                       "--idem-ttl-ms wants a positive integer"),
    MSP_OPT_NUMBER_ROW("idem-max-bytes", 0, AT(opt.idem_max_bytes), 1024,
                       1ULL << 40,
                       "--idem-max-bytes wants 1024..1099511627776 bytes"),
    MSP_OPT_NUMBER_ROW("journal-max-bytes", 0, AT(opt.journal_max_bytes), 1024,
                       1ULL << 40,
                       "--journal-max-bytes wants 1024..1099511627776 bytes"),
    MSP_OPT_NUMBER_ROW("fixture-budget", 0, AT(opt.fixture_budget), 1024,
                       1ULL << 40,
                       "--fixture-budget wants 1024..1099511627776 bytes"),
    MSP_OPT_NUMBER_ROW("max-fixtures", 0, AT(opt.max_fixtures), 1, 10000000,
                       "--max-fixtures wants 1..10000000"),
    MSP_OPT_NUMBER_ROW("max-headers", 0, AT(opt.max_headers), 1,
                       FAKE_MSP_DEFAULT_MAX_HEADERS,
                       "--max-headers wants 1..128"),
    MSP_OPT_NUMBER_ROW("seed", 0, AT(opt.seed), 0, ULLONG_MAX,
                       "--seed wants an unsigned integer"),
    MSP_OPT_CALL_ROW("admin-token-file", MSP_OPT_CALL, admin_token_file),
    MSP_OPT_CALL_ROW("admin-token", MSP_OPT_CALL, admin_token),
    MSP_OPT_ROW("no-admin", 0, MSP_OPT_FLAG, AT(opt.no_admin)),
    MSP_OPT_NUMBER_ROW("max-connections", 0, AT(opt.max_connections), 1,
                       1000000, "--max-connections wants 1..1000000"),
    MSP_OPT_NUMBER_ROW("max-connections-per-ip", 0,
                       AT(opt.max_connections_per_ip), 1, 1000000,
                       "--max-connections-per-ip wants 1..1000000"),
    MSP_OPT_NUMBER_ROW("request-budget-ms", 0, AT(opt.request_budget_ms), 1,
                       86400000, "--request-budget-ms wants 1..86400000"),
    MSP_OPT_ROW("tls-cert", 0, MSP_OPT_STRING, AT(opt.tls_cert)),
    MSP_OPT_ROW("tls-key", 0, MSP_OPT_STRING, AT(opt.tls_key)),
    MSP_OPT_CALL_ROW("proxy", MSP_OPT_CALL, proxy),
    MSP_OPT_NUMBER_ROW("upstream-timeout", 0, AT(opt.upstream_timeout_ms), 1,
                       3600000, "--upstream-timeout wants 1..3600000 ms"),
    MSP_OPT_NUMBER_ROW("proxy-queue", 0, AT(opt.proxy_queue), 1, 100000,
                       "--proxy-queue wants 1..100000"),
    MSP_OPT_ROW("ca-file", 0, MSP_OPT_STRING, AT(opt.proxy_ca_file)),
    MSP_OPT_ROW("record", 0, MSP_OPT_STRING, AT(opt.record_dir)),
    MSP_OPT_LIST_ROW("redact", AT(redact), COUNT(opt.n_redact)),
    MSP_OPT_ROW("quiet", 'q', MSP_OPT_FLAG, AT(quiet)),
    MSP_OPT_ROW("help", 'h', MSP_OPT_STOP, AT(help)),
    MSP_OPT_ROW("version", 0, MSP_OPT_STOP, AT(version)),
};

/* Enough descriptors for every connection the server may keep open. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort */
    }
}

/* The name of an option as typed, without any "=value" (it could be a key:
 * "--kye=SECRET" must not echo SECRET). */
static const char *option_name(const char *arg, char *buf, size_t len)
{
    size_t n = strcspn(arg, "=");

    snprintf(buf, len, "%.*s", (int)(n < 64 ? n : 64), arg);
    return buf;
}

/* A refused command line in fake-msp's words; returns 64. */
static int parse_error(const msp_opts_result *r)
{
    char name[80];

    switch (r->status) {
    case MSP_OPTS_UNKNOWN:
        return usage_error("unknown option \"%s\"",
                           option_name(r->arg, name, sizeof name));
    case MSP_OPTS_NO_VALUE:
        return usage_error("%s needs a value",
                           option_name(r->arg, name, sizeof name));
    case MSP_OPTS_BAD_NUMBER:
        return usage_error("%s, got \"%s\"", r->opt->what, r->arg);
    case MSP_OPTS_TOO_MANY:
        return usage_error("too many --%s options", r->opt->name);
    default: return usage_error("%s", r->why);
    }
}

/* Options that only make sense together. Returns 0 or 64. */
static int check_combinations(const fake_msp_options *opt)
{
    if (!opt->tls_cert != !opt->tls_key)
        return usage_error("--tls-cert and --tls-key go together");
    if ((opt->record_dir || opt->proxy_ca_file) && !opt->proxy_url)
        return usage_error("--record and --ca-file need --proxy URL");
    if ((opt->upstream_timeout_ms || opt->proxy_queue) && !opt->proxy_url)
        return usage_error(
            "--upstream-timeout and --proxy-queue need --proxy URL");
    if (opt->n_redact && !opt->record_dir)
        return usage_error("--redact needs --record DIR");
    return 0;
}

/* The port and a newline, through msp_write_file: an unpredictable
 * temporary file and a rename; a symbolic link at file is refused. */
static int write_port_file(const char *file, unsigned short port)
{
    char line[16];
    int n = snprintf(line, sizeof line, "%u\n", (unsigned)port);
    return msp_write_file(file, line, (size_t)n, 0644, MSP_WRITE_REPLACE);
}

/* Starts the server, prints the ready line and serves until SIGINT or
 * SIGTERM. Returns the exit status: 0 after a signal, 1 when it cannot
 * start. */
static int serve(const struct cli *c)
{
    fake_msp *fm;
    char err[FAKE_MSP_ERRBUF_SIZE];
    sigset_t set;
    int sig;

    raise_nofile();
    /* Bodies of 256 KiB and more are mapped and unmapped on their own, so
     * that freeing them gives the memory back (glibc would otherwise raise
     * its threshold after the first large free and keep later ones). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* Signals are taken by sigwait() below, never by the server threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (fake_msp_start(&c->opt, &fm, err, sizeof err) != 0) {
        fprintf(stderr, "fake-msp: %s\n", err);
        return 1;
    }
    fprintf(stderr, "fake-msp: seed %llu\n", fake_msp_seed(fm));
    if (c->port_file && write_port_file(c->port_file, fake_msp_port(fm)) != 0) {
        fprintf(stderr, "fake-msp: cannot write %s: %s\n", c->port_file,
                msp_file_strerror(errno));
        fake_msp_stop(fm);
        return 1;
    }
    printf("fake-msp listening on %s\n", fake_msp_url(fm));
    if (fflush(stdout) !=
        0) /* the readiness line is the contract with the parent */
        perror("fake-msp: stdout");
    do {
        sig = 0;
    } while (sigwait(&set, &sig) != 0);
    fake_msp_stop(fm);
    if (!c->quiet)
        fprintf(stderr, "fake-msp: stopped (signal %d)\n", sig);
    return 0;
}

int main(int argc, char **argv)
{
    static struct cli c;
    msp_opts_result r;
    int rc;

    fake_msp_options_init(&c.opt);
    c.opt.port = DEFAULT_PORT;
    c.opt.contract_dirs = c.dirs;
    c.opt.fixture_files = c.files;
    c.opt.keys = c.keys;
    c.opt.redact = c.redact;
    switch (msp_opts_parse(options, sizeof options / sizeof options[0], argc,
                           argv, 1, &c, &r)) {
    case MSP_OPTS_DONE: break;
    case MSP_OPTS_STOPPED:
        if (c.help)
            fputs(usage_text, stdout);
        else
            puts("fake-msp " MSP_EXECUTOR_VERSION);
        return 0;
    default: return parse_error(&r);
    }
    if (r.next < argc) /* not echoed: it could be a key */
        return usage_error("unexpected argument (#%d): fake-msp takes "
                           "options only",
                           r.next);
    rc = check_combinations(&c.opt);
    if (rc != 0)
        return rc;
    if (!c.quiet)
        c.opt.log = log_line;
    rc = serve(&c);
    free(c.proxy_url);
    return rc;
}
