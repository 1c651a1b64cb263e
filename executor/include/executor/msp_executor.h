/*
 * msp_executor.h — the reference MSP executor.
 *
 * Turns one tool context (the relay's ToolExecutorContext) into exactly one
 *
 *     POST {base_url}/api/v1/god-mode/execute
 *
 * carrying the relay's command_id as both X-Brainstorm-Command-Id and
 * Idempotency-Key, and maps every outcome to {exit_code, stdout, stderr}
 * following the 14-row exit table of docs/wire-contract.md.
 *
 * Ownership, once for the whole header:
 *   - msp_executor_new() returns a handle freed with msp_executor_free().
 *   - Every msp_result filled by this library owns its `out` and `err`
 *     buffers; release them with msp_result_free(). Both are always
 *     NUL-terminated (the terminator is not counted in the length) and may
 *     contain NUL bytes themselves (a raw non-JSON body is passed verbatim).
 *   - Strings passed in (config, context) are borrowed for the duration of
 *     the call only; the executor copies what it keeps.
 *   - *_free(NULL) does nothing.
 *   - Out-parameters are written only on success.
 *
 * Zero-init: msp_config is initialised with msp_config_init(); msp_result
 * and msp_context may be zero-initialised ({0}) and a zeroed msp_result
 * is safe to pass to msp_result_free().
 *
 * Threads: every function is thread-safe unless its comment says otherwise
 * (msp_executor_free must not race a call on the same executor). The
 * library never prints and never exits. One executor may be used from
 * several threads at once; connections are kept alive and reused.
 */
#ifndef MSP_EXECUTOR_H
#define MSP_EXECUTOR_H

#include <stddef.h>

#include "executor/msp_util.h"

/* The kit's version, one source: CMake's project() VERSION is read from
 * these three numbers. It is the User-Agent ("msp-executor/0.2.0") and what
 * every program's --version prints. */
#define MSP_EXECUTOR_VERSION_MAJOR 0
#define MSP_EXECUTOR_VERSION_MINOR 2
#define MSP_EXECUTOR_VERSION_PATCH 0
#define MSP_EXECUTOR_VERSION       "0.2.0"

/* Room for any error message this library writes into an errbuf
 * (messages are cut to fit a smaller one). */
#define MSP_ERRBUF_SIZE 512

/* The shortest API key msp_config_validate() accepts, in bytes: a shorter
 * one could not be redacted from output without hiding ordinary text. */
#define MSP_MIN_KEY_LEN 6

#ifdef __cplusplus
extern "C" {
#endif

/* Library error codes (not exit codes). Values are only ever appended. */
typedef enum msp_err {
    MSP_OK = 0,
    MSP_ERR_NOMEM = -1,  /* out of memory */
    MSP_ERR_CONFIG = -2, /* invalid configuration; the message says why */
    MSP_ERR_ARG = -3,    /* NULL handle or NULL required argument */
    MSP_ERR_CURL = -4    /* libcurl could not be initialised */
} msp_err;

/* A static, never-NULL description of an msp_err value; unknown values
 * give "unknown error". */
const char *msp_strerror(int err);

typedef enum msp_auth_mode {
    MSP_AUTH_SERVICE_KEY = 0, /* default */
    MSP_AUTH_JWT = 1          /* same on the wire; recorded for logs */
} msp_auth_mode;

/* "service_key" or "jwt" (static; any value other than MSP_AUTH_JWT gives
 * "service_key"). */
const char *msp_auth_mode_name(msp_auth_mode mode);

/* Parses "service_key" / "jwt" into *out. Returns 0, or MSP_ERR_CONFIG
 * (also for NULL arguments) leaving *out untouched. */
int msp_auth_mode_parse(const char *text, msp_auth_mode *out);

typedef enum msp_log_level {
    MSP_LOG_INFO = 0,
    MSP_LOG_ERROR = 1
} msp_log_level;

/* Receives one log line without a trailing newline, e.g.
 * "[msp-executor] command 3f0c… → 403 TENANT_MISMATCH (12ms)".
 * Called from whichever thread runs the call. The API key never appears. */
typedef void (*msp_log_fn)(void *user, msp_log_level level, const char *line);

#define MSP_DEFAULT_TIMEOUT_MS 30000LL
#define MSP_MAX_TIMEOUT_MS     86400000LL /* 24 h: anything above is absurd */
#define MSP_RESPONSE_CAP       (16u * 1024u * 1024u) /* response body cap, bytes */

/* The MSP's paths (docs/wire-contract.md): the one an executor POSTs to,
 * and the two read-only ones a fake MSP or a verifier also knows. */
#define MSP_PATH_EXECUTE "/api/v1/god-mode/execute"
#define MSP_PATH_TOOLS   "/api/v1/god-mode/tools"
#define MSP_PATH_HEALTH  "/health"

/* Executor configuration. Initialise with msp_config_init() and then set
 * the fields you need. */
typedef struct msp_config {
    const char *base_url;    /* required, http:// or https://, no '?' or '#';
                              * one trailing '/' is dropped */
    const char *api_key;     /* required, at least MSP_MIN_KEY_LEN bytes, no
                              * control bytes */
    msp_auth_mode auth_mode; /* default MSP_AUTH_SERVICE_KEY */
    const char *tenant_id;   /* optional; logs only, never on the wire */
    long long
        default_timeout_ms; /* default
                               MSP_DEFAULT_TIMEOUT_MS; 1..MSP_MAX_TIMEOUT_MS */
    const char *ca_file;    /* optional PEM bundle to verify TLS against; NULL:
                               system store */
    int insecure_skip_verify; /* 0 (default): TLS peer and host are verified */
    msp_log_fn log;           /* optional; NULL: silent */
    void *log_user;           /* passed to log */
    int capture_body; /* 1: keep the raw response body in msp_result.body
                       * (the provider check needs it); default 0.
                       * Only for rows 6..14 (a body read whole). */
} msp_config;

/* Fills *cfg with the defaults (all strings NULL, timeout 30000 ms).
 * NULL does nothing. */
void msp_config_init(msp_config *cfg);

/* Validates *cfg without creating anything. Returns 0, or MSP_ERR_CONFIG
 * with a one-line reason in errbuf (e.g. "default_timeout_ms must be a
 * positive finite number (got 0)"). errbuf may be NULL. */
int msp_config_validate(const msp_config *cfg, char *errbuf, size_t errlen);

/* The tool context for one call. */
typedef struct msp_context {
    const char *command_id;     /* required; the relay's UUID */
    const char *tool;           /* required, 1..256 bytes */
    const char *params_json;    /* JSON object text, forwarded untouched; NULL
                                   means "{}" */
    long long deadline_ms;      /* time left; <= 0 means already expired */
    const char *correlation_id; /* optional; NULL: no X-Correlation-Id header */
} msp_context;

/* The outcome of one call. */
typedef struct msp_result {
    int exit_code; /* 0, 1, tool codes verbatim (may be negative), 124..127 */
    char *out;     /* the "stdout" of the result */
    size_t out_len;
    char *err; /* the "stderr" of the result */
    size_t err_len;
    int row;         /* the row of the exit table that decided it (1..14) */
    int http_status; /* status received, 0 when none */
    long long elapsed_ms;
    char *body; /* raw response body when msp_config.capture_body, else NULL;
                 * NUL-terminated, freed by msp_result_free() */
    size_t body_len;
} msp_result;

/* Releases the buffers inside *r (not r itself) and zeroes it. NULL-safe. */
void msp_result_free(msp_result *r);

typedef struct msp_executor msp_executor;

/* Creates an executor from *cfg (validated as by msp_config_validate).
 * On success stores the handle in *out and returns 0; on failure returns
 * MSP_ERR_CONFIG / MSP_ERR_NOMEM / MSP_ERR_CURL with a reason in errbuf.
 * Free with msp_executor_free(). */
int msp_executor_new(const msp_config *cfg, msp_executor **out, char *errbuf,
                     size_t errlen);

/* Frees the executor, closes its connections and wipes its copy of the
 * key. NULL-safe. Not thread-safe: must not race a call in progress on
 * the same executor. */
void msp_executor_free(msp_executor *ex);

/* Runs one call. Always fills *res (the exit table covers every outcome,
 * including a refused context) and returns 0; returns MSP_ERR_ARG for NULL
 * arguments and MSP_ERR_NOMEM when the result itself cannot be allocated,
 * leaving *res untouched. Thread-safe. Free *res with msp_result_free().
 * Row 2 refuses, before any byte is sent: an empty or NULL command_id or
 * tool, a tool or correlation_id over 256 bytes, an empty correlation_id,
 * a control byte (< 0x20 or 0x7f) in command_id or correlation_id, and
 * params_json that is not a JSON object. (The API key is checked for
 * control bytes once, by msp_executor_new.) Should a server echo the key
 * back, it is overwritten with '*' in res->out, res->err, res->body and the
 * log line. */
int msp_executor_execute(msp_executor *ex, const msp_context *ctx,
                         msp_result *res);

/* The pure mapping of rows 6..14: an HTTP status and the complete body of a
 * response to a result (body need not be NUL-terminated; NULL with length
 * 0 is an empty body). No I/O; res->body stays NULL. Returns 0 and fills
 * *res, MSP_ERR_ARG for a NULL res or NULL body with a length, or
 * MSP_ERR_NOMEM leaving *res untouched. Free *res with msp_result_free(). */
int msp_map_response(long status, const char *body, size_t body_len,
                     msp_result *res);

/* The exit table (docs/wire-contract.md), once, as an X-macro:
 * X(NAME, row, exit_code, what happened, stderr prefix). exit_code is -1
 * for row 6 ("the tool's own"); the prefix is "" for rows 6, 8 and 9.
 * It generates the msp_row names, the table msp_exit_table() returns, the
 * EXIT STATUS section of msp-exec --help, the docs test and the coverage
 * report. Rows are in decision order. */
#define MSP_EXIT_TABLE(X)                                                     \
    X(DEADLINE, 1, 124, "deadline_ms <= 0: no request is sent",               \
      "msp-executor: deadline expired (")                                     \
    X(INVALID_REQUEST, 2, 124,                                                \
      "a context value cannot go on the wire: no request is sent",            \
      "msp-executor: invalid request: ")                                      \
    X(TRANSPORT, 3, 124,                                                      \
      "no HTTP response (refused, DNS, TLS, reset, timeout, garbage)",        \
      "msp-executor: transport error: ")                                      \
    X(READ_FAILED, 4, 124, "status received but the body could not be read",  \
      "msp-executor: response read failed: ")                                 \
    X(TOO_LARGE, 5, 124, "body larger than the cap",                          \
      "msp-executor: response too large")                                     \
    X(TOOL_RESULT, 6, -1,                                                     \
      "200 with an integer exit_code: the tool's own result", "")             \
    X(MALFORMED_200, 7, 124,                                                  \
      "200 with an exit_code that is not an int32 integer",                   \
      "msp-executor: malformed 200 response: ")                               \
    X(PROVIDER_JSON, 8, 0,                                                    \
      "200 with any other JSON: printed compactly on stdout", "")             \
    X(NOT_JSON, 9, 0, "200 with a body that is not JSON: raw body on stdout", \
      "")                                                                     \
    X(HEADER_MISMATCH, 10, 124, "400 IDEMPOTENCY_CORRELATION_MISMATCH",       \
      "msp-executor: header consistency violation: ")                         \
    X(AUTH, 11, 126, "401 or 403", "msp-executor: auth error (")              \
    X(TOOL_UNKNOWN, 12, 127, "404", "msp-executor: tool unknown (")           \
    X(SERVER_ERROR, 13, 125, "500..599", "msp-executor: server error (")      \
    X(UNEXPECTED_STATUS, 14, 1, "any other status (3xx are never followed)",  \
      "msp-executor: unexpected status (")

/* The row names: MSP_ROW_DEADLINE = 1 ... MSP_ROW_UNEXPECTED_STATUS = 14. */
typedef enum msp_row {
#define MSP_ROW_ENUM_(name, row, exit_code, what, prefix) \
    MSP_ROW_##name = (row),
    MSP_EXIT_TABLE(MSP_ROW_ENUM_)
#undef MSP_ROW_ENUM_
} msp_row;

/* One row of the exit table. */
typedef struct msp_exit_row {
    int row;          /* 1..14 */
    const char *what; /* what happened, in words */
    int exit_code;    /* the exit code; -1 for row 6 ("the tool's own") */
    const char
        *stderr_prefix; /* what stderr starts with; "" for rows 6, 8, 9 */
    const char *name;   /* the row's name, e.g. "DEADLINE" */
} msp_exit_row;

/* The number of rows of the exit table (14). */
#define MSP_EXIT_ROWS (0 + MSP_EXIT_TABLE(MSP_ROW_COUNT_))
/* one "+1" per row, summed by MSP_EXIT_ROWS */
#define MSP_ROW_COUNT_(name, row, exit_code, what, prefix) \
    +1 /* NOLINT(bugprone-macro-parentheses) */

/* The exit table, MSP_EXIT_ROWS entries in decision order, entry i being
 * row i + 1. Static storage; never NULL. Thread-safe. */
const msp_exit_row *msp_exit_table(void);

/* The env wiring (BSM_USE_MSP_EXECUTOR=1 escape hatch).
 *
 * Reads BSM_USE_MSP_EXECUTOR, BSM_MSP_BASE_URL, BSM_MSP_API_KEY,
 * BSM_MSP_TENANT_ID and BSM_MSP_AUTH_MODE through getenv_fn (pass NULL for
 * getenv(3); tests pass their own). Returns:
 *   1  requested: *cfg is reset with msp_config_init() and filled (strings
 *      point into the environment, valid while it is unchanged); set log,
 *      timeouts etc. afterwards. An empty BSM_MSP_AUTH_MODE counts as unset.
 *   0  not requested (BSM_USE_MSP_EXECUTOR unset or not "1"); *cfg untouched
 *   MSP_ERR_CONFIG  requested but incomplete: errbuf holds exactly the
 *      spec's text, e.g. "BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_BASE_URL unset",
 *      or "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"x\")". */
typedef const char *(*msp_getenv_fn)(void *user, const char *name);
int msp_config_from_env(msp_config *cfg, msp_getenv_fn getenv_fn, void *user,
                        char *errbuf, size_t errlen);

/* Parses a ToolExecutorContext JSON document ({"command_id","tool","params",
 * "deadline_ms","correlation_id"}; unknown members are ignored) into *ctx.
 * command_id and tool are required strings, params an optional object
 * (default {}), deadline_ms an optional integer (default 30000),
 * correlation_id an optional string. params_json is the params member's
 * own text, byte for byte (forwarded untouched: no number is reformatted;
 * it is printed compactly by cJSON instead only after a member name spelled
 * with escapes, or when it holds raw control bytes JSON does not allow), or
 * "{}" when params is absent or null. The strings in
 * *ctx point into *doc, which the caller frees with msp_context_doc_free()
 * after the last use of *ctx. Returns 0, or MSP_ERR_CONFIG with a one-line
 * reason naming the member, or MSP_ERR_NOMEM. */
typedef struct msp_context_doc msp_context_doc;
int msp_context_parse(const char *json, size_t len, msp_context *ctx,
                      msp_context_doc **doc, char *errbuf, size_t errlen);
void msp_context_doc_free(msp_context_doc *doc);

/* Serialises a result as {"exit_code":N,"stdout":"...","stderr":"..."}
 * (compact, one line, no newline). Returns a malloc'd string the caller
 * frees with free(), or NULL on ENOMEM or a NULL r. */
char *msp_result_to_json(const msp_result *r);

/* The endpoint-stub's view of a result: the CommandResult message it sends
 * back to the relay for command_id (compact, one line, no newline).
 *   exit 0:  {"type":"CommandResult","command_id":ID,
 *            "lifecycle_state":"completed","error":null,
 *            "payload":{"stdout":...,"stderr":...,"exit_code":0}}
 *   else:    {"type":"CommandResult","command_id":ID,
 *            "lifecycle_state":"failed","payload":null,
 *            "error":{"code":"SANDBOX_TOOL_ERROR",
 *                     "message":"tool exited with N: <stderr>"}}
 * N is the result's exit_code as is (not masked to a byte). Returns a
 * malloc'd string the caller frees with free(), or NULL on ENOMEM or a
 * NULL argument. */
char *msp_result_to_command_result(const msp_result *r, const char *command_id);

/* msp_mask_secret() and the other shared helpers: executor/msp_util.h. */

#ifdef __cplusplus
}
#endif
#endif /* MSP_EXECUTOR_H */
