/*
 * dashboard.c — GET /__admin/: the fake's state as an HTML page for a
 * person, behind the admin API's own gate (server.c: Host, Origin, token).
 *
 * The page shows the server's options, the provider states in effect, the
 * loaded fixtures with their hit counts, the requests no fixture matched
 * with the closest fixture and the difference (fm_fx_closest, the same
 * text --strict answers with), and the journal newest first, a page at a
 * time (?page=N&limit=N, plain links). Every byte of data goes through the
 * one HTML escaper (msp_html_escape); Authorization-like header values are
 * masked and every key the server knows is redacted from bodies. A small
 * inline script under a CSP nonce refreshes the live part in place, on a
 * button or every 2 s, by fetching this same page (same gate); the page
 * reads the same with scripts off.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <executor/msp_util.h>

#include "fixtures.h"
#include "journal.h"
#include "ratelimit.h"
#include "strict.h"

#define PAGE_MAX       (64u * 1024u * 1024u)
#define LIMIT_DEFAULT  25
#define LIMIT_MAX      100
#define UNMATCHED_MAX  5
#define BODY_SHOWN_MAX 4096u
#define PREVIEW_BYTES  120u

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.2em;color:#1b1f24}"
    "h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 "
    ".4em}table{border-collapse:collapse;margin:.3em 0}"
    "th,td{border:1px solid #d0d7de;padding:3px 6px;vertical-align:top;"
    "text-align:left}th{background:#f6f8fa}td.num{text-align:right}"
    ".summary{background:#f2f4f7;padding:.5em .8em;border-radius:6px;"
    "display:inline-block}.muted{color:#57606a}.desc{color:#57606a;"
    "font-size:.9em}pre{white-space:pre-wrap;word-break:break-all;margin:"
    ".2em 0;background:#f6f8fa;padding:4px 6px;border-radius:4px}"
    ".cc{background:#fff1b8;color:#6f4e00;border:1px solid #d4a72c;"
    "border-radius:3px;padding:0 1px;font-size:.9em}"
    ".miss{color:#cf222e;font-weight:600}.hit{color:#116329}"
    ".zero{color:#8c959f}#bar{margin:.5em 0}";

static const char script[] =
    "(function(){var bar=document.getElementById('bar');bar.hidden=false;"
    "var st=document.getElementById('status'),auto=document.getElementById("
    "'auto'),busy=false;function refresh(){if(busy)return;busy=true;"
    "fetch(location.origin+location.pathname+location.search,"
    "{cache:'no-store',credentials:'same-origin'})"
    ".then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);"
    "return r.text();}).then(function(t){var d=new DOMParser()"
    ".parseFromString(t,'text/html'),n=d.getElementById('live');"
    "if(n)document.getElementById('live').replaceWith(document.importNode("
    "n,true));st.textContent='updated '+new Date().toLocaleTimeString();})"
    ".catch(function(e){st.textContent='refresh failed: '+e.message;})"
    ".finally(function(){busy=false;});}"
    "document.getElementById('refresh').addEventListener('click',refresh);"
    "if(location.hash==='#auto')auto.checked=true;"
    "setInterval(function(){if(auto.checked)refresh();},2000);})();";

static int buf_write(void *user, const void *bytes, size_t n)
{
    msp_buf *b = user;
    msp_buf_append(b, bytes, n);
    return b->failed ? -1 : 0;
}

/* Redacts every key the server knows (its tokens, the admin token) from
 * text[0..len), in any JSON spelling. */
static void redact(const fake_msp *fm, char *text, size_t len)
{
    for (size_t i = 0; i < fm->realm.n_tokens; i++)
        if (fm->realm.tokens[i].token)
            msp_redact_secret(text, len, fm->realm.tokens[i].token,
                              strlen(fm->realm.tokens[i].token));
    if (fm->admin_token)
        msp_redact_secret(text, len, fm->admin_token, strlen(fm->admin_token));
}

/* Data, escaped; `mark`: control bytes in styled spans. The bytes are
 * redacted on a copy first. */
static void put(const fake_msp *fm, msp_buf *b, const char *s, size_t n,
                int mark)
{
    if (!s)
        return;
    char *copy = malloc(n + 1);
    if (!copy) {
        b->failed = ENOMEM;
        return;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    redact(fm, copy, n);
    msp_html_escape(copy, n, mark ? MSP_HTML_MARK : 0, buf_write, b);
    free(copy);
}

static void puts_(const fake_msp *fm, msp_buf *b, const char *s)
{
    if (s)
        put(fm, b, s, strlen(s), 0);
}

/* Header values that hold a credential are shown masked. */
static int secret_header(const char *name)
{
    static const char *const words[] = {"authorization", "key",    "token",
                                        "secret",        "cookie", "password"};
    char low[128];
    size_t i;
    for (i = 0; i < sizeof low - 1 && name[i]; i++)
        low[i] =
            (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[i] = '\0';
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

static void put_header_value(const fake_msp *fm, msp_buf *b, const char *name,
                             const char *value)
{
    char masked[MSP_MASK_BUF_SIZE];
    if (!secret_header(name)) {
        put(fm, b, value, strlen(value), 1);
        return;
    }
    const char *v = value;
    if (strncasecmp(v, "Bearer ", 7) == 0 || strncasecmp(v, "Basic ", 6) == 0) {
        size_t k = v[1] == 'e' || v[1] == 'E' ? 7 : 6;
        put(fm, b, v, k, 0);
        v += k;
    }
    msp_mask_secret(v, masked, sizeof masked);
    puts_(fm, b, masked);
}

static unsigned long query_number(struct MHD_Connection *c, const char *name,
                                  unsigned long dflt, unsigned long max)
{
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char *end;
    if (!s || !*s || *s == '-')
        return dflt;
    unsigned long v = strtoul(s, &end, 10);
    if (*end)
        return dflt;
    return v > max ? max : v;
}

static void put_options(fake_msp *fm, msp_buf *b)
{
    msp_buf_append_str(b, "<h2>Options</h2>\n<table id=\"options\"><tbody>");
    msp_buf_append_str(b, "<tr><th>URL</th><td>");
    puts_(fm, b, fm->url);
    msp_buf_append_str(b, "</td></tr><tr><th>bound to</th><td>");
    puts_(fm, b, fm->host);
    msp_buf_printf(b,
                   " port %u%s</td></tr><tr><th>seed</th><td id=\"seed\">%llu"
                   "</td></tr><tr><th>strict</th><td>%s</td></tr><tr><th>TLS"
                   "</th><td>%s</td></tr><tr><th>mode</th><td>%s</td></tr>"
                   "<tr><th>max body</th><td>%zu bytes</td></tr><tr><th>max "
                   "headers</th><td>%zu</td></tr><tr><th>admin token</th><td>%s"
                   "</td></tr><tr><th>tenant</th><td>",
                   fm->port, fm->loopback ? " (loopback)" : "", fm->seed,
                   fm->strict ? "yes: a request no fixture matches is 500 "
                                "NO_MATCHING_FIXTURE"
                              : "no",
                   fm->tls ? "yes" : "no",
                   fm->proxy ? "recording proxy" : "fixtures", fm->max_body,
                   fm->max_headers,
                   fm->admin_token ? "set (required)" : "none");
    puts_(fm, b, fm->realm.tenant);
    msp_buf_printf(b,
                   "</td></tr><tr><th>keys</th><td>%zu (never shown)</td>"
                   "</tr></tbody></table>\n",
                   fm->realm.n_tokens);
}

static void put_states(fake_msp *fm, msp_buf *b)
{
    long limit = fm_ratelimit_get(fm->rl);
    int down = atomic_load(&fm->unavailable);
    msp_buf_append_str(
        b, "<h2>Provider states in effect</h2>\n<table id=\"states\">"
           "<tbody><tr><th>the MSP is unavailable</th><td>");
    msp_buf_append_str(
        b, down ? "<b class=\"miss\">set up</b>: execute answers 503"
                : "not set up");
    msp_buf_append_str(
        b, "</td></tr><tr><th>the tenant's rate limit is low</th><td>");
    if (limit != fm->rate_limit_default)
        msp_buf_printf(b,
                       "<b class=\"miss\">set up</b>: %ld per minute "
                       "(default ",
                       limit);
    else
        msp_buf_append_str(b, "not set up (");
    if (fm->rate_limit_default > 0)
        msp_buf_printf(b, "%ld per minute)", fm->rate_limit_default);
    else
        msp_buf_append_str(b, "unlimited)");
    msp_buf_append_str(
        b, "</td></tr></tbody></table>\n<p class=\"muted\">The other "
           "states name data the fake always has. GET "
           "/__admin/provider-states lists them all.</p>\n");
}

static void put_fixtures(fake_msp *fm, msp_buf *b, size_t *count)
{
    msp_buf j;
    msp_buf_init(&j, FM_REPLY_MAX);
    fm_fx_to_json(fm->fx, &j);
    cJSON *doc = j.data ? cJSON_ParseWithLength(j.data, j.len) : NULL;
    free(j.data);
    const cJSON *list = cJSON_GetObjectItem(doc, "fixtures"), *f;
    *count = (size_t)cJSON_GetArraySize(list);
    msp_buf_printf(b,
                   "<h2>Fixtures (<span id=\"fixture-count\">%zu</span>)</h2>\n"
                   "<table id=\"fixtures\"><thead><tr><th>fixture</th><th>hits"
                   "</th><th>exit row</th><th>replies</th></tr></thead><tbody>",
                   *count);
    cJSON_ArrayForEach(f, list)
    {
        double served = cJSON_GetNumberValue(cJSON_GetObjectItem(f, "served"));
        const cJSON *x;
        msp_buf_append_str(b, "<tr><td><span class=\"name\">");
        puts_(fm, b, cJSON_GetStringValue(cJSON_GetObjectItem(f, "name")));
        msp_buf_append_str(b, "</span>");
        const char *d =
            cJSON_GetStringValue(cJSON_GetObjectItem(f, "description"));
        if (d && *d) {
            msp_buf_append_str(b, "<div class=\"desc\">");
            puts_(fm, b, d);
            msp_buf_append_str(b, "</div>");
        }
        msp_buf_printf(
            b,
            "</td><td class=\"num %s\">%.0f</td><td "
            "class=\"num\">%.0f</td><td>",
            served > 0 ? "hit" : "zero", served,
            cJSON_GetNumberValue(cJSON_GetObjectItem(f, "exit_row")));
        int k = 0;
        const cJSON *faults = cJSON_GetObjectItem(f, "faults");
        cJSON_ArrayForEach(x, cJSON_GetObjectItem(f, "statuses"))
        {
            const char *fault =
                cJSON_GetStringValue(cJSON_GetArrayItem(faults, k++));
            msp_buf_printf(b, "%s%.0f", k > 1 ? ", " : "",
                           cJSON_GetNumberValue(x));
            if (fault && strcmp(fault, "none") != 0) {
                msp_buf_append_str(b, " (");
                puts_(fm, b, fault);
                msp_buf_append_str(b, ")");
            }
        }
        msp_buf_append_str(b, "</td></tr>\n");
    }
    msp_buf_append_str(b, "</tbody></table>\n");
    cJSON_Delete(doc);
}

static void put_time(msp_buf *b, long long ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char t[32] = "";
    if (gmtime_r(&s, &tm))
        (void)strftime(t, sizeof t, "%H:%M:%S", &tm);
    msp_buf_printf(b, "%s.%03lld", t, ms % 1000);
}

static int is_probe(const fake_msp_entry *e)
{
    return strcmp(e->path, MSP_PATH_HEALTH) == 0 ||
           strcmp(e->path, MSP_PATH_TOOLS) == 0;
}

static mspf_request as_request(const fake_msp_entry *e)
{
    mspf_request r = {.method = e->method,
                      .path = e->path,
                      .headers = e->headers,
                      .n_headers = e->n_headers,
                      .body = e->body,
                      .body_len = e->body_len};
    return r;
}

static void put_body(fake_msp *fm, msp_buf *b, const fake_msp_entry *e)
{
    size_t shown = e->body_len < BODY_SHOWN_MAX ? e->body_len : BODY_SHOWN_MAX;
    size_t pre = shown < PREVIEW_BYTES ? shown : PREVIEW_BYTES;
    if (e->body_len == 0) {
        msp_buf_append_str(b, "<span class=\"muted\">(no body)</span>");
        return;
    }
    msp_buf_printf(b, "<details><summary><code>");
    put(fm, b, (const char *)e->body, pre, 1);
    msp_buf_printf(b,
                   "%s</code> <span class=\"muted\">%zu bytes</span>"
                   "</summary><pre>",
                   pre < e->body_len ? "…" : "", e->body_len);
    put(fm, b, (const char *)e->body, shown, 1);
    if (shown < e->body_len)
        msp_buf_printf(b, "<span class=\"muted\">… %zu more bytes</span>",
                       e->body_len - shown);
    msp_buf_append_str(b, "</pre></details>");
}

static void put_entry(fake_msp *fm, msp_buf *b, const fake_msp_entry *e)
{
    msp_buf_printf(b,
                   "<tr class=\"req\" id=\"req-%llu\"><td class=\"num\">%llu"
                   "</td><td>",
                   e->seq, e->seq);
    put_time(b, e->time_ms);
    msp_buf_append_str(b, "</td><td>");
    puts_(fm, b, e->method);
    msp_buf_append_str(b, " ");
    put(fm, b, e->path, strlen(e->path), 1);
    if (e->status)
        msp_buf_printf(b, "</td><td class=\"num\">%d</td><td>", e->status);
    else
        msp_buf_append_str(b, "</td><td>fault</td><td>");
    if (e->fixture)
        puts_(fm, b, e->fixture);
    else
        msp_buf_append_str(b, "<span class=\"miss\">no fixture</span>");
    for (size_t k = 0; k < e->n_violations; k++) {
        msp_buf_append_str(b, "<div class=\"miss\">");
        put(fm, b, e->violations[k], strlen(e->violations[k]), 1);
        msp_buf_append_str(b, "</div>");
    }
    msp_buf_printf(b, "</td><td><details><summary>%zu headers</summary><table>",
                   e->n_headers);
    for (size_t k = 0; k < e->n_headers; k++) {
        const char *name = e->headers[k].name ? e->headers[k].name : "";
        msp_buf_append_str(b, "<tr><th>");
        put(fm, b, name, strlen(name), 1);
        msp_buf_append_str(b, "</th><td>");
        put_header_value(fm, b, name,
                         e->headers[k].value ? e->headers[k].value : "");
        msp_buf_append_str(b, "</td></tr>");
    }
    msp_buf_append_str(b, "</table></details></td><td>");
    put_body(fm, b, e);
    msp_buf_append_str(b, "</td></tr>\n");
}

static void put_unmatched(fake_msp *fm, msp_buf *b, const fake_msp_entry *e,
                          size_t n)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += !e[i].fixture && !is_probe(&e[i]);
    msp_buf_printf(b,
                   "<h2>Requests no fixture matched (<span "
                   "id=\"unmatched-count\">%zu</span>)</h2>\n",
                   total);
    if (!total) {
        msp_buf_append_str(b, "<p class=\"muted\">None.</p>\n");
        return;
    }
    msp_buf_append_str(b, "<table id=\"unmatched\"><thead><tr><th>#</th><th>"
                          "request</th><th>closest fixture and the first "
                          "difference</th></tr></thead><tbody>\n");
    for (size_t i = n; i-- > 0 && shown < UNMATCHED_MAX;) {
        if (e[i].fixture || is_probe(&e[i]))
            continue;
        char msg[1200];
        mspf_request r = as_request(&e[i]);
        fm_fx_closest(fm->fx, &r, msg, sizeof msg);
        msp_buf_printf(b,
                       "<tr><td class=\"num\"><a href=\"#req-%llu\">%llu</a>"
                       "</td><td>",
                       e[i].seq, e[i].seq);
        puts_(fm, b, e[i].method);
        msp_buf_append_str(b, " ");
        put(fm, b, e[i].path, strlen(e[i].path), 1);
        msp_buf_append_str(b, "</td><td><pre>");
        put(fm, b, msg, strlen(msg), 1);
        msp_buf_append_str(b, "</pre></td></tr>\n");
        shown++;
    }
    msp_buf_append_str(b, "</tbody></table>\n");
    if (shown < total)
        msp_buf_printf(b,
                       "<p class=\"muted\">the newest %zu shown; every request "
                       "is in the journal below</p>\n",
                       shown);
}

static void put_journal(fake_msp *fm, msp_buf *b, const fake_msp_entry *e,
                        size_t n, unsigned long page, unsigned long limit)
{
    size_t pages = n ? (n + limit - 1) / limit : 1;
    if (page >= pages)
        page = pages - 1;
    size_t first = page * limit; /* from the newest */
    msp_buf_printf(b,
                   "<h2>Journal, newest first (<span id=\"journal-count\">%zu"
                   "</span> requests, %llu dropped)</h2>\n",
                   n, fake_msp_journal_dropped(fm));
    msp_buf_printf(b, "<p id=\"pager\">page %lu of %zu", page + 1, pages);
    if (page > 0)
        msp_buf_printf(b,
                       " &middot; <a href=\"?page=%lu&amp;limit=%lu\">newer"
                       "</a>",
                       page - 1, limit);
    if (page + 1 < pages)
        msp_buf_printf(b,
                       " &middot; <a href=\"?page=%lu&amp;limit=%lu\">older"
                       "</a>",
                       page + 1, limit);
    msp_buf_append_str(b,
                       "</p>\n<table id=\"journal\"><thead><tr><th>#</th><th>"
                       "time (UTC)</th><th>request</th><th>status</th><th>"
                       "fixture</th><th>headers</th><th>body</th></tr></thead>"
                       "<tbody>\n");
    for (size_t k = first; k < n && k < first + limit; k++)
        put_entry(fm, b, &e[n - 1 - k]);
    msp_buf_append_str(b, "</tbody></table>\n");
}

enum MHD_Result fm_dashboard(fake_msp *fm, struct MHD_Connection *c)
{
    unsigned long page = query_number(c, "page", 0, 1000000);
    unsigned long limit = query_number(c, "limit", LIMIT_DEFAULT, LIMIT_MAX);
    fake_msp_entry *e = NULL;
    size_t n = 0, nfix = 0;
    char nonce[33];
    unsigned char rnd[16] = {0};
    msp_buf b;

    if (limit == 0)
        limit = LIMIT_DEFAULT;
    if (fake_msp_journal_find(fm, NULL, &e, &n) != 0)
        return fm_queue_error(c, 500, "INTERNAL", "out of memory");
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0x5a, sizeof rnd); /* defence in depth only */
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    msp_buf_init(&b, PAGE_MAX);
    msp_buf_append_str(&b,
                       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                       "charset=\"utf-8\"><title>fake-msp dashboard</title>"
                       "<meta name=\"viewport\" content=\"width=device-width\">"
                       "<style>");
    msp_buf_append_str(&b, css);
    msp_buf_append_str(&b,
                       "</style></head>\n<body>\n<h1>fake-msp dashboard</h1>\n"
                       "<div id=\"bar\" hidden><button id=\"refresh\" "
                       "type=\"button\">Refresh</button> <label><input "
                       "id=\"auto\" type=\"checkbox\"> every 2 s</label> <span "
                       "id=\"status\" class=\"muted\"></span></div>\n"
                       "<div id=\"live\">\n");
    msp_buf_append_str(&b, "<div class=\"summary\" id=\"summary\">");
    puts_(fm, &b, fm->url);
    size_t unmatched = 0;
    for (size_t i = 0; i < n; i++)
        unmatched += !e[i].fixture && !is_probe(&e[i]);
    msp_buf_printf(&b,
                   " &middot; seed %llu &middot; %zu fixtures &middot; %zu "
                   "requests &middot; %zu matched no fixture</div>\n",
                   fm->seed, fm_fx_count(fm->fx), n, unmatched);
    put_unmatched(fm, &b, e, n);
    put_journal(fm, &b, e, n, page, limit);
    put_fixtures(fm, &b, &nfix);
    put_states(fm, &b);
    put_options(fm, &b);
    msp_buf_append_str(
        &b, "</div>\n<p class=\"muted\">JSON: GET /__admin/requests, "
            "/__admin/fixtures, /__admin/provider-states.</p>\n");
    msp_buf_printf(&b, "<script nonce=\"%s\">%s</script>\n</body></html>\n",
                   nonce, script);
    fake_msp_entries_free(e, n);

    size_t len = 0;
    char *body = b.failed ? NULL : msp_buf_take(&b, &len);
    if (!body) {
        free(b.data);
        return fm_queue_error(
            c, 500, "INTERNAL",
            "the dashboard page is over its size cap (64 MiB): "
            "ask for fewer entries, ?limit=N");
    }
    struct MHD_Response *m =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!m) {
        free(body);
        return MHD_NO;
    }
    char csp[300];
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'unsafe-inline'; script-src "
             "'nonce-%s'; connect-src 'self'; img-src data:; base-uri "
             "'none'; form-action 'none'; frame-ancestors 'none'",
             nonce);
    MHD_add_response_header(m, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(m, "Content-Security-Policy", csp);
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "Cache-Control", "no-store");
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    enum MHD_Result ok = MHD_queue_response(c, 200, m);
    MHD_destroy_response(m);
    return ok;
}

int fm_dashboard_basic_ok(const char *method, const char *auth,
                          const char *token)
{
    char plain[1024];
    const char *colon, *b64;
    ssize_t n;
    int ok = 0;

    if (!auth || strcmp(method, "GET") != 0 ||
        strncasecmp(auth, "Basic ", 6) != 0)
        return 0;
    /* padded or not: some clients drop the '=' */
    b64 = auth + 6;
    n = msp_base64_decode(b64, strlen(b64), MSP_B64_ANYPAD, plain,
                          sizeof plain - 1);
    if (n < 0)
        return 0;
    plain[n] = '\0';
    colon = memchr(plain, ':', (size_t)n);
    if (colon && strlen(plain) == (size_t)n)
        ok = fm_secret_eq(colon + 1, token);
    memset(plain, 0, sizeof plain);
    return ok;
}

enum MHD_Result fm_dashboard_ask_token(struct MHD_Connection *c)
{
    size_t len;
    char *body = fm_error_body(
        "UNAUTHORIZED",
        "admin API: Authorization: Bearer <admin token> required (a "
        "browser: any user name, the admin token as the password)",
        NULL, NULL, &len);
    struct MHD_Response *m =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : NULL;
    if (!m) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(m, "Content-Type", "application/json");
    MHD_add_response_header(
        m, "WWW-Authenticate",
        "Basic realm=\"fake-msp admin\", charset=\"UTF-8\"");
    enum MHD_Result ok = MHD_queue_response(c, 401, m);
    MHD_destroy_response(m);
    return ok;
}
