/*
 * cli.c — msp-exec: run one MSP tool call through the reference executor.
 *
 * Spawned per call by endpoint agents, so start-up does nothing it does not
 * need. Only main() decides exit statuses: the result's exit_code & 0xff,
 * or 64 for a usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_executor.h"
#include "executor/msp_util.h"

#define EXIT_USAGE    64
#define EXIT_SOFTWARE 70
#define INPUT_CAP     (16u * 1024u * 1024u) /* --context document */
#define READ_CHUNK    4096

static const char usage_text[] =
    "NAME\n"
    "    msp-exec - run one MSP god-mode tool call through the reference "
    "executor\n"
    "\n"
    "SYNOPSIS\n"
    "    msp-exec [--base-url URL] [--api-key-file FILE] [--auth-mode "
    "service_key|jwt]\n"
    "             [--tenant-id ID] [--timeout-ms N] [--ca-file FILE] "
    "[--from-env]\n"
    "             (--context FILE|- | --tool NAME [--params JSON] "
    "[--command-id ID]\n"
    "              [--correlation-id ID] [--deadline-ms N])\n"
    "             [--json | --command-result] [-v] [--help] [--version]\n"
    "\n"
    "DESCRIPTION\n"
    "    Sends exactly one POST {base-url}/api/v1/god-mode/execute and maps "
    "the\n"
    "    outcome to an exit code, stdout and stderr following the exit table "
    "of\n"
    "    the wire contract. The result's stdout and stderr are written "
    "verbatim.\n"
    "\n"
    "OPTIONS\n"
    "    --base-url URL        MSP base URL, http:// or https:// (default: "
    "$BSM_MSP_BASE_URL)\n"
    "    --api-key-file FILE   read the API key from FILE: its first line, "
    "without the\n"
    "                          newline (at most 64 KiB; at least 6 bytes)\n"
    "                          (default: $BSM_MSP_API_KEY); the key is never a "
    "flag value\n"
    "    --auth-mode MODE      service_key (default) or jwt (default: "
    "$BSM_MSP_AUTH_MODE)\n"
    "    --tenant-id ID        tenant, for logs only (default: "
    "$BSM_MSP_TENANT_ID)\n"
    "    --timeout-ms N        default timeout per call, 1..86400000 (default "
    "30000)\n"
    "    --ca-file FILE        PEM CA bundle to verify TLS against (default: "
    "system store)\n"
    "    --from-env            take the configuration through the "
    "BSM_USE_MSP_EXECUTOR=1\n"
    "                          wiring (errors are printed verbatim); flags "
    "still override\n"
    "    --context FILE|-      read a ToolExecutorContext JSON document from "
    "FILE or stdin\n"
    "    --tool NAME           the tool to run, e.g. msp.list_devices\n"
    "    --params JSON         the tool parameters, a JSON object (default "
    "{});\n"
    "                          anything else is a usage error (64)\n"
    "    --command-id ID       the command id (default: a fresh random "
    "UUIDv4)\n"
    "    --correlation-id ID   sent as X-Correlation-Id (default: none)\n"
    "    --deadline-ms N       time left for the call; <= 0 means expired "
    "(default 30000)\n"
    "    --json                print "
    "{\"exit_code\":N,\"stdout\":\"...\",\"stderr\":\"...\"} on stdout\n"
    "    --command-result      print the CommandResult the endpoint-stub "
    "sends for the\n"
    "                          result on stdout (lifecycle_state completed for "
    "exit 0,\n"
    "                          failed with SANDBOX_TOOL_ERROR otherwise)\n"
    "    -v, --verbose         log the configuration (key masked) and the call "
    "on stderr\n"
    "    -h, --help            print this help and exit 0\n"
    "    --version             print \"msp-exec VERSION\" and exit 0\n"
    "\n"
    "ENVIRONMENT\n"
    "    BSM_MSP_BASE_URL, BSM_MSP_API_KEY, BSM_MSP_AUTH_MODE, "
    "BSM_MSP_TENANT_ID\n"
    "        defaults for the flags above.\n"
    "    BSM_USE_MSP_EXECUTOR\n"
    "        must be 1 for --from-env; then BSM_MSP_BASE_URL, BSM_MSP_API_KEY "
    "and\n"
    "        BSM_MSP_TENANT_ID are required.\n"
    "\n"
    "\n";

/* EXIT STATUS, generated from the exit table at run time. */
static void print_exit_status(FILE *f)
{
    const msp_exit_row *t = msp_exit_table();
    fputs("EXIT STATUS (the result's exit_code & 0xff; the row of the exit "
          "table)\n",
          f);
    for (int i = 0; i < MSP_EXIT_ROWS; i++) {
        if (t[i].exit_code < 0)
            fprintf(f, "    N    row %2d  %s (& 0xff: 300 -> 44, -1 -> 255)\n",
                    t[i].row, t[i].what);
        else
            fprintf(f, "    %-3d  row %2d  %s\n", t[i].exit_code, t[i].row,
                    t[i].what);
    }
    fprintf(f, "    %-3d  usage or configuration error (nothing was sent)\n",
            EXIT_USAGE);
    fprintf(f, "    %-3d  internal error (out of memory)\n", EXIT_SOFTWARE);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
                                                             ...)
{
    va_list ap;
    fputs("msp-exec: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see msp-exec --help)\n", stderr);
    return EXIT_USAGE;
}

/* Reads a whole stream up to cap bytes into a NUL-terminated malloc'd
 * buffer. Returns NULL on error or when the input is over cap; never
 * holds more than cap + 1 bytes of it. */
static char *read_stream(FILE *f, size_t cap, size_t *len)
{
    size_t n = 0, size = READ_CHUNK;
    char *buf = malloc(size);
    while (buf) {
        if (n + 1 == size) {
            if (n > cap)
                break;
            size_t next = size > cap / 2 ? cap + 2 : size * 2;
            char *grown = realloc(buf, next);
            if (!grown)
                break;
            buf = grown;
            size = next;
        }
        size_t got = fread(buf + n, 1, size - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f) || n > cap)
                break;
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

static char *read_file(const char *path, size_t cap, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return read_stream(stdin, cap, len);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = read_stream(f, cap, len);
    (void)fclose(f); /* read-only: nothing to lose */
    return data;
}

static int parse_ll(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return -1;
    *out = v;
    return 0;
}

static void log_stderr(void *user, msp_log_level level, const char *line)
{
    (void)user;
    (void)level;
    fprintf(stderr, "%s\n", line);
}

struct options {
    const char *base_url, *key_file, *auth_mode, *tenant_id, *ca_file;
    const char *context_file, *tool, *params, *command_id, *correlation_id;
    const char *timeout_ms, *deadline_ms;
    int from_env, json, command_result, verbose, help, version;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        O_BASE = 256,
        O_KEYFILE,
        O_AUTH,
        O_TENANT,
        O_TIMEOUT,
        O_CA,
        O_ENV,
        O_CONTEXT,
        O_TOOL,
        O_PARAMS,
        O_CMD,
        O_CORR,
        O_DEADLINE,
        O_JSON,
        O_COMMAND_RESULT,
        O_VERSION
    };
    static const struct option longopts[] = {
        {"base-url", required_argument, NULL, O_BASE},
        {"api-key-file", required_argument, NULL, O_KEYFILE},
        {"auth-mode", required_argument, NULL, O_AUTH},
        {"tenant-id", required_argument, NULL, O_TENANT},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"ca-file", required_argument, NULL, O_CA},
        {"from-env", no_argument, NULL, O_ENV},
        {"context", required_argument, NULL, O_CONTEXT},
        {"tool", required_argument, NULL, O_TOOL},
        {"params", required_argument, NULL, O_PARAMS},
        {"command-id", required_argument, NULL, O_CMD},
        {"correlation-id", required_argument, NULL, O_CORR},
        {"deadline-ms", required_argument, NULL, O_DEADLINE},
        {"json", no_argument, NULL, O_JSON},
        {"command-result", no_argument, NULL, O_COMMAND_RESULT},
        {"version", no_argument, NULL, O_VERSION},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case O_BASE: o->base_url = optarg; break;
        case O_KEYFILE:
            /* getopt_long takes "--api-key VALUE" as an abbreviation of
             * --api-key-file, and the value may be the key itself: only the
             * full name is accepted, and the value is never echoed. */
            if (strncmp(argv[optind - (optarg == argv[optind - 1] ? 2 : 1)],
                        "--api-key-file", MSP_STRLEN("--api-key-file")) != 0)
                return usage_error(
                    "%s", "unknown option --api-key (the key is never a flag "
                          "value: use --api-key-file FILE or BSM_MSP_API_KEY)");
            o->key_file = optarg;
            break;
        case O_AUTH: o->auth_mode = optarg; break;
        case O_TENANT: o->tenant_id = optarg; break;
        case O_TIMEOUT: o->timeout_ms = optarg; break;
        case O_CA: o->ca_file = optarg; break;
        case O_ENV: o->from_env = 1; break;
        case O_CONTEXT: o->context_file = optarg; break;
        case O_TOOL: o->tool = optarg; break;
        case O_PARAMS: o->params = optarg; break;
        case O_CMD: o->command_id = optarg; break;
        case O_CORR: o->correlation_id = optarg; break;
        case O_DEADLINE: o->deadline_ms = optarg; break;
        case O_JSON: o->json = 1; break;
        case O_COMMAND_RESULT: o->command_result = 1; break;
        case O_VERSION: o->version = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h': o->help = 1; break;
        case ':':
            return usage_error("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option -%c", optopt);
            /* The name only: "--apikey=VALUE" must not echo the value. */
            return usage_error("unknown option %.*s",
                               (int)strcspn(argv[optind - 1], "="),
                               argv[optind - 1]);
        }
    }
    /* Never echoed: a stray argument may be the key itself. */
    if (optind < argc)
        return usage_error("unexpected argument #%d (not an option; the key "
                           "is never an argument)",
                           optind);
    if (o->json && o->command_result)
        return usage_error("%s",
                           "--json and --command-result exclude each other");
    return 0;
}

/* Usage errors never echo a flag's value: a key pasted in the wrong place
 * must not reach a terminal or a log. */

/* Fills cfg from the flags, the environment and the key file. Returns 0 or
 * an exit status. *key_store receives the key buffer to free. */
static int configure(const struct options *o, msp_config *cfg, char **key_store)
{
    char err[MSP_ERRBUF_SIZE];
    msp_config_init(cfg);
    if (o->from_env) {
        int rc = msp_config_from_env(cfg, NULL, NULL, err, sizeof err);
        if (rc == 0)
            return usage_error(
                "%s", "--from-env given but BSM_USE_MSP_EXECUTOR is not 1");
        if (rc < 0)
            return usage_error("%s", err);
    } else {
        cfg->base_url = getenv("BSM_MSP_BASE_URL");
        cfg->api_key = getenv("BSM_MSP_API_KEY");
        cfg->tenant_id = getenv("BSM_MSP_TENANT_ID");
        const char *mode = getenv("BSM_MSP_AUTH_MODE");
        if (!o->auth_mode && mode && *mode &&
            msp_auth_mode_parse(mode, &cfg->auth_mode) != MSP_OK)
            return usage_error(
                "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"%s\")",
                mode);
    }
    if (o->base_url)
        cfg->base_url = o->base_url;
    if (o->tenant_id)
        cfg->tenant_id = o->tenant_id;
    if (o->ca_file)
        cfg->ca_file = o->ca_file;
    if (o->auth_mode &&
        msp_auth_mode_parse(o->auth_mode, &cfg->auth_mode) != MSP_OK)
        return usage_error("%s", "--auth-mode must be service_key or jwt");
    if (o->timeout_ms && parse_ll(o->timeout_ms, &cfg->default_timeout_ms) != 0)
        return usage_error("%s", "--timeout-ms must be an integer");
    if (o->key_file) {
        *key_store = msp_read_key_file(o->key_file, MSP_KEY_FILE_CAP);
        if (!*key_store)
            return usage_error("cannot read a key from --api-key-file %s: %s",
                               o->key_file,
                               errno == ENODATA ? "empty first line"
                               : errno == EFBIG ? "first line over 64 KiB"
                                                : strerror(errno));
        cfg->api_key = *key_store;
    }
    if (!cfg->base_url || !*cfg->base_url)
        return usage_error("%s",
                           "no base URL (use --base-url or BSM_MSP_BASE_URL)");
    if (!cfg->api_key || !*cfg->api_key)
        return usage_error(
            "%s", "no API key (use --api-key-file or BSM_MSP_API_KEY)");
    if (o->verbose) {
        char masked[MSP_MASK_BUF_SIZE];
        msp_mask_secret(cfg->api_key, masked, sizeof masked);
        fprintf(stderr,
                "[msp-exec] base_url=%s auth_mode=%s tenant=%s key=%s\n",
                cfg->base_url, msp_auth_mode_name(cfg->auth_mode),
                cfg->tenant_id ? cfg->tenant_id : "-", masked);
        cfg->log = log_stderr;
    }
    return 0;
}

/* 1 when text is a JSON object as the executor accepts params (it goes
 * through the same context parser), 0 when not, -1 out of memory. */
static int params_is_object(const char *text)
{
    static const char head[] =
        "{\"command_id\":\"c\",\"tool\":\"t\",\"params\":";
    size_t n = strlen(text);
    char *doc_text = malloc(sizeof head + n + 1);
    if (!doc_text)
        return -1;
    memcpy(doc_text, head, sizeof head - 1);
    memcpy(doc_text + sizeof head - 1, text, n);
    memcpy(doc_text + sizeof head - 1 + n, "}", 2);
    msp_context ctx;
    msp_context_doc *doc = NULL;
    int rc = msp_context_parse(doc_text, sizeof head + n, &ctx, &doc, NULL, 0);
    msp_context_doc_free(doc);
    free(doc_text);
    if (rc == MSP_ERR_NOMEM)
        return -1;
    /* "null" parses as absent params: not an object either */
    return rc == MSP_OK && strcmp(text, "null") != 0;
}

/* Fills ctx from --context or the per-field flags. Returns 0 or an exit
 * status; *doc / *text receive what to free. */
static int read_context(const struct options *o, msp_context *ctx,
                        msp_context_doc **doc, char **text,
                        char uuid[MSP_UUID_BUF_SIZE])
{
    if (o->context_file && (o->tool || o->params || o->command_id ||
                            o->correlation_id || o->deadline_ms))
        return usage_error("%s",
                           "--context excludes --tool, --params, --command-id, "
                           "--correlation-id and --deadline-ms");
    if (o->context_file) {
        size_t n = 0;
        char err[MSP_ERRBUF_SIZE];
        *text = read_file(o->context_file, INPUT_CAP, &n);
        if (!*text)
            return usage_error(
                "cannot read --context %s (missing, unreadable or over 16 MiB)",
                o->context_file);
        if (msp_context_parse(*text, n, ctx, doc, err, sizeof err) != MSP_OK)
            return usage_error("%s", err);
        return 0;
    }
    if (!o->tool)
        return usage_error("%s", "one of --context or --tool is required");
    memset(ctx, 0, sizeof *ctx);
    ctx->tool = o->tool;
    ctx->params_json = o->params ? o->params : "{}";
    if (o->params) {
        /* Checked here, as a usage error naming the flag, rather than as
         * the executor's "invalid request" (row 2, exit 124). */
        int rc = params_is_object(o->params);
        if (rc < 0) {
            fputs("msp-exec: out of memory\n", stderr);
            return EXIT_SOFTWARE;
        }
        if (rc == 0)
            return usage_error("%s", "--params must be a JSON object");
    }
    ctx->correlation_id = o->correlation_id;
    ctx->deadline_ms = MSP_DEFAULT_TIMEOUT_MS;
    if (o->deadline_ms && parse_ll(o->deadline_ms, &ctx->deadline_ms) != 0)
        return usage_error("%s", "--deadline-ms must be an integer");
    if (!o->command_id && msp_uuid4(uuid) != 0)
        return usage_error("%s",
                           "no randomness for a command id; pass --command-id");
    ctx->command_id = o->command_id ? o->command_id : uuid;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    msp_config cfg;
    msp_context ctx;
    msp_context_doc *doc = NULL;
    msp_executor *ex = NULL;
    msp_result res = {0};
    char *key = NULL, *text = NULL, uuid[MSP_UUID_BUF_SIZE],
         err[MSP_ERRBUF_SIZE];
    int status = parse_options(argc, argv, &o);

    if (status == 0 && o.help) {
        fputs(usage_text, stdout);
        print_exit_status(stdout);
        return 0;
    }
    if (status == 0 && o.version) {
        puts("msp-exec " MSP_EXECUTOR_VERSION);
        return 0;
    }
    if (status == 0)
        status = configure(&o, &cfg, &key);
    if (status == 0)
        status = read_context(&o, &ctx, &doc, &text, uuid);
    if (status == 0 && msp_executor_new(&cfg, &ex, err, sizeof err) != MSP_OK)
        status = usage_error("%s", err);
    if (status == 0 && msp_executor_execute(ex, &ctx, &res) != MSP_OK) {
        fputs("msp-exec: out of memory\n", stderr);
        status = EXIT_SOFTWARE;
    } else if (status == 0) {
        if (o.json || o.command_result) {
            char *json =
                o.json ? msp_result_to_json(&res)
                       : msp_result_to_command_result(&res, ctx.command_id);
            if (json)
                printf("%s\n", json);
            free(json);
        } else {
            /* Best effort: the exit status carries the outcome either way. */
            (void)fwrite(res.out, 1, res.out_len, stdout);
            (void)fwrite(res.err, 1, res.err_len, stderr);
        }
        status = res.exit_code & 0xff;
    }
    msp_result_free(&res);
    msp_executor_free(ex);
    msp_context_doc_free(doc);
    free(text);
    msp_secret_free(key);
    (void)fflush(stdout);
    return status;
}
