/* main.c — the fake-msp program: flags, signals, the ready line. */
#include <errno.h>
#include <getopt.h>
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
#include "executor/msp_util.h"

#define EXIT_USAGE   64
#define MAX_LIST     256
#define DEFAULT_PORT 8787

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
    "With contract fixtures, a request that matches a fixture's \"request\" "
    "gets\n"
    "its response (or the next of its \"responses\"), delays and faults "
    "included\n"
    "(reset, empty, garbage, hang, truncate, dribble, bad_chunking,\n"
    "reset_after_headers). Every request is journalled.\n"
    "\n"
    "Options:\n"
    "  --host ADDR            address to bind (default 127.0.0.1)\n"
    "  --port N               port to bind; 0 picks a free one (default 8787)\n"
    "  --port-file FILE       write the bound port to FILE (atomically) when "
    "ready\n"
    "  --contracts DIR        load every fixture *.json in DIR (repeatable)\n"
    "  --fixture FILE         load one fixture file (repeatable)\n"
    "  --bundled              load the bundled fixtures: those installed with\n"
    "                         fake-msp (in PREFIX/share/msp-contract-kit/), "
    "else\n"
    "                         the ones of the source tree it was built from\n"
    "  --key TOKEN=TENANT[:read_only]\n"
    "                         add a credential; read_only may run only "
    "read_only\n"
    "                         tools; another tenant than --tenant gets 403 "
    "(repeatable)\n"
    "  --tenant ID            the server's tenant (default tenant-x)\n"
    "  --strict               requests that match no fixture get 500\n"
    "                         NO_MATCHING_FIXTURE naming the closest fixture\n"
    "  --rate-limit N         N execute requests per minute per tenant, then "
    "429\n"
    "                         with Retry-After (default: unlimited)\n"
    "  --max-body BYTES       largest request body (default 1048576), else "
    "413\n"
    "  --journal-max N        requests kept in the journal (default 10000)\n"
    "  --idem-capacity N      responses kept for idempotent replay (default "
    "4096)\n"
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
    "  --admin-token-file FILE  the admin API needs \"Authorization: Bearer "
    "TOKEN\",\n"
    "                         TOKEN being FILE's first line (required to bind "
    "an\n"
    "                         address other than loopback, unless --no-admin)\n"
    "  --admin-token TOKEN    the same, TOKEN given here (visible in ps)\n"
    "  --no-admin             turn the admin API off (404)\n"
    "  --max-connections N    connections open at once (default 4096); past "
    "it a\n"
    "                         new one is closed at once\n"
    "  --max-connections-per-ip N  the same from one address (default 2048)\n"
    "  --request-budget-ms MS time to receive a whole request (default "
    "30000),\n"
    "                         else the connection is closed\n"
    "  --tls-cert FILE        serve HTTPS with this PEM certificate ...\n"
    "  --tls-key FILE         ... and this PEM private key\n"
    "  --proxy URL            recording proxy: forward every request (admin "
    "API\n"
    "                         excepted) to URL and return its reply "
    "unchanged;\n"
    "                         502 BAD_GATEWAY naming the cause when it fails\n"
    "                         (URL with user:pass@ is only shown as ***@;\n"
    "                         a request-target not \"/path\" gets 400)\n"
    "  --upstream-timeout MS  with --proxy: the longest upstream exchange\n"
    "                         (default 30000), then 502\n"
    "  --proxy-queue N        with --proxy: exchanges in flight at once "
    "(default\n"
    "                         256), past them 503 with Retry-After\n"
    "  --ca-file FILE         PEM CA bundle to verify the --proxy upstream's "
    "TLS\n"
    "  --record DIR           with --proxy: write one fixture per exchange "
    "into DIR\n"
    "                         (a retry extends its fixture into a sequence)\n"
    "  --redact PATH          with --record: replace the value at "
    "request.PATH or\n"
    "                         response.PATH (JSON body; a.b[0].c, [*]) "
    "(repeatable)\n"
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
    "  GET /__admin/requests[?since=SEQ&limit=N]  the journal as JSON, "
    "streamed\n"
    "                            (Authorization masked)\n"
    "  DELETE /__admin/requests  clear the journal\n"
    "  POST /__admin/reset       clear journal, idempotency store, sequences, "
    "rate buckets;\n"
    "                            fixtures are kept, unless ?fixtures=1: then "
    "the ones\n"
    "                            added at run time are removed\n"
    "  GET /__admin/fixtures     loaded fixtures\n"
    "  POST /__admin/fixtures    add a fixture (JSON body); 400 with the "
    "reason if invalid\n"
    "  POST /__admin/provider-states  {\"state\",\"params\",\"action\"} "
    "(Pact): set up or\n"
    "                            tear down a bundled provider state; GET "
    "lists them\n"
    "  PUT /__admin/fixtures/NAME     replace fixture NAME (or add it)\n"
    "  DELETE /__admin/fixtures/NAME  remove fixture NAME\n"
    "\n"
    "Signals: SIGINT and SIGTERM stop the server cleanly (exit 0), hanging\n"
    "connections included.\n"
    "\n"
    "Exit status: 0 after a signal; 1 when the server cannot start (port in "
    "use,\n"
    "invalid fixture, unreadable TLS files); 64 for a bad command line.\n";

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

static int parse_ull(const char *s, unsigned long long max,
                     unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!*s || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
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

enum {
    O_HOST = 1000,
    O_PORT,
    O_PORT_FILE,
    O_CONTRACTS,
    O_FIXTURE,
    O_KEY,
    O_TENANT,
    O_STRICT,
    O_RATE,
    O_MAX_BODY,
    O_JOURNAL,
    O_SEED,
    O_CERT,
    O_KEYFILE,
    O_IDEM_CAP,
    O_IDEM_TTL,
    O_VERSION,
    O_ADMIN_TOKEN,
    O_ADMIN_TOKEN_FILE,
    O_NO_ADMIN,
    O_MAX_CONN,
    O_MAX_CONN_IP,
    O_BUDGET,
    O_FX_BUDGET,
    O_IDEM_BYTES,
    O_JOURNAL_BYTES,
    O_MAX_FIXTURES,
    O_MAX_HEADERS,
    O_BUNDLED,
    O_PROXY,
    O_CA_FILE,
    O_RECORD,
    O_REDACT,
    O_UPSTREAM_TIMEOUT,
    O_PROXY_QUEUE
};

/* Reads the first line of file into buf; never echoes what it read. */
/* The admin token from a file, through the kit's one key-file reader
 * (whole first line, newline dropped, its buffers wiped), into buf. */
static int read_token_file(const char *file, char *buf, size_t len)
{
    char *t = msp_read_key_file(file, len - 1);
    int e = errno;

    if (!t) {
        if (e == EFBIG)
            return usage_error("--admin-token-file: the token in %s is over "
                               "%zu bytes",
                               file, len - 1);
        if (e == ENODATA)
            return usage_error("--admin-token-file: %s has no token on its "
                               "first line",
                               file);
        return usage_error("--admin-token-file: cannot read %s: %s", file,
                           strerror(e));
    }
    snprintf(buf, len, "%s", t);
    msp_secret_free(t);
    return 0;
}

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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"port-file", required_argument, NULL, O_PORT_FILE},
        {"contracts", required_argument, NULL, O_CONTRACTS},
        {"fixture", required_argument, NULL, O_FIXTURE},
        {"bundled", no_argument, NULL, O_BUNDLED},
        {"key", required_argument, NULL, O_KEY},
        {"tenant", required_argument, NULL, O_TENANT},
        {"strict", no_argument, NULL, O_STRICT},
        {"rate-limit", required_argument, NULL, O_RATE},
        {"max-body", required_argument, NULL, O_MAX_BODY},
        {"journal-max", required_argument, NULL, O_JOURNAL},
        {"idem-capacity", required_argument, NULL, O_IDEM_CAP},
        {"idem-ttl-ms", required_argument, NULL, O_IDEM_TTL},
        {"seed", required_argument, NULL, O_SEED},
        {"admin-token", required_argument, NULL, O_ADMIN_TOKEN},
        {"admin-token-file", required_argument, NULL, O_ADMIN_TOKEN_FILE},
        {"no-admin", no_argument, NULL, O_NO_ADMIN},
        {"max-connections", required_argument, NULL, O_MAX_CONN},
        {"max-connections-per-ip", required_argument, NULL, O_MAX_CONN_IP},
        {"request-budget-ms", required_argument, NULL, O_BUDGET},
        {"fixture-budget", required_argument, NULL, O_FX_BUDGET},
        {"idem-max-bytes", required_argument, NULL, O_IDEM_BYTES},
        {"journal-max-bytes", required_argument, NULL, O_JOURNAL_BYTES},
        {"max-fixtures", required_argument, NULL, O_MAX_FIXTURES},
        {"max-headers", required_argument, NULL, O_MAX_HEADERS},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEYFILE},
        {"proxy", required_argument, NULL, O_PROXY},
        {"ca-file", required_argument, NULL, O_CA_FILE},
        {"record", required_argument, NULL, O_RECORD},
        {"redact", required_argument, NULL, O_REDACT},
        {"upstream-timeout", required_argument, NULL, O_UPSTREAM_TIMEOUT},
        {"proxy-queue", required_argument, NULL, O_PROXY_QUEUE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0}};
    const char *dirs[MAX_LIST], *files[MAX_LIST], *keys[MAX_LIST],
        *redact[MAX_LIST];
    const char *port_file = NULL;
    fake_msp_options opt;
    fake_msp *fm;
    unsigned long long v;
    char err[FAKE_MSP_ERRBUF_SIZE], token[512], name[80];
    sigset_t set;
    int c, quiet = 0, sig;

    fake_msp_options_init(&opt);
    opt.port = DEFAULT_PORT;
    opt.contract_dirs = dirs;
    opt.fixture_files = files;
    opt.keys = keys;
    opt.redact = redact;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case O_HOST: opt.host = optarg; break;
        case O_PORT:
            if (parse_ull(optarg, 65535, &v) != 0)
                return usage_error("--port wants 0..65535, got \"%s\"", optarg);
            opt.port = (unsigned short)v;
            break;
        case O_PORT_FILE: port_file = optarg; break;
        case O_BUNDLED:
            if (opt.n_contract_dirs == MAX_LIST)
                return usage_error("too many --contracts options");
            dirs[opt.n_contract_dirs++] = mspf_bundled_dir();
            break;
        case O_CONTRACTS:
        case O_FIXTURE:
        case O_KEY: {
            size_t *n = c == O_CONTRACTS ? &opt.n_contract_dirs
                        : c == O_FIXTURE ? &opt.n_fixture_files
                                         : &opt.n_keys;
            const char **list = c == O_CONTRACTS ? dirs
                                : c == O_FIXTURE ? files
                                                 : keys;
            if (*n == MAX_LIST)
                return usage_error(
                    "too many %s options", /* never echo a --key value */
                    c == O_CONTRACTS ? "--contracts"
                    : c == O_FIXTURE ? "--fixture"
                                     : "--key");
            if (c == O_KEY) { /* never echo any part of a key */
                const char *eq = strchr(optarg, '='), *colon;
                if (!eq || eq == optarg || !eq[1] || eq[1] == ':')
                    return usage_error("--key wants TOKEN=TENANT[:read_only]");
                colon = strchr(eq + 1, ':');
                if (colon && strcmp(colon + 1, "read_only") != 0)
                    return usage_error("--key: the only role is read_only "
                                       "(TOKEN=TENANT[:read_only])");
            }
            list[(*n)++] = optarg;
            break;
        }
        case O_TENANT: opt.tenant = optarg; break;
        case O_STRICT: opt.strict = 1; break;
        case O_RATE:
            if (parse_ull(optarg, LONG_MAX, &v) != 0 || v == 0)
                return usage_error(
                    "--rate-limit wants a positive integer, got \"%s\"",
                    optarg);
            opt.rate_limit_per_min = (long)v;
            break;
        case O_MAX_BODY:
            if (parse_ull(optarg, 1ULL << 30, &v) != 0 || v == 0)
                return usage_error("--max-body wants 1..1073741824, got \"%s\"",
                                   optarg);
            opt.max_body = (size_t)v;
            break;
        case O_JOURNAL:
            if (parse_ull(optarg, 10000000, &v) != 0 || v == 0)
                return usage_error(
                    "--journal-max wants 1..10000000, got \"%s\"", optarg);
            opt.journal_max = (size_t)v;
            break;
        case O_IDEM_CAP:
            if (parse_ull(optarg, 10000000, &v) != 0 || v == 0)
                return usage_error(
                    "--idem-capacity wants 1..10000000, got \"%s\"", optarg);
            opt.idem_capacity = (size_t)v;
            break;
        case O_IDEM_TTL:
            if (parse_ull(optarg, LLONG_MAX / 2, &v) != 0 || v == 0)
                return usage_error(
                    "--idem-ttl-ms wants a positive integer, got \"%s\"",
                    optarg);
            opt.idem_ttl_ms = (long long)v;
            break;
        case O_SEED:
            if (parse_ull(optarg, ULLONG_MAX, &v) != 0)
                return usage_error(
                    "--seed wants an unsigned integer, got \"%s\"", optarg);
            opt.seed = v;
            break;
        case O_ADMIN_TOKEN:
            if (!*optarg)
                return usage_error("--admin-token is empty");
            opt.admin_token = optarg;
            break;
        case O_ADMIN_TOKEN_FILE:
            if (read_token_file(optarg, token, sizeof token) != 0)
                return EXIT_USAGE;
            opt.admin_token = token;
            break;
        case O_NO_ADMIN: opt.no_admin = 1; break;
        case O_MAX_CONN:
        case O_MAX_CONN_IP:
            if (parse_ull(optarg, 1000000, &v) != 0 || v == 0)
                return usage_error("%s wants 1..1000000, got \"%s\"",
                                   c == O_MAX_CONN ? "--max-connections"
                                                   : "--max-connections-per-ip",
                                   optarg);
            if (c == O_MAX_CONN)
                opt.max_connections = (size_t)v;
            else
                opt.max_connections_per_ip = (size_t)v;
            break;
        case O_BUDGET:
            if (parse_ull(optarg, 86400000, &v) != 0 || v == 0)
                return usage_error(
                    "--request-budget-ms wants 1..86400000, got \"%s\"",
                    optarg);
            opt.request_budget_ms = (long long)v;
            break;
        case O_FX_BUDGET:
        case O_IDEM_BYTES:
        case O_JOURNAL_BYTES: {
            const char *flag = c == O_FX_BUDGET    ? "--fixture-budget"
                               : c == O_IDEM_BYTES ? "--idem-max-bytes"
                                                   : "--journal-max-bytes";
            if (parse_ull(optarg, 1ULL << 40, &v) != 0 || v < 1024)
                return usage_error("%s wants 1024..1099511627776 bytes, got "
                                   "\"%s\"",
                                   flag, optarg);
            if (c == O_FX_BUDGET)
                opt.fixture_budget = (size_t)v;
            else if (c == O_IDEM_BYTES)
                opt.idem_max_bytes = (size_t)v;
            else
                opt.journal_max_bytes = (size_t)v;
            break;
        }
        case O_MAX_FIXTURES:
            if (parse_ull(optarg, 10000000, &v) != 0 || v == 0)
                return usage_error(
                    "--max-fixtures wants 1..10000000, got \"%s\"", optarg);
            opt.max_fixtures = (size_t)v;
            break;
        case O_MAX_HEADERS:
            if (parse_ull(optarg, FAKE_MSP_DEFAULT_MAX_HEADERS, &v) != 0 ||
                v == 0)
                return usage_error("--max-headers wants 1..%u, got \"%s\"",
                                   FAKE_MSP_DEFAULT_MAX_HEADERS, optarg);
            opt.max_headers = (size_t)v;
            break;
        case O_CERT: opt.tls_cert = optarg; break;
        case O_KEYFILE: opt.tls_key = optarg; break;
        case O_PROXY: opt.proxy_url = optarg; break;
        case O_CA_FILE: opt.proxy_ca_file = optarg; break;
        case O_RECORD: opt.record_dir = optarg; break;
        case O_REDACT:
            if (opt.n_redact == MAX_LIST)
                return usage_error("too many --redact options");
            redact[opt.n_redact++] = optarg;
            break;
        case O_UPSTREAM_TIMEOUT:
            if (parse_ull(optarg, 3600000, &v) != 0 || v == 0)
                return usage_error(
                    "--upstream-timeout wants 1..3600000 ms, got \"%s\"",
                    optarg);
            opt.upstream_timeout_ms = (long)v;
            break;
        case O_PROXY_QUEUE:
            if (parse_ull(optarg, 100000, &v) != 0 || v == 0)
                return usage_error("--proxy-queue wants 1..100000, got \"%s\"",
                                   optarg);
            opt.proxy_queue = (size_t)v;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case O_VERSION: puts("fake-msp " MSP_EXECUTOR_VERSION); return 0;
        case ':':
            return usage_error(
                "%s needs a value",
                option_name(argv[optind - 1], name, sizeof name));
        default:
            return usage_error(
                "unknown option \"%s\"",
                option_name(argv[optind - 1], name, sizeof name));
        }
    }
    if (optind < argc) /* not echoed: it could be a key */
        return usage_error("unexpected argument (#%d): fake-msp takes "
                           "options only",
                           optind);
    if (!opt.tls_cert != !opt.tls_key)
        return usage_error("--tls-cert and --tls-key go together");
    if ((opt.record_dir || opt.proxy_ca_file) && !opt.proxy_url)
        return usage_error("--record and --ca-file need --proxy URL");
    if ((opt.upstream_timeout_ms || opt.proxy_queue) && !opt.proxy_url)
        return usage_error(
            "--upstream-timeout and --proxy-queue need --proxy URL");
    if (opt.n_redact && !opt.record_dir)
        return usage_error("--redact needs --record DIR");
    if (!quiet)
        opt.log = log_line;

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

    if (fake_msp_start(&opt, &fm, err, sizeof err) != 0) {
        fprintf(stderr, "fake-msp: %s\n", err);
        return 1;
    }
    fprintf(stderr, "fake-msp: seed %llu\n", fake_msp_seed(fm));
    if (port_file && write_port_file(port_file, fake_msp_port(fm)) != 0) {
        fprintf(stderr, "fake-msp: cannot write %s: %s\n", port_file,
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
    if (!quiet)
        fprintf(stderr, "fake-msp: stopped (signal %d)\n", sig);
    return 0;
}
