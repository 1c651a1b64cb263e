/*
 * html.c — the HTML page writer of the --html reports (html.h).
 */
#include "html.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <executor/msp_util.h>

/* Values longer than this are folded into <details>; around the first
 * difference, this much context stays in view. */
#define FOLD_AT      120
#define DIFF_CONTEXT 48

#define MAX_SECRETS  32
static const char *secrets[MAX_SECRETS];
static size_t n_secrets;

void hx_html_secret(const char *key)
{
    if (key && *key && n_secrets < MAX_SECRETS)
        secrets[n_secrets++] = key;
}

/* A page is built in memory and written whole by msp_write_file(). */
struct hx_page {
    FILE *f;
    char *mem;
    size_t mem_len;
    char *path;
    char nonce[33];
};

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.2em;color:#1b1f24;"
    "background:#fff}"
    "h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}"
    ".summary{font-size:1.05em;padding:.5em .8em;border-radius:6px;"
    "background:#f2f4f7;display:inline-block}"
    ".summary b{margin-right:.2em}"
    "table{border-collapse:collapse;margin:.4em 0}"
    "th,td{border:1px solid #d0d7de;padding:3px 6px;vertical-align:top;"
    "text-align:left}"
    "th{background:#f6f8fa;font-weight:600}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".pass{color:#116329;font-weight:600}.fail{color:#cf222e;font-weight:600}"
    ".skip{color:#7d4e00;font-weight:600}"
    "tr.failed>td:first-child{border-left:4px solid #cf222e}"
    ".grid td{text-align:center;min-width:3.2em}"
    ".grid td.ok{background:#dafbe1}.grid td.bad{background:#ffcecb}"
    ".grid td.pin{background:#ddf4ff}.grid td.none{background:#fff}"
    ".grid td.name,.grid th.name{text-align:left}"
    "th.rot{writing-mode:vertical-rl;transform:rotate(180deg);"
    "white-space:nowrap}"
    "pre{white-space:pre-wrap;word-break:break-all;margin:.2em 0;"
    "background:#f6f8fa;padding:4px 6px;border-radius:4px}"
    ".cc{background:#fff1b8;color:#6f4e00;border:1px solid #d4a72c;"
    "border-radius:3px;padding:0 1px;font-size:.9em}"
    "mark{background:#ff8182;color:#000}"
    ".diff{margin:.3em 0 .6em}.field{font-family:monospace;font-weight:600}"
    ".muted{color:#57606a}.desc{color:#57606a;font-size:.9em}"
    ".tag{display:inline-block;background:#eaeef2;border-radius:10px;"
    "padding:0 6px;margin:1px;font-size:.85em}"
    ".missing{color:#cf222e;font-weight:600}"
    "#filter{margin:.6em 0}"
    "@media print{#filter{display:none}}";

/* Filtering only: the rows of every .filterable table whose text holds
 * the query (and, with the box ticked, that failed). */
static const char script[] =
    "(function(){var q=document.getElementById('q'),"
    "f=document.getElementById('onlyfail');if(!q)return;"
    "function run(){var s=q.value.toLowerCase();"
    "document.querySelectorAll('table.filterable>tbody>tr').forEach("
    "function(tr){var hide=(s&&tr.textContent.toLowerCase().indexOf(s)<0)||"
    "(f&&f.checked&&!tr.classList.contains('failed'));"
    "tr.hidden=hide;});}"
    "q.addEventListener('input',run);if(f)f.addEventListener('change',run);"
    "document.getElementById('filter').hidden=false;})();";

static int file_write(void *user, const void *bytes, size_t n)
{
    return fwrite(bytes, 1, n, (FILE *)user) == n ? 0 : -1;
}

/* A copy of s[0..n) with every "Bearer <token>" token masked (a token of
 * letters only, under 16, is a word of prose and stays)
 * (msp_mask_secret): the reports never hold a key. malloc'd, NULL on
 * ENOMEM; *outlen gets its length. */
static char *mask_bearer(const char *s, size_t n, size_t *outlen)
{
    size_t cap = n + 1, len = 0;
    char *out = malloc(cap);
    size_t i = 0;
    if (!out)
        return NULL;
    while (i < n) {
        if (n - i > 7 && strncasecmp(s + i, "bearer ", 7) == 0) {
            size_t t = i + 7, end;
            while (t < n && s[t] == ' ')
                t++;
            for (end = t; end < n && !strchr(" \t\r\n\"',;\\<>&", s[end]) &&
                          s[end] != '\0';
                 end++)
                ;
            /* a key, not prose ("a bearer token"): a byte that is not a
             * letter, or long */
            int keyish = end - t >= 16;
            for (size_t k = t; k < end && !keyish; k++)
                keyish = !((s[k] >= 'a' && s[k] <= 'z') ||
                           (s[k] >= 'A' && s[k] <= 'Z'));
            if (end > t && keyish) {
                char masked[MSP_MASK_BUF_SIZE];
                char *secret = strndup(s + t, end - t);
                msp_mask_secret(secret, masked, sizeof masked);
                free(secret);
                size_t ml = strlen(masked), need = len + (t - i) + ml + n;
                if (need + 1 > cap) {
                    char *nb = realloc(out, need + 1);
                    if (!nb) {
                        free(out);
                        return NULL;
                    }
                    out = nb;
                    cap = need + 1;
                }
                memcpy(out + len, s + i, t - i);
                len += t - i;
                memcpy(out + len, masked, ml);
                len += ml;
                i = end;
                continue;
            }
        }
        out[len++] = s[i++];
    }
    out[len] = '\0';
    *outlen = len;
    for (size_t k = 0; k < n_secrets; k++)
        msp_redact_secret(out, len, secrets[k], strlen(secrets[k]));
    return out;
}

static void put_escaped(hx_page *p, const char *s, size_t n, unsigned flags)
{
    size_t len = 0;
    char *m = mask_bearer(s, n, &len);
    if (m)
        msp_html_escape(m, len, flags, file_write, p->f);
    free(m);
}

hx_page *hx_page_open(const char *path, const char *title, char *err,
                      size_t errlen)
{
    hx_page *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path)) ||
        !(p->f = open_memstream(&p->mem, &p->mem_len))) {
        snprintf(err, errlen, "%s: out of memory", path);
        if (p)
            free(p->path);
        free(p);
        return NULL;
    }
    unsigned char rnd[16] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0x5a, sizeof rnd); /* the nonce is defence in depth */
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(p->nonce + 2 * i, 3, "%02x", rnd[i]);
    hx_page_rawf(p,
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                 "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-"
                 "Policy\" content=\"default-src 'none'; style-src "
                 "'unsafe-inline'; script-src 'nonce-%s'; img-src data:; "
                 "base-uri 'none'; form-action 'none'\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width\">\n"
                 "<title>",
                 p->nonce);
    hx_page_text(p, title);
    hx_page_raw(p, "</title>\n<style>");
    hx_page_raw(p, css);
    hx_page_raw(p, "</style></head>\n<body>\n<h1>");
    hx_page_text(p, title);
    hx_page_raw(p, "</h1>\n");
    return p;
}

void hx_page_raw(hx_page *p, const char *markup)
{
    fputs(markup, p->f);
}

void hx_page_rawf(hx_page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
}

void hx_page_text(hx_page *p, const char *s)
{
    if (s)
        put_escaped(p, s, strlen(s), 0);
}

void hx_page_bytes(hx_page *p, const char *s, size_t n)
{
    if (s)
        put_escaped(p, s, n, MSP_HTML_MARK);
}

long hx_first_difference(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0;
    while (i < alen && i < blen && a[i] == b[i])
        i++;
    return i == alen && i == blen ? -1 : (long)i;
}

/* The start of the UTF-8 character holding byte off. */
static size_t char_start(const char *s, size_t off)
{
    while (off > 0 && ((unsigned char)s[off] & 0xc0) == 0x80)
        off--;
    return off;
}

/* The length of the character at s[off] (1 for a stray byte). */
static size_t char_len(const char *s, size_t len, size_t off)
{
    size_t k = off + 1;
    while (k < len && k - off < 4 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k++;
    return k - off;
}

/* s[0..n) of a difference, which is JSON text: the escapes of NUL and
 * control bytes (\u0000..\u001f, \u007f) shown in styled spans too, NUL
 * as ␀. An escaped backslash before "u" is not an escape. */
static void put_json_text(hx_page *p, const char *s, size_t n)
{
    size_t from = 0, slashes = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            slashes = 0;
            continue;
        }
        slashes++;
        if (slashes % 2 == 0 || n - i < 6 || strncmp(s + i, "\\u00", 4) != 0)
            continue;
        char hex[3] = {s[i + 4], s[i + 5], '\0'};
        char *end;
        unsigned long v = strtoul(hex, &end, 16);
        if (*end || !(v < 0x20 || v == 0x7f) || !strchr("01234567", hex[0]))
            continue;
        hx_page_bytes(p, s + from, i - from);
        hx_page_raw(p, "<span class=\"cc\">");
        if (v == 0)
            hx_page_raw(p, "\xe2\x90\x80");
        else
            hx_page_bytes(p, s + i, 6);
        hx_page_raw(p, "</span>");
        i += 5;
        from = i + 1;
        slashes = 0;
    }
    hx_page_bytes(p, s + from, n - from);
}

/* s[from..to) with the character at `at` (when in range) marked. */
static void put_marked(hx_page *p, const char *s, size_t len, size_t from,
                       size_t to, long at)
{
    if (at < 0 || (size_t)at < from || (size_t)at > to) {
        put_json_text(p, s + from, to - from);
        return;
    }
    size_t m = char_start(s, (size_t)at);
    if (m < from)
        m = from;
    put_json_text(p, s + from, m - from);
    hx_page_raw(p, "<mark>");
    if (m < len)
        put_json_text(p, s + m, char_len(s, len, m));
    else
        hx_page_raw(p, "<span class=\"cc\">(end)</span>");
    hx_page_raw(p, "</mark>");
    size_t after = m < len ? m + char_len(s, len, m) : len;
    if (after < to)
        put_json_text(p, s + after, to - after);
}

static void put_value(hx_page *p, const char *label, const char *s, size_t len,
                      long at)
{
    hx_page_rawf(p, "<div><span class=\"muted\">%s</span> ", label);
    if (len <= FOLD_AT) {
        hx_page_raw(p, "<pre>");
        put_marked(p, s, len, 0, len, at);
        hx_page_raw(p, "</pre></div>\n");
        return;
    }
    /* long: the neighbourhood of the difference in view, all of it folded */
    size_t c = at >= 0 ? (size_t)at : 0;
    size_t from = c > DIFF_CONTEXT ? char_start(s, c - DIFF_CONTEXT) : 0;
    size_t to = c + DIFF_CONTEXT < len ? char_start(s, c + DIFF_CONTEXT) : len;
    if (to < from)
        to = from;
    hx_page_raw(p, "<pre>");
    if (from)
        hx_page_raw(p, "<span class=\"muted\">…</span>");
    put_marked(p, s, len, from, to, at);
    if (to < len)
        hx_page_raw(p, "<span class=\"muted\">…</span>");
    hx_page_rawf(p, "</pre><details><summary>all %zu bytes</summary><pre>",
                 len);
    put_marked(p, s, len, 0, len, at);
    hx_page_raw(p, "</pre></details></div>\n");
}

void hx_page_diff(hx_page *p, const char *field, const char *expected,
                  const char *got, long whole_at, long from)
{
    size_t elen = 0, glen = 0;
    char *e = mask_bearer(expected ? expected : "",
                          expected ? strlen(expected) : 0, &elen);
    char *g = mask_bearer(got ? got : "", got ? strlen(got) : 0, &glen);
    if (!e || !g) {
        free(e);
        free(g);
        return;
    }
    long at = hx_first_difference(e, elen, g, glen);
    hx_page_raw(p, "<div class=\"diff\"><span class=\"field\">");
    hx_page_text(p, field);
    hx_page_raw(p, "</span>");
    /* the values shown may be a window that starts past a long common
     * head: the offset said is the one in the whole values */
    long said = from > 0 && whole_at >= 0 ? whole_at : at;
    if (at >= 0)
        hx_page_rawf(p,
                     " <span class=\"muted\">first difference at byte "
                     "%ld</span>",
                     said);
    hx_page_raw(p, "\n");
    put_value(p, "expected", e, elen, at);
    put_value(p, "got", g, glen, at);
    hx_page_raw(p, "</div>\n");
    free(e);
    free(g);
}

int hx_page_close(hx_page *p, char *err, size_t errlen)
{
    int rc = 0;
    hx_page_rawf(p, "\n<script nonce=\"%s\">%s</script>\n</body></html>\n",
                 p->nonce, script);
    if (fclose(p->f) != 0 || !p->mem) {
        snprintf(err, errlen, "%s: out of memory", p->path);
        rc = -1;
    } else if (msp_write_file(p->path, p->mem, p->mem_len, 0644,
                              MSP_WRITE_REPLACE) != 0) {
        snprintf(err, errlen, "%s: %s", p->path, msp_file_strerror(errno));
        rc = -1;
    }
    free(p->mem);
    free(p->path);
    free(p);
    return rc;
}
