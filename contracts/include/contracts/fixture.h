/*
 * fixture.h — the contract fixture model: load, validate, match, compare.
 *
 * One fixture (one JSON file under contracts/fixtures/) is the single source
 * of truth for one interaction; see docs/fixture-format.md and the schema
 * contracts/fixture.schema.json. This small library is the only parser of
 * that format: fake-msp uses it to pick and replay responses, msp-contract
 * uses it to drive the executor and to compare what happened.
 *
 * Ownership, once for the whole header:
 *   - mspf_fixture_parse()/mspf_fixture_load() return a fixture freed with
 *     mspf_fixture_free(); a fixture added to a set is owned by the set.
 *   - mspf_set_free() frees the set and every fixture in it.
 *   - mspf_diffs hold malloc'd strings; mspf_diffs_free() releases them.
 *   - *_free(NULL) does nothing. Out-parameters are written only on success.
 *   - All the matching and comparing functions only read the fixture, so a
 *     loaded fixture may be shared by any number of threads (regexes are
 *     compiled once, at load).
 *   - Threads: every function is thread-safe on distinct objects; a set or
 *     a mspf_diffs being changed (mspf_set_add, mspf_set_load_dir,
 *     mspf_diffs_add, *_free) must not be used by another thread meanwhile.
 *   - Zero-init: mspf_diffs and mspf_error start zeroed ({0}); a zeroed
 *     mspf_diffs is empty and safe to free.
 *
 * Matchers. Wherever a value is matched (request.headers, request.body at
 * any depth, expect.stdout/stderr, and inside {"json": ...}) it is either a
 * literal, compared as JSON (numbers numerically, objects with the same key
 * set, arrays element by element; a header or stdout literal is a string
 * compared exactly), or an object with exactly one of these keys:
 *   {"regex": "RE"}      the string value matches: PCRE2 syntax on bytes,
 *                        unanchored (use ^ and $), '.' matches any byte
 *                        and '$' only the very end (as POSIX ERE without
 *                        REG_NEWLINE; ERE patterns keep their meaning);
 *                        bounded: a match past its step, depth or heap
 *                        limit is a non-match (mspf_regex_limit_hits)
 *   {"same_as": "Name"}  request headers only: equals that other header
 *   {"json": v}          a string is parsed as JSON first, then compared to v
 *                        (v may contain matchers)
 *   {"type": example}    same JSON type; objects: every key of the example is
 *                        present with a matching type (extra keys allowed);
 *                        arrays: every element matches the first example
 *                        element (an empty example takes any array)
 *   {"absent": true}     the header / object member is not there
 * A literal object with exactly one such key (e.g. params {"type": "laptop"})
 * is therefore read as that matcher; there is no escape (no fixture needs
 * one).
 */
#ifndef MSPF_FIXTURE_H
#define MSPF_FIXTURE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for "FILE: PATH: REASON" as mspf_error_format() writes it. */
#define MSPF_ERRBUF_SIZE (512 + 256 + 512 + 4)

/* Why a fixture was refused: the file, the JSON path and the reason, e.g.
 * file "contracts/fixtures/fault-reset.json", path "$.response.fault.kind",
 * reason "unknown fault kind \"resett\"". */
typedef struct mspf_error {
    char file[512];
    char path[256];
    char reason[512];
} mspf_error;

/* Formats *err as "FILE: PATH: REASON" into buf (cut to buflen; nothing
 * written when buflen is 0; MSPF_ERRBUF_SIZE always suffices). Returns
 * buf. */
const char *mspf_error_format(const mspf_error *err, char *buf, size_t buflen);

/* The fault catalogue (docs/fixture-format.md, "Faults"). */
typedef enum mspf_fault_kind {
    MSPF_FAULT_NONE = 0,
    MSPF_FAULT_RESET,    /* RST right after the request is read */
    MSPF_FAULT_EMPTY,    /* clean close, no bytes */
    MSPF_FAULT_GARBAGE,  /* `bytes` seeded random bytes, then close */
    MSPF_FAULT_HANG,     /* nothing, ever */
    MSPF_FAULT_TRUNCATE, /* full Content-Length, `after_bytes` body bytes, close
                          */
    MSPF_FAULT_DRIBBLE,  /* whole response, `chunk_bytes` every `interval_ms` */
    MSPF_FAULT_BAD_CHUNKING,        /* chunked with a malformed chunk size */
    MSPF_FAULT_RESET_AFTER_HEADERS, /* status line and headers, then RST */
    MSPF_FAULT_KIND_COUNT
} mspf_fault_kind;

/* "reset", "empty", ... ; "none" for MSPF_FAULT_NONE. Static. */
const char *mspf_fault_kind_name(mspf_fault_kind kind);

typedef struct mspf_fault {
    mspf_fault_kind kind;
    size_t bytes;            /* garbage: how many bytes */
    unsigned long long seed; /* garbage: the PRNG seed */
    int has_seed;            /* 0: the server's seed applies */
    size_t after_bytes;      /* truncate: body bytes sent before the close */
    size_t chunk_bytes;      /* dribble: bytes per write */
    long interval_ms;        /* dribble: pause between writes */
} mspf_fault;

typedef struct mspf_header {
    char *name;
    char *value;
} mspf_header;

/* Largest fixture file mspf_fixture_load() reads, and largest rendered
 * "body_repeat". */
#define MSPF_FILE_MAX        (1024u * 1024u)
#define MSPF_BODY_REPEAT_MAX (64u * 1024u * 1024u)

/* One scripted reply. The body is rendered once at load time from at most
 * one of: "body" (JSON, printed compactly with cJSON_PrintUnformatted),
 * "body_text" (sent as is), "body_base64" (strict padded base64, raw bytes)
 * or "body_repeat" ({"text": "...", "times": N}: the text N times over, at
 * most MSPF_BODY_REPEAT_MAX bytes, so a fixture can ask for a body over the
 * executor's 16 MiB cap without storing it). None: an empty body. When the
 * fixture names no Content-Type (any case), application/json is appended
 * for "body" and text/plain; charset=utf-8 for "body_text"/"body_repeat".
 * "status" defaults to 200. */
typedef struct mspf_response {
    int status;
    mspf_header *headers; /* in fixture order */
    size_t n_headers;
    unsigned char
        *body; /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    long delay_ms; /* before anything is sent */
    mspf_fault fault;
} mspf_response;

/* A provider state a fixture needs: a name and its parameters (the Pact
 * provider-state convention). */
typedef struct mspf_state {
    char *name;
    char *params_json; /* compact JSON object text, "{}" when none */
} mspf_state;

/* Where the consumer check points the executor. */
typedef enum mspf_target {
    MSPF_TARGET_FAKE = 0,   /* the in-process fake-msp (default) */
    MSPF_TARGET_CLOSED_PORT /* a loopback port with nothing listening */
} mspf_target;

typedef struct mspf_fixture {
    char *name; /* unique; the file name without .json */
    char *description;
    char **tags;
    size_t n_tags;
    int exit_row; /* 1..14, the exit-table row it pins */
    char *file;   /* where it was loaded from, or "<memory>" */

    /* "executor": overrides of the harness's executor config */
    char *api_key;                /* NULL: the harness default ("sk-test") */
    int auth_mode;                /* -1: default; else msp_auth_mode value */
    long long default_timeout_ms; /* 0: default */
    mspf_target target;

    /* "context": the ToolExecutorContext */
    char *command_id;
    char *tool;
    char *params_json; /* compact JSON object text */
    long long deadline_ms;
    char *correlation_id; /* NULL when absent */

    int repeat;          /* how many times the context is run (>= 1) */
    int expects_request; /* 0 when "request": null — nothing may be sent */

    /* "response" (n_responses == 1) or "responses" (served in turn, the last
     * repeating). n_responses == 0: the fake's realistic behaviour answers. */
    mspf_response *responses;
    size_t n_responses;

    /* "provider" */
    int provider_verify;
    char *provider_state;        /* the first state's name; NULL when none */
    mspf_state *provider_states; /* "state" or "states", in order */
    size_t n_provider_states;
    char **provider_checks; /* MSP-side check names it pins ("checks") */
    size_t n_provider_checks;
    size_t n_provider_steps; /* > 0: a provider-only fixture ("steps") */
    int pin_command_id;      /* 1: the provider sends its ids verbatim */
    char *credential; /* role: "executor.credential", else for a provider-only
                         fixture "provider.credential"; NULL: "valid" */

    cJSON *doc; /* the whole document; matchers live in it */
    void *priv; /* compiled matchers; private */
} mspf_fixture;

/* Parses and validates one fixture from JSON text. `origin` names it in
 * errors (a file path, or NULL for "<memory>"). The name must be given in
 * the document. Returns 0 and sets *out, or -1 and fills *err. */
int mspf_fixture_parse(const char *json, size_t len, const char *origin,
                       mspf_fixture **out, mspf_error *err);

/* Reads and parses FILE; additionally the name must equal the file's base
 * name without ".json". Files over 1 MiB are refused. */
int mspf_fixture_load(const char *file, mspf_fixture **out, mspf_error *err);

/* mspf_fixture_parse() refusing, before allocating them, responses that
 * would hold more than budget bytes in all (rendered bodies, body_repeat,
 * every entry of "responses"; 0: no limit); the reason names the fixture. */
int mspf_fixture_parse_within(const char *json, size_t len, const char *origin,
                              size_t budget, mspf_fixture **out,
                              mspf_error *err);

/* The bytes a parsed fixture's responses hold (bodies and headers). */
size_t mspf_fixture_bytes(const mspf_fixture *f);

/* Frees a fixture and everything in it. NULL does nothing. */
void mspf_fixture_free(mspf_fixture *f);

/* A set of fixtures with unique names and unique command ids. */
typedef struct mspf_set mspf_set;

/* An empty set, freed with mspf_set_free(); NULL on ENOMEM. */
mspf_set *mspf_set_new(void);
/* Frees the set and every fixture in it. NULL does nothing. */
void mspf_set_free(mspf_set *set);

/* Adds f, taking ownership on success. Refuses (-1, *err filled, f still
 * the caller's) a duplicate name or command id. */
int mspf_set_add(mspf_set *set, mspf_fixture *f, mspf_error *err);

/* Loads every *.json in DIR (sorted by name, not recursive; the schema file
 * "fixture.schema.json" is skipped). Stops at the first invalid fixture.
 * Returns the number loaded, or -1 with *err filled. */
int mspf_set_load_dir(mspf_set *set, const char *dir, mspf_error *err);

/* The number of fixtures in the set. */
size_t mspf_set_count(const mspf_set *set);
/* Fixture i (0-based, in load order), owned by the set; NULL when i is out
 * of range. */
mspf_fixture *mspf_set_get(const mspf_set *set, size_t i);
/* The fixture with that name, or NULL. */
mspf_fixture *mspf_set_find(const mspf_set *set, const char *name);
/* Removes fixture i from the set and hands it to the caller (NULL when
 * there is none); the ones after it move up. */
mspf_fixture *mspf_set_take(mspf_set *set, size_t i);
/* Puts f in place of fixture i (name and command id unique among the
 * others) and hands the old one to the caller; NULL with *err, f not
 * taken, on a duplicate. */
mspf_fixture *mspf_set_put(mspf_set *set, size_t i, mspf_fixture *f,
                           mspf_error *err);

/* The bundled fixture directory: <exe>/../share/msp-contract-kit/contracts/
 * fixtures when the running program is an installed one (the directory
 * exists next to it, found through /proc/self/exe), else the fixtures of the
 * source tree it was built from. Static storage; never NULL. */
const char *mspf_bundled_dir(void);

/* One difference: which field, what the fixture expected, what was seen.
 * Values are short readable strings: JSON printed compactly (a string with
 * its quotes), "(absent)" for a missing value, a type name ("string") for a
 * type mismatch, the matcher itself for a failed matcher; anything longer
 * than ~200 bytes is cut and ends in "…(N bytes)". The value of an
 * Authorization header is shown masked by msp_mask_secret()'s policy,
 * "Bearer s…(7)", never in full. */
typedef struct mspf_diff {
    char
        *field; /* e.g. "request.headers.Idempotency-Key", "expect.exit_code" */
    char *expected; /* e.g. "\"3f0c…\"", "{\"regex\":\"^msp\"}", "126" */
    char *got;      /* e.g. "(absent)", "1" */
    /* The first byte at which the two values (as text, before they were
     * cut for showing) differ, or -1 when not known; and the offset in
     * those texts at which expected and got as shown begin (0, or past a
     * long common head, when the shown window starts "…" just before the
     * difference). */
    long at;
    long from;
} mspf_diff;

typedef struct mspf_diffs {
    mspf_diff *items;
    size_t n;
    size_t cap;
} mspf_diffs;

/* Appends one difference (strings copied). Returns 0 or -1 on ENOMEM. */
int mspf_diffs_add(mspf_diffs *d, const char *field, const char *expected,
                   const char *got);
/* Frees every difference and zeroes *d (ready for reuse). NULL does
 * nothing. */
void mspf_diffs_free(mspf_diffs *d);

/* A request as seen on the wire. */
typedef struct mspf_request {
    const char *method;
    const char *path;           /* without the query string */
    const mspf_header *headers; /* in arrival order; names any case */
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
} mspf_request;

/* Checks a request against the fixture's "request" (method, path, each named
 * header with its matcher — names case-insensitive, the first occurrence
 * counts — and the body as JSON with matchers; a header or body the fixture
 * does not name may be anything). Returns 1 when it matches, 0 when not
 * (each mismatch appended to *why if why != NULL, fields named
 * "request.method", "request.headers.Idempotency-Key",
 * "request.body.params.pid"), and 0 for a fixture with "request": null. With
 * why == NULL it stops at the first mismatch, before parsing the body when a
 * header differs. */
int mspf_match_request(const mspf_fixture *f, const mspf_request *req,
                       mspf_diffs *why);

/* The same for a body the caller has parsed already (a server matching one
 * request against many fixtures parses it once): body is
 * cJSON_ParseWithLength() of exactly req->body / req->body_len, or NULL to
 * have it parsed here (as for a body that is not JSON). The caller keeps
 * body; it is only read. */
int mspf_match_request_json(const mspf_fixture *f, const mspf_request *req,
                            const cJSON *body, mspf_diffs *why);

/* What the executor returned, for mspf_check_result(). */
typedef struct mspf_outcome {
    int exit_code;
    const char *out;
    size_t out_len;
    const char *err;
    size_t err_len;
    long long elapsed_ms;
    /* The CommandResult the endpoint-stub sends for this result (JSON
     * text), checked against expect.command_result; NULL: none produced. */
    const char *command_result;
    size_t command_result_len;
} mspf_outcome;

/* Checks the outcome of run number `run` (0-based) against "expect" (or
 * "expects"[run], the last repeating): exit_code, stdout and stderr (a
 * literal is exact over all out_len/err_len bytes, NUL bytes included;
 * {"json": v} parses the text; a regex runs over every byte), the
 * CommandResult against command_result (as {"json": ...}), and max_ms
 * against elapsed_ms. Every string comparison is by length and bytes: a
 * fixture string holding \u0000 keeps the bytes after it.
 * Fields are named "expect.exit_code", "expect.stdout.data.count", ...
 * Returns 1 when all hold, 0 otherwise with the differences appended to
 * *diffs (if diffs != NULL). */
int mspf_check_result(const mspf_fixture *f, int run, const mspf_outcome *o,
                      mspf_diffs *diffs);

/* The provider check: compares a real MSP's reply with the fixture's
 * response number `run` (the last repeating) using "provider.match": the
 * status exactly; when the fixture's body has error.code, the real one must
 * be equal; then the body by match.body: "type" (default: the fixture body
 * is a {"type": ...} example; a non-JSON fixture body is not compared),
 * "exact" (as JSON when both parse, else byte for byte) or "error_code"
 * (nothing more). Fields are named "response.status",
 * "response.body.data.devices[0].hostname", ... A fixture without a
 * scripted response never holds. Returns 1 when it holds, 0 otherwise with
 * differences appended (if diffs != NULL). */
int mspf_check_provider(const mspf_fixture *f, int run, long status,
                        const unsigned char *body, size_t body_len,
                        mspf_diffs *diffs);

/* How many regex matches on this thread hit a PCRE2 limit (and so did not
 * match), ever; compare before and after a match to notice one. */
unsigned long mspf_regex_limit_hits(void);

/* Evaluates one matcher value (literal or matcher object) against a JSON
 * value; `got` may be NULL for "absent". Regexes are compiled per call here
 * (an invalid one never matches); same_as never matches outside a request.
 * Exposed for the fake's checks and for tests. Returns 1 on match. */
int mspf_value_matches(const cJSON *expected, const cJSON *got);

/* ---- the provider side (docs/provider.md) ----------------------------
 *
 * A fixture whose "provider" block has "steps" is provider-only: it has no
 * context, request, response(s), expect(s), executor, repeat or exit_row;
 * the consumer check skips it and the provider check sends each step's
 * raw request itself. Steps stay in the document (mspf_provider_steps);
 * values that refer to an earlier step are {"same_as_step": N, "part": P}
 * with N counted from 1 and P one of "body" (the raw body), "status",
 * "header:NAME" or a JSON path "$.a.b[0].c[name=x]" into the body. */

/* A credential role: fixtures name roles, never keys. `default_key` is what
 * fake-msp started with no options issues for the role (and what the
 * consumer check sends); "invalid" is issued by no server. */
typedef struct mspf_role {
    const char *name;        /* "valid", "read_only", "other_tenant", ... */
    const char *default_key; /* e.g. "sk-readonly" */
    int issued;              /* 0: no server accepts it (role "invalid") */
    int read_only;           /* may run only read_only tools */
    int other_tenant;        /* bound to a tenant other than the server's */
    const char *what;        /* one line for --help and the docs */
} mspf_role;

#define MSPF_ROLE_DEFAULT "valid"

/* Most steps in a scenario, most headers a step's request names. */
#define MSPF_STEPS_MAX        32
#define MSPF_STEP_HEADERS_MAX 64

/* The built-in roles (static table of *n entries). */
const mspf_role *mspf_roles(size_t *n);
/* The role called name, or NULL. */
const mspf_role *mspf_role_find(const char *name);

/* One row of the MSP-side check table (docs/provider.md), or one of the
 * extra endpoints ("tools", "health": row 0). */
typedef struct mspf_msp_check {
    const char *name;   /* what a fixture lists in provider.checks */
    int row;            /* 1..MSPF_MSP_CHECK_ROWS, 0 for an extra */
    const char *status; /* e.g. "401", "stored reply" */
    const char *code;   /* error.code, "" when none */
    const char *what;
} mspf_msp_check;

#define MSPF_MSP_CHECK_ROWS 13

/* The table, rows in order then the extras (static, *n entries). */
const mspf_msp_check *mspf_msp_checks(size_t *n);
const mspf_msp_check *mspf_msp_check_find(const char *name);

/* The "provider.steps" array of a provider-only fixture, or NULL. */
const cJSON *mspf_provider_steps(const mspf_fixture *f);

/* The value at a JSON path ("$", "$.a.b", "$.a[2]", "$.tools[name=x]":
 * the first array element whose member "name" is the string x) in doc, or
 * NULL when there is none or the path is malformed. Borrowed. */
const cJSON *mspf_json_path(const cJSON *doc, const char *path);

/* One real reply, as the provider check saw it. */
typedef struct mspf_reply {
    long status;
    const mspf_header *headers; /* names any case */
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
} mspf_reply;

/* The value {"same_as_step": N, "part": P} refers to, among replies[0..n-1]
 * (step N is replies[N-1]), as malloc'd text (*len bytes, NUL-terminated;
 * a JSON member that is not a string is its compact JSON). Returns 0, or
 * -1 with a reason in errbuf (step not run yet, part absent). */
int mspf_step_value(const cJSON *ref, const mspf_reply *replies, size_t n,
                    char **text, size_t *len, char *errbuf, size_t errlen);

/* Checks replies[n-1] against a step's "expect" (status, headers, body,
 * values; see docs/provider.md), earlier replies serving same_as_step.
 * Fields are named "<root>.status", "<root>.headers.Retry-After",
 * "<root>.body.error.code". Returns 1 when all hold, else 0 with the
 * differences appended (if diffs != NULL). */
int mspf_check_step(const cJSON *expect, const mspf_reply *replies, size_t n,
                    const char *root, mspf_diffs *diffs);

/* The "values" rules alone (JSON path -> matcher) against one body. */
int mspf_check_values(const cJSON *values, const mspf_reply *replies, size_t n,
                      const char *root, mspf_diffs *diffs);

/* A JSON document read with its exact text, for what cJSON alone loses:
 * strings keep the bytes after a \u0000, numbers their spelling (1.5,
 * 1e12). The fixture model reads fixtures this way; the harness reads an
 * external executor's --json line this way. */
typedef struct mspf_json mspf_json;

/* cJSON_ParseWithLengthOpts(text, len, end, 0) (end may be NULL), except
 * that a lone surrogate escape, which cJSON refuses, reads as U+FFFD: the
 * rule of the kit's one JSON string decoder (executor/msp_util.h). On
 * cJSON's refusal, a copy with those escapes written "\ufffd" is parsed
 * instead; *end is still a pointer into text. Free with cJSON_Delete. */
cJSON *mspf_cjson_parse(const char *text, size_t len, const char **end);

/* Parses text[0..len) (only whitespace may follow the value). Returns 0
 * and *out (free with mspf_json_free), or -1: not JSON, or ENOMEM. */
int mspf_json_parse(const char *text, size_t len, mspf_json **out);
/* The tree (owned by d). */
const cJSON *mspf_json_root(const mspf_json *d);
/* String node v's exact bytes (NUL-terminated, *len excludes the
 * terminator, NUL bytes kept); NULL when v is not a string. */
const char *mspf_json_string(const mspf_json *d, const cJSON *v, size_t *len);
/* Node v's text as written in the document (not NUL-terminated), or NULL. */
const char *mspf_json_value_text(const mspf_json *d, const cJSON *v,
                                 size_t *len);
void mspf_json_free(mspf_json *d);
/* s[0..len) as a JSON string literal, quotes included, every NUL byte as
 * \u0000. malloc'd (free()), NULL on ENOMEM. */
char *mspf_json_quote(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MSPF_FIXTURE_H */
