/*
 * record.c — proxied exchanges to contract fixtures (see record.h and
 * docs/record.md).
 *
 * A fixture is built from parts kept in memory (context, request matchers,
 * responses, expectations, role) and printed whole each time it is
 * written, so a retry extends it into a sequence and an ambiguity found
 * later can pin an earlier fixture's command id. Every write goes to a
 * temporary file in the directory and is renamed over the final name.
 */
#include "record.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/msp_executor.h"
#include "util.h"

#define EXECUTE_PATH "/api/v1/god-mode/execute"
#define MAX_ENTRIES  100000
#define MAX_KEYS     64
#define MAX_REPEAT   1000 /* the fixture model's limit on "repeat" */
#define MAX_REDACT   64
#define KEY_REDACTED "[REDACTED]"
#define VAL_REDACTED "REDACTED"
#define UUID_REGEX \
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

/* ---- credential roles: the one place that writes them ----------------- */

/* A fixture names the role of the key (the fixture model's roles,
 * mspf_roles()), never the key recorded: "executor": {"credential": ROLE}
 * (nothing for the default role) and an Authorization matcher with the
 * role's built-in key, which verify and fake-msp issue for it. */
const char *fm_rec_role(long status, const char *error_code)
{
    if (status == 401)
        return "invalid";
    if (status == 403)
        return error_code && strcmp(error_code, "TENANT_MISMATCH") == 0
                   ? "other_tenant"
                   : "read_only";
    return MSPF_ROLE_DEFAULT;
}

/* The Authorization matcher of a role. */
static cJSON *role_auth_matcher(const char *role)
{
    const mspf_role *r = mspf_role_find(role);
    char v[160];

    snprintf(v, sizeof v, "Bearer %s",
             r ? r->default_key
               : mspf_role_find(MSPF_ROLE_DEFAULT)->default_key);
    return cJSON_CreateString(v);
}

/* "executor": {"credential": ROLE}, nothing for the default role. */
static void role_to_fixture(cJSON *doc, const char *role)
{
    cJSON *ex;

    if (strcmp(role, MSPF_ROLE_DEFAULT) == 0)
        return;
    ex = cJSON_AddObjectToObject(doc, "executor");
    cJSON_AddStringToObject(ex, "credential", role);
}

/* ---- redaction paths -------------------------------------------------- */

typedef struct path_step {
    char *member; /* NULL: an array step */
    long index;   /* -1: every element */
} path_step;

typedef struct rpath {
    int response; /* 0: request body, 1: response body */
    path_step *steps;
    size_t n;
} rpath;

static void rpath_free(rpath *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        free(p->steps[i].member);
    free(p->steps);
}

static int rpath_parse(const char *text, rpath *out)
{
    const char *s = text;
    path_step *st;

    memset(out, 0, sizeof *out);
    if (strncmp(s, "$.", 2) == 0)
        s += 2;
    if (strncmp(s, "request.", 8) == 0)
        s += 8;
    else if (strncmp(s, "response.", 9) == 0) {
        s += 9;
        out->response = 1;
    } else
        return -1;
    while (*s) {
        st = realloc(out->steps, (out->n + 1) * sizeof *st);
        if (!st)
            return -1;
        out->steps = st;
        st = &out->steps[out->n];
        if (*s == '[') {
            char *end;
            st->member = NULL;
            if (s[1] == '*' && s[2] == ']') {
                st->index = -1;
                s += 3;
            } else {
                errno = 0;
                st->index = strtol(s + 1, &end, 10);
                if (errno || end == s + 1 || *end != ']' || st->index < 0)
                    return -1;
                s = end + 1;
            }
        } else {
            size_t n = strcspn(s, ".[");
            if (n == 0)
                return -1;
            st->member = strndup(s, n);
            if (!st->member)
                return -1;
            st->index = 0;
            s += n;
        }
        out->n++;
        if (*s == '.') {
            s++;
            if (!*s || *s == '.' || *s == '[')
                return -1;
        }
    }
    return out->n ? 0 : -1;
}

/* A placeholder of the same JSON type as v. */
static cJSON *placeholder(const cJSON *v)
{
    if (cJSON_IsString(v))
        return cJSON_CreateString(VAL_REDACTED);
    if (cJSON_IsNumber(v))
        return cJSON_CreateNumber(0);
    if (cJSON_IsBool(v))
        return cJSON_CreateFalse();
    if (cJSON_IsObject(v))
        return cJSON_CreateObject();
    if (cJSON_IsArray(v))
        return cJSON_CreateArray();
    return cJSON_CreateNull();
}

/* Replaces what the path reaches under node: with the placeholder (value
 * doc) and, when matcher is not NULL, with {"type": placeholder} in the
 * parallel matcher document. Returns how many values were redacted. */
static int redact_walk(cJSON *node, cJSON *matcher, const path_step *st,
                       size_t n)
{
    int count = 0, i, size;

    if (!node || n == 0)
        return 0;
    if (st->member) {
        cJSON *child, *mchild;
        if (!cJSON_IsObject(node))
            return 0;
        child = cJSON_GetObjectItemCaseSensitive(node, st->member);
        mchild = matcher ? cJSON_GetObjectItemCaseSensitive(matcher, st->member)
                         : NULL;
        if (!child)
            return 0;
        if (n > 1)
            return redact_walk(child, mchild, st + 1, n - 1);
        if (matcher) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddItemToObject(m, "type", placeholder(child));
            cJSON_ReplaceItemInObjectCaseSensitive(matcher, st->member, m);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(node, st->member,
                                               placeholder(child));
        return 1;
    }
    if (!cJSON_IsArray(node))
        return 0;
    size = cJSON_GetArraySize(node);
    for (i = 0; i < size; i++) {
        cJSON *child, *mchild;
        if (st->index >= 0 && i != st->index)
            continue;
        child = cJSON_GetArrayItem(node, i);
        mchild = matcher ? cJSON_GetArrayItem(matcher, i) : NULL;
        if (n > 1) {
            count += redact_walk(child, mchild, st + 1, n - 1);
            continue;
        }
        if (matcher) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddItemToObject(m, "type", placeholder(child));
            cJSON_ReplaceItemInArray(matcher, i, m);
        }
        cJSON_ReplaceItemInArray(node, i, placeholder(child));
        count++;
    }
    return count;
}

/* ---- the credential in every spelling --------------------------------- */

typedef struct spellings {
    char *s[7];
    size_t n;
} spellings;

static char *b64(const unsigned char *in, size_t len)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v =
            (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        *o++ = al[v >> 6 & 63];
        *o++ = al[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        *o++ = i + 1 < len ? al[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* style: 'u' \u0073 (lower hex), 'U' \u0073 with upper hex, 'P' %73
 * (upper hex), 'p' %73 (lower hex); all: every byte, else only the bytes
 * outside the URL's unreserved set. */
static char *escaped(const char *key, char style, int all)
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *hex = style == 'u' || style == 'p' ? lo : up;
    size_t n = strlen(key), i;
    char *out = malloc(n * 6 + 1), *o = out;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!all && unreserved(c)) {
            *o++ = (char)c;
            continue;
        }
        if (style == 'u' || style == 'U') {
            memcpy(o, "\\u00", 4);
            o += 4;
        } else {
            *o++ = '%';
        }
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    *o = '\0';
    return out;
}

static void spellings_make(const char *key, spellings *sp)
{
    char *cand[7];
    size_t i, k;

    cand[0] = strdup(key);
    cand[1] = b64((const unsigned char *)key, strlen(key));
    cand[2] = escaped(key, 'u', 1);
    cand[3] = escaped(key, 'U', 1);
    cand[4] = escaped(key, 'P', 1);
    cand[5] = escaped(key, 'p', 1);
    cand[6] = escaped(key, 'P', 0);
    sp->n = 0;
    for (i = 0; i < 7; i++) {
        int dup = !cand[i] || !cand[i][0];
        for (k = 0; k < sp->n && !dup; k++)
            dup = strcmp(sp->s[k], cand[i]) == 0;
        if (dup)
            free(cand[i]);
        else
            sp->s[sp->n++] = cand[i];
    }
}

static void spellings_free(spellings *sp)
{
    size_t i;

    for (i = 0; i < sp->n; i++)
        free(sp->s[i]);
    sp->n = 0;
}

static const unsigned char *find_bytes(const unsigned char *h, size_t hn,
                                       const char *needle)
{
    size_t nn = strlen(needle);
    const unsigned char *p = h, *end = h + hn;

    if (nn == 0 || nn > hn)
        return NULL;
    /* memchr jumps to each candidate first byte (memmem is not POSIX) */
    while (
        (size_t)(end - p) >= nn &&
        (p = memchr(p, (unsigned char)needle[0], (size_t)(end - p - nn) + 1))) {
        if (memcmp(p, needle, nn) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* Replaces every spelling of every key in buf; returns a malloc'd copy
 * (NUL-terminated, *out_len bytes), or NULL on ENOMEM. */
static unsigned char *scrub_bytes(const unsigned char *buf, size_t len,
                                  const spellings *sp, size_t nsp,
                                  size_t *out_len)
{
    unsigned char *cur = malloc(len + 1);
    size_t curlen = len, k, j;

    if (!cur)
        return NULL;
    memcpy(cur, buf, len);
    cur[len] = '\0';
    for (k = 0; k < nsp; k++)
        for (j = 0; j < sp[k].n; j++) {
            const unsigned char *hit;
            while ((hit = find_bytes(cur, curlen, sp[k].s[j])) != NULL) {
                size_t at = (size_t)(hit - cur), nn = strlen(sp[k].s[j]);
                size_t rn = sizeof KEY_REDACTED - 1;
                unsigned char *nb = malloc(curlen - nn + rn + 1);
                if (!nb) {
                    free(cur);
                    return NULL;
                }
                memcpy(nb, cur, at);
                memcpy(nb + at, KEY_REDACTED, rn);
                memcpy(nb + at + rn, cur + at + nn, curlen - at - nn);
                curlen = curlen - nn + rn;
                nb[curlen] = '\0';
                free(cur);
                cur = nb;
            }
        }
    *out_len = curlen;
    return cur;
}

static int has_spelling(const unsigned char *buf, size_t len,
                        const spellings *sp, size_t nsp)
{
    size_t k, j;

    for (k = 0; k < nsp; k++)
        for (j = 0; j < sp[k].n; j++)
            if (find_bytes(buf, len, sp[k].s[j]))
                return 1;
    return 0;
}

/* Scrubs every string (member names included) in the tree. */
static int scrub_tree(cJSON *node, const spellings *sp, size_t nsp)
{
    cJSON *c;
    size_t n;

    if (!node)
        return 0;
    if (node->string && has_spelling((const unsigned char *)node->string,
                                     strlen(node->string), sp, nsp)) {
        unsigned char *s = scrub_bytes((const unsigned char *)node->string,
                                       strlen(node->string), sp, nsp, &n);
        if (!s)
            return -1;
        cJSON_free(node->string);
        node->string = (char *)s; /* both are malloc'd (default hooks) */
    }
    if (cJSON_IsString(node) && node->valuestring &&
        has_spelling((const unsigned char *)node->valuestring,
                     strlen(node->valuestring), sp, nsp)) {
        unsigned char *s = scrub_bytes((const unsigned char *)node->valuestring,
                                       strlen(node->valuestring), sp, nsp, &n);
        if (!s)
            return -1;
        cJSON_SetValuestring(node, (char *)s);
        free(s);
    }
    for (c = node->child; c; c = c->next)
        if (scrub_tree(c, sp, nsp) != 0)
            return -1;
    return 0;
}

/* ---- the recorder ----------------------------------------------------- */

typedef struct entry {
    char *name;
    char *command_id; /* as sent */
    unsigned char *body;
    size_t body_len; /* the request body as sent (retry detection) */
    char *role;
    char *ambig; /* tool + params + correlation id + role */
    int literal_id;
    int reused_id; /* the command id was another fixture's: fresh context */
    cJSON *context, *request, *responses, *expects;
    int exit_row;
    long first_status;
    char *tool;
    struct wstate *ws; /* versions built and written (stable pointer) */
} entry;

/* An entry's versions: built under the recorder's lock, written under its
 * io lock; a write older than the last one written is skipped. */
typedef struct wstate {
    unsigned long built, written;
} wstate;

/* A fixture text waiting to be written (fm_rec_flush). */
struct fm_rec_pending {
    struct fm_rec_pending *next;
    wstate *ws;
    unsigned long version;
    char *name;
    char *text;
    size_t len;
};

/* The next free suffix of a base name ("list-devices-200"). */
typedef struct name_seq {
    char *base;
    int next;
} name_seq;

struct fm_recorder {
    pthread_mutex_t lock;
    pthread_mutex_t io; /* file writes (fm_rec_flush) */
    name_seq *names;
    size_t n_names;
    char *dir;
    rpath redact[MAX_REDACT];
    size_t n_redact;
    entry *e;
    size_t n, cap;
    spellings keys[MAX_KEYS];
    size_t n_keys;
    unsigned long long rng;
    unsigned long tmp_seq;
};

fm_recorder *fm_rec_new(const char *dir, const char *const *redact,
                        size_t n_redact, char *errbuf, size_t errlen)
{
    fm_recorder *rec;
    struct stat st;
    size_t i;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(dir, W_OK | X_OK) != 0) {
        snprintf(errbuf, errlen, "--record %s: not a writable directory", dir);
        return NULL;
    }
    if (n_redact > MAX_REDACT) {
        snprintf(errbuf, errlen, "at most %d --redact paths", MAX_REDACT);
        return NULL;
    }
    rec = calloc(1, sizeof *rec);
    if (!rec || !(rec->dir = strdup(dir))) {
        free(rec);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < n_redact; i++) {
        if (rpath_parse(redact[i], &rec->redact[i]) != 0) {
            rpath_free(&rec->redact[i]);
            rec->n_redact = i;
            fm_rec_free(rec);
            snprintf(errbuf, errlen,
                     "--redact \"%.200s\": want request.PATH or "
                     "response.PATH (members by '.', elements by [N] or [*])",
                     redact[i]);
            return NULL;
        }
        rec->n_redact = i + 1;
    }
    rec->rng = (unsigned long long)fm_wall_ms() * 0x9E3779B97F4A7C15ULL ^
               (unsigned long long)getpid();
    pthread_mutex_init(&rec->lock, NULL);
    pthread_mutex_init(&rec->io, NULL);
    return rec;
}

static void entry_free(entry *e)
{
    free(e->name);
    free(e->command_id);
    free(e->body);
    free(e->role);
    free(e->ambig);
    free(e->tool);
    cJSON_Delete(e->context);
    cJSON_Delete(e->request);
    cJSON_Delete(e->responses);
    cJSON_Delete(e->expects);
    free(e->ws);
}

void fm_rec_free(fm_recorder *rec)
{
    size_t i;

    if (!rec)
        return;
    for (i = 0; i < rec->n; i++)
        entry_free(&rec->e[i]);
    free(rec->e);
    for (i = 0; i < rec->n_names; i++)
        free(rec->names[i].base);
    free(rec->names);
    for (i = 0; i < rec->n_keys; i++)
        spellings_free(&rec->keys[i]);
    for (i = 0; i < rec->n_redact; i++)
        rpath_free(&rec->redact[i]);
    free(rec->dir);
    pthread_mutex_destroy(&rec->lock);
    pthread_mutex_destroy(&rec->io);
    free(rec);
}

static const char *header(const fm_exchange *x, int response, const char *name)
{
    const mspf_header *h = response ? x->resp_headers : x->req_headers;
    size_t n = response ? x->n_resp_headers : x->n_req_headers, i;

    for (i = 0; i < n; i++)
        if (fm_strieq(h[i].name, name))
            return h[i].value;
    return NULL;
}

/* Response headers worth pinning: not hop-by-hop, not per-message. */
static int skip_resp_header(const char *name)
{
    static const char *const skip[] = {"Connection",
                                       "Keep-Alive",
                                       "Transfer-Encoding",
                                       "Content-Length",
                                       "Date",
                                       "Upgrade",
                                       "Trailer",
                                       "TE",
                                       "Proxy-Authenticate",
                                       NULL};
    size_t i;

    for (i = 0; skip[i]; i++)
        if (fm_strieq(name, skip[i]))
            return 1;
    return 0;
}

static void remember_key(fm_recorder *rec, const char *key)
{
    size_t i;

    for (i = 0; i < rec->n_keys; i++)
        if (strcmp(rec->keys[i].s[0], key) == 0)
            return;
    if (rec->n_keys == MAX_KEYS) { /* keep the newest: drop the oldest */
        spellings_free(&rec->keys[0]);
        memmove(&rec->keys[0], &rec->keys[1],
                (MAX_KEYS - 1) * sizeof rec->keys[0]);
        rec->n_keys--;
    }
    spellings_make(key, &rec->keys[rec->n_keys]);
    if (rec->keys[rec->n_keys].n > 0)
        rec->n_keys++;
}

static int is_lower_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t i;

    if (strlen(s) != sizeof shape - 1)
        return 0;
    for (i = 0; shape[i]; i++) {
        char c = s[i];
        if (shape[i] == '-'
                ? c != '-'
                : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

static void fresh_uuid(fm_recorder *rec, char out[37])
{
    unsigned long long a = fm_splitmix64(&rec->rng),
                       b = fm_splitmix64(&rec->rng);
    snprintf(out, 37, "%08llx-%04llx-4%03llx-%04llx-%012llx", a >> 32,
             (a >> 16) & 0xffff, a & 0xfff, ((b >> 48) & 0x3fff) | 0x8000,
             b & 0xffffffffffffULL);
}

/* A name from tool and status, unique in the directory and this run: the
 * base, then base-2, base-3, ... (each base remembers its next suffix, so
 * naming stays O(1) however many fixtures share a base). */
static int make_name(fm_recorder *rec, const char *tool, long status, char *out,
                     size_t outlen)
{
    char slug[80] = "", base[120], path[4200];
    size_t i, k = 0;
    name_seq *ns = NULL;

    if (strncmp(tool, "msp.", 4) == 0)
        tool += 4;
    for (i = 0; tool[i] && k < sizeof slug - 1; i++) {
        char c = tool[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '-';
        if (c == '-' && (k == 0 || slug[k - 1] == '-'))
            continue;
        slug[k++] = c;
    }
    while (k > 0 && slug[k - 1] == '-')
        k--;
    slug[k] = '\0';
    snprintf(base, sizeof base, "%s%s%ld", slug, k ? "-" : "", status);
    for (i = 0; i < rec->n_names && !ns; i++)
        if (strcmp(rec->names[i].base, base) == 0)
            ns = &rec->names[i];
    if (!ns) {
        name_seq *nn = realloc(rec->names, (rec->n_names + 1) * sizeof *nn);
        if (!nn)
            return -1;
        rec->names = nn;
        ns = &nn[rec->n_names];
        ns->base = strdup(base);
        ns->next = 1;
        if (!ns->base)
            return -1;
        rec->n_names++;
    }
    for (;; ns->next++) {
        if (ns->next == 1)
            snprintf(out, outlen, "%s", base);
        else
            snprintf(out, outlen, "%s-%d", base, ns->next);
        snprintf(path, sizeof path, "%s/%s.json", rec->dir, out);
        if (access(path, F_OK) != 0) /* not left by an earlier run */
            break;
    }
    ns->next++;
    return 0;
}

/* The fixture document of an entry. */
static cJSON *build_doc(const entry *e)
{
    cJSON *doc = cJSON_CreateObject(), *tags, *provider, *match;
    int n = cJSON_GetArraySize(e->responses);
    char desc[700], row[16];

    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "name", e->name);
    snprintf(desc, sizeof desc,
             "Recorded through fake-msp --proxy: %.200s answered %ld%s "
             "(credential role %s)%s",
             e->tool, e->first_status,
             n > 1 ? ", then replayed the stored reply" : "", e->role,
             e->reused_id ? "; the command id was already another "
                            "fixture's, so the context carries a fresh one"
                          : "");
    cJSON_AddStringToObject(doc, "description", desc);
    tags = cJSON_AddArrayToObject(doc, "tags");
    snprintf(row, sizeof row, "row%d", e->exit_row);
    cJSON_AddItemToArray(tags, cJSON_CreateString("recorded"));
    cJSON_AddItemToArray(tags, cJSON_CreateString(row));
    if (n > 1)
        cJSON_AddItemToArray(tags, cJSON_CreateString("idempotency"));
    cJSON_AddNumberToObject(doc, "exit_row", e->exit_row);
    provider = cJSON_CreateObject();
    role_to_fixture(doc, e->role);
    cJSON_AddItemToObject(doc, "context", cJSON_Duplicate(e->context, 1));
    if (n > 1)
        cJSON_AddNumberToObject(doc, "repeat", n);
    cJSON_AddItemToObject(doc, "request", cJSON_Duplicate(e->request, 1));
    {
        cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "request"), "headers");
        cJSON *m;
        if (e->literal_id) {
            m = cJSON_CreateString(cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(e->context, "command_id")));
        } else {
            m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "regex", UUID_REGEX);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(hdrs, "X-Brainstorm-Command-Id",
                                               m);
    }
    if (n == 1) {
        cJSON_AddItemToObject(
            doc, "response",
            cJSON_Duplicate(cJSON_GetArrayItem(e->responses, 0), 1));
        cJSON_AddItemToObject(
            doc, "expect",
            cJSON_Duplicate(cJSON_GetArrayItem(e->expects, 0), 1));
    } else {
        cJSON_AddItemToObject(doc, "responses",
                              cJSON_Duplicate(e->responses, 1));
        cJSON_AddItemToObject(doc, "expects", cJSON_Duplicate(e->expects, 1));
    }
    /* A provider can replay it unless the context's id is not the one the
     * MSP saw (a reused id: the MSP's answer depended on that history). */
    cJSON_AddBoolToObject(provider, "verify", !e->reused_id);
    match = cJSON_AddObjectToObject(provider, "match");
    cJSON_AddStringToObject(match, "status", "exact");
    cJSON_AddStringToObject(match, "body", "type");
    /* "verify" first, as people write it */
    {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(provider, "verify");
        cJSON_InsertItemInArray(provider, 0, v);
    }
    cJSON_AddItemToObject(doc, "provider", provider);
    return doc;
}

/* cJSON_Print indents with tabs and writes "name":<tab>value; fixtures
 * are written with two spaces. Every raw tab in its output is layout (a tab
 * in a string is printed as \t). Returns a new string (text is freed), or
 * NULL on ENOMEM. */
static char *indent_two(char *text)
{
    size_t n = strlen(text), i, k = 0;
    char *out = malloc(n * 2 + 1);
    int line_start = 1;

    if (!out) {
        free(text);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\t' && line_start) {
            out[k++] = ' ';
            out[k++] = ' ';
            continue;
        }
        line_start = c == '\n';
        out[k++] = c == '\t' ? ' ' : c;
    }
    out[k] = '\0';
    free(text);
    return out;
}

/* Writes the entry's fixture atomically. */
/* Builds the entry's fixture text, checks it (no credential, and the
 * fixture model loads it) and queues it on *pending for fm_rec_flush. */
static int stage_entry(fm_recorder *rec, const entry *e,
                       fm_rec_pending **pending, char *why, size_t whylen)
{
    cJSON *doc = build_doc(e);
    fm_rec_pending *w;
    mspf_fixture *f = NULL;
    mspf_error err;
    char *text;
    size_t len;

    if (!doc || scrub_tree(doc, rec->keys, rec->n_keys) != 0) {
        cJSON_Delete(doc);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text)
        text = indent_two(text);
    if (!text) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    len = strlen(text);
    if (has_spelling((const unsigned char *)text, len, rec->keys,
                     rec->n_keys)) {
        free(text);
        snprintf(why, whylen, "a credential would be written: refused");
        return -1;
    }
    /* Never leave a fixture the model refuses. */
    memset(&err, 0, sizeof err);
    if (mspf_fixture_parse(text, len, e->name, &f, &err) != 0) {
        free(text);
        snprintf(why, whylen, "the fixture would not load: %s: %s", err.path,
                 err.reason);
        return -1;
    }
    mspf_fixture_free(f);
    w = calloc(1, sizeof *w);
    if (!w || !(w->name = strdup(e->name))) {
        free(w);
        free(text);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    w->ws = e->ws;
    w->version = ++e->ws->built;
    w->text = text;
    w->len = len;
    w->next = *pending;
    *pending = w;
    return 0;
}

/* Writes one text atomically: a temporary file in the directory, then a
 * rename over the final name. Caller holds rec->io. */
static int write_text(fm_recorder *rec, const fm_rec_pending *w, char *why,
                      size_t whylen)
{
    char tmp[4300], path[4300];
    FILE *fp;
    int ok;

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld.%lu", rec->dir, w->name,
             (long)getpid(), ++rec->tmp_seq);
    snprintf(path, sizeof path, "%s/%s.json", rec->dir, w->name);
    fp = fopen(tmp, "wx");
    if (!fp) {
        snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    ok = fwrite(w->text, 1, w->len, fp) == w->len && fputc('\n', fp) != EOF;
    if (fclose(fp) != 0 || !ok || rename(tmp, path) != 0) {
        snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int fm_rec_flush(fm_recorder *rec, fm_rec_pending *pending, char *why,
                 size_t whylen)
{
    fm_rec_pending *w, *next, *rev = NULL;
    int rc = 0;

    why[0] = '\0';
    for (w = pending; w; w = next) { /* oldest first */
        next = w->next;
        w->next = rev;
        rev = w;
    }
    pthread_mutex_lock(&rec->io);
    for (w = rev; w; w = next) {
        next = w->next;
        if (w->version > w->ws->written) {
            if (write_text(rec, w, why, whylen) == 0)
                w->ws->written = w->version;
            else
                rc = -1;
        }
        free(w->name);
        free(w->text);
        free(w);
    }
    pthread_mutex_unlock(&rec->io);
    return rc;
}

/* The response part and the expectation of one reply. */
static int reply_parts(fm_recorder *rec, const fm_exchange *x, cJSON **resp_out,
                       cJSON **expect_out, int *row)
{
    cJSON *resp = cJSON_CreateObject(), *hdrs = NULL, *body = NULL, *expect;
    unsigned char *raw;
    char *replay = NULL;
    size_t rawlen = 0, replay_len = 0, i, r;
    msp_result res;
    const char *end = NULL;

    raw = scrub_bytes(x->resp_body ? x->resp_body : (const unsigned char *)"",
                      x->resp_body_len, rec->keys, rec->n_keys, &rawlen);
    if (!resp || !raw)
        goto nomem;
    cJSON_AddNumberToObject(resp, "status", (double)x->status);
    for (i = 0; i < x->n_resp_headers; i++) {
        const mspf_header *h = &x->resp_headers[i];
        if (skip_resp_header(h->name))
            continue;
        if (!hdrs)
            hdrs = cJSON_AddObjectToObject(resp, "headers");
        if (!cJSON_GetObjectItem(hdrs, h->name))
            cJSON_AddStringToObject(hdrs, h->name, h->value);
    }
    if (rawlen > 0)
        body = cJSON_ParseWithLengthOpts((const char *)raw, rawlen, &end, 0);
    if (body) {
        while (end && end < (const char *)raw + rawlen &&
               (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end != (const char *)raw + rawlen) {
            cJSON_Delete(body);
            body = NULL;
        }
    }
    if (body) {
        for (r = 0; r < rec->n_redact; r++)
            if (rec->redact[r].response)
                redact_walk(body, NULL, rec->redact[r].steps, rec->redact[r].n);
        if (scrub_tree(body, rec->keys, rec->n_keys) != 0)
            goto nomem;
        replay = cJSON_PrintUnformatted(body); /* what the fake will send */
        if (!replay)
            goto nomem;
        replay_len = strlen(replay);
        cJSON_AddItemToObject(resp, "body", body);
        body = NULL;
    } else if (rawlen > 0 && fm_utf8_valid(raw, rawlen)) {
        cJSON_AddStringToObject(resp, "body_text", (const char *)raw);
    } else if (rawlen > 0) {
        char *enc = b64(raw, rawlen);
        if (!enc)
            goto nomem;
        cJSON_AddStringToObject(resp, "body_base64", enc);
        free(enc);
    }
    if (msp_map_response(x->status, replay ? replay : (const char *)raw,
                         replay ? replay_len : rawlen, &res) != 0)
        goto nomem;
    expect = cJSON_CreateObject();
    cJSON_AddNumberToObject(expect, "exit_code", res.exit_code);
    if (memchr(res.out, '\0', res.out_len)) {
        cJSON *m = cJSON_AddObjectToObject(expect, "stdout");
        cJSON_AddStringToObject(m, "type", "");
    } else {
        cJSON_AddStringToObject(expect, "stdout", res.out);
    }
    if (memchr(res.err, '\0', res.err_len)) {
        cJSON *m = cJSON_AddObjectToObject(expect, "stderr");
        cJSON_AddStringToObject(m, "type", "");
    } else {
        cJSON_AddStringToObject(expect, "stderr", res.err);
    }
    *row = res.row;
    msp_result_free(&res);
    free(replay);
    free(raw);
    *resp_out = resp;
    *expect_out = expect;
    return 0;
nomem:
    cJSON_Delete(body);
    cJSON_Delete(resp);
    free(replay);
    free(raw);
    return -1;
}

/* error.code of a JSON reply, in a small buffer. */
static void error_code(const fm_exchange *x, char *out, size_t outlen)
{
    cJSON *doc = x->resp_body_len
                     ? cJSON_ParseWithLength((const char *)x->resp_body,
                                             x->resp_body_len)
                     : NULL;
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "error"), "code"));

    snprintf(out, outlen, "%s", code ? code : "");
    cJSON_Delete(doc);
}

static int record_locked(fm_recorder *rec, const fm_exchange *x, char *name,
                         size_t namelen, fm_rec_pending **pending, char *why,
                         size_t whylen)
{
    const char *auth = header(x, 0, "Authorization");
    const char *cid = header(x, 0, "X-Brainstorm-Command-Id");
    const char *ikey = header(x, 0, "Idempotency-Key");
    const char *corr = header(x, 0, "X-Correlation-Id");
    const char *tool, *role;
    cJSON *reqdoc = NULL, *matchbody = NULL, *params, *resp = NULL,
          *expect = NULL, *hdrs;
    char code[64], *params_text = NULL, *ambig = NULL;
    size_t i, r, alen;
    entry *e, *ne;
    int row = 0, rc = -1;

    if (strcmp(x->method, "POST") != 0 || strcmp(x->path, EXECUTE_PATH) != 0) {
        snprintf(why, whylen, "not an execute request");
        return 1;
    }
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        snprintf(why, whylen,
                 "no bearer credential (the executor always "
                 "sends one)");
        return 1;
    }
    if (!cid || !ikey || strcmp(cid, ikey) != 0 || !*cid) {
        snprintf(why, whylen,
                 "X-Brainstorm-Command-Id and Idempotency-Key "
                 "missing or different (the executor sends "
                 "both, equal)");
        return 1;
    }
    remember_key(rec, auth + 7);
    reqdoc = cJSON_ParseWithLength((const char *)x->req_body, x->req_body_len);
    tool =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reqdoc, "tool"));
    params = cJSON_GetObjectItemCaseSensitive(reqdoc, "params");
    if (!tool || !*tool || !cJSON_IsObject(params)) {
        cJSON_Delete(reqdoc);
        snprintf(why, whylen, "the body is not {\"tool\", \"params\", ...}");
        return 1;
    }
    if (x->status < 100 || x->status > 599) {
        cJSON_Delete(reqdoc);
        snprintf(why, whylen, "status %ld out of range", x->status);
        return 1;
    }
    error_code(x, code, sizeof code);
    role = fm_rec_role(x->status, code);
    if (reply_parts(rec, x, &resp, &expect, &row) != 0)
        goto nomem;

    /* A retry: the same command id, request and role. */
    for (i = 0; i < rec->n; i++) {
        e = &rec->e[i];
        if (strcmp(e->command_id, cid) == 0 && !e->reused_id &&
            e->body_len == x->req_body_len &&
            memcmp(e->body, x->req_body, x->req_body_len) == 0 &&
            strcmp(e->role, role) == 0) {
            if (cJSON_GetArraySize(e->responses) >= MAX_REPEAT) {
                snprintf(why, whylen, "%s already holds %d responses", e->name,
                         MAX_REPEAT);
                rc = 1;
                goto out;
            }
            cJSON_AddItemToArray(e->responses, resp);
            cJSON_AddItemToArray(e->expects, expect);
            resp = expect = NULL;
            snprintf(name, namelen, "%s", e->name);
            rc = stage_entry(rec, e, pending, why, whylen);
            goto out;
        }
    }
    if (rec->n == MAX_ENTRIES) {
        snprintf(why, whylen, "%d fixtures recorded: the limit", MAX_ENTRIES);
        rc = 1;
        goto out;
    }
    if (rec->n == rec->cap) {
        size_t ncap = rec->cap ? rec->cap * 2 : 64;
        ne = realloc(rec->e, ncap * sizeof *ne);
        if (!ne)
            goto nomem;
        rec->e = ne;
        rec->cap = ncap;
    }
    e = &rec->e[rec->n];
    memset(e, 0, sizeof *e);
    e->command_id = strdup(cid);
    e->body = malloc(x->req_body_len + 1);
    e->role = strdup(role);
    e->tool = strdup(tool);
    e->responses = cJSON_CreateArray();
    e->expects = cJSON_CreateArray();
    e->ws = calloc(1, sizeof *e->ws);
    if (!e->command_id || !e->body || !e->role || !e->tool || !e->responses ||
        !e->expects || !e->ws) {
        entry_free(e);
        goto nomem;
    }
    tool = e->tool; /* a --redact of request.tool frees the parsed one */
    memcpy(e->body, x->req_body, x->req_body_len);
    e->body_len = x->req_body_len;
    e->first_status = x->status;
    e->exit_row = row;
    cJSON_AddItemToArray(e->responses, resp);
    cJSON_AddItemToArray(e->expects, expect);
    resp = expect = NULL;
    for (i = 0; i < rec->n; i++)
        e->reused_id |= strcmp(rec->e[i].command_id, cid) == 0;

    /* Redaction: placeholders in the values, {"type"} in the matchers. */
    matchbody = cJSON_Duplicate(reqdoc, 1);
    for (r = 0; r < rec->n_redact && matchbody; r++)
        if (!rec->redact[r].response)
            redact_walk(reqdoc, matchbody, rec->redact[r].steps,
                        rec->redact[r].n);
    params = cJSON_GetObjectItemCaseSensitive(reqdoc, "params");
    e->context = cJSON_CreateObject();
    if (e->reused_id) {
        char id[37];
        do {
            fresh_uuid(rec, id);
            for (i = 0; i < rec->n && strcmp(rec->e[i].command_id, id) != 0;
                 i++)
                ;
        } while (i < rec->n);
        cJSON_AddStringToObject(e->context, "command_id", id);
    } else {
        cJSON_AddStringToObject(e->context, "command_id", cid);
    }
    cJSON_AddStringToObject(e->context, "tool", tool);
    cJSON_AddItemToObject(e->context, "params", cJSON_Duplicate(params, 1));
    cJSON_AddNumberToObject(e->context, "deadline_ms", 30000);
    if (corr)
        cJSON_AddStringToObject(e->context, "correlation_id", corr);

    e->request = cJSON_CreateObject();
    cJSON_AddStringToObject(e->request, "method", "POST");
    cJSON_AddStringToObject(e->request, "path", EXECUTE_PATH);
    hdrs = cJSON_AddObjectToObject(e->request, "headers");
    cJSON_AddItemToObject(hdrs, "Authorization", role_auth_matcher(role));
    cJSON_AddStringToObject(hdrs, "X-Brainstorm-Command-Id",
                            ""); /* build_doc */
    {
        cJSON *same = cJSON_AddObjectToObject(hdrs, "Idempotency-Key");
        cJSON *ct = cJSON_AddObjectToObject(hdrs, "Content-Type");
        cJSON_AddStringToObject(same, "same_as", "X-Brainstorm-Command-Id");
        cJSON_AddStringToObject(ct, "regex", "^application/json");
    }
    if (corr) {
        cJSON_AddStringToObject(hdrs, "X-Correlation-Id", corr);
    } else {
        cJSON *ab = cJSON_AddObjectToObject(hdrs, "X-Correlation-Id");
        cJSON_AddBoolToObject(ab, "absent", 1);
    }
    cJSON_AddItemToObject(e->request, "body", matchbody);
    matchbody = NULL;
    if (!e->context || !e->request) {
        entry_free(e);
        goto nomem;
    }

    /* Two fixtures whose matchers differ only by the command id pin it. */
    params_text = cJSON_PrintUnformatted(params);
    alen = strlen(tool) + (params_text ? strlen(params_text) : 0) +
           (corr ? strlen(corr) : 0) + strlen(role) + 8;
    ambig = malloc(alen);
    if (!params_text || !ambig) {
        entry_free(e);
        goto nomem;
    }
    snprintf(ambig, alen, "%s\n%s\n%s\n%s", tool, params_text, corr ? corr : "",
             role);
    e->ambig = ambig;
    ambig = NULL;
    /* a reused id: the context has a fresh one, matched as any UUID */
    e->literal_id = !e->reused_id && !is_lower_uuid(cid);
    e->name = make_name(rec, tool, x->status, name, namelen) == 0 ? strdup(name)
                                                                  : NULL;
    if (!e->name) {
        entry_free(e);
        goto nomem;
    }
    rec->n++;
    rc = 0;
    for (i = 0; i + 1 < rec->n; i++) {
        entry *o = &rec->e[i];
        if (strcmp(o->ambig, e->ambig) != 0)
            continue;
        e->literal_id = 1;
        if (!o->literal_id) {
            o->literal_id = 1;
            if (stage_entry(rec, o, pending, why, whylen) != 0)
                rc = -1;
        }
    }
    if (rc == 0)
        rc = stage_entry(rec, e, pending, why, whylen);
    goto out;
nomem:
    snprintf(why, whylen, "out of memory");
    rc = -1;
out:
    free(params_text);
    free(ambig);
    cJSON_Delete(matchbody);
    cJSON_Delete(resp);
    cJSON_Delete(expect);
    cJSON_Delete(reqdoc);
    return rc;
}

int fm_rec_exchange(fm_recorder *rec, const fm_exchange *x, char *name,
                    size_t namelen, fm_rec_pending **pending, char *why,
                    size_t whylen)
{
    int rc;

    name[0] = why[0] = '\0';
    *pending = NULL;
    pthread_mutex_lock(&rec->lock);
    rc = record_locked(rec, x, name, namelen, pending, why, whylen);
    pthread_mutex_unlock(&rec->lock);
    return rc;
}
