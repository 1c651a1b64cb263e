/*
 * rec_write.c — naming, staging and writing recorded fixtures (see
 * record.h): a name unique in the directory, the text checked before it is
 * queued (size, credential, the fixture model loads it), then written by
 * fm_rec_flush through a temporary file and a rename.
 */
#include "rec_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contracts/fixture.h"
#include "executor/msp_util.h"
#include "util.h"

void fm_recx_fresh_uuid(fm_recorder *rec, char out[37])
{
    uint64_t hi = fm_splitmix64(&rec->rng);
    msp_uuid4_from_bits(hi, fm_splitmix64(&rec->rng), out);
}

/* A name from tool and status, unique in the directory and this run: the
 * base, then base-2, base-3, ... (each base remembers its next suffix, so

 * naming stays O(1) however many fixtures share a base). */
int fm_recx_make_name(fm_recorder *rec, const char *tool, long status,
                      char *out, size_t outlen)
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

/* cJSON_Print indents with tabs and writes "name":<tab>value; fixtures
 * are written with two spaces. Every raw tab in its output is layout (a tab
 * in a string is printed as \t). Returns a new string (text is freed), or
 * NULL on ENOMEM. */
static char *indent_two(char *text)
{
    size_t n = strlen(text), i, k = 0, extra = 0;
    char *out;
    int line_start = 1;

    for (i = 0; i < n; i++) { /* each leading tab becomes two spaces */
        extra += text[i] == '\t' && line_start;
        line_start = text[i] == '\n' || (line_start && text[i] == '\t');
    }
    line_start = 1;
    out = malloc(n + extra + 1);

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

/* Builds the entry's fixture text and checks it; see rec_internal.h. */
/* The bytes the strings of a tree print as, at least. */
static size_t text_floor(const cJSON *n)
{
    size_t s = 0;

    for (; n; n = n->next) {
        s += (n->string ? strlen(n->string) : 0) +
             (cJSON_IsString(n) && n->valuestring ? strlen(n->valuestring) : 0);
        s += text_floor(n->child);
    }
    return s;
}

int fm_recx_stage_entry(fm_recorder *rec, entry *e, const fm_scrub *own_key,
                        fm_rec_pending **pending, char *why, size_t whylen)
{
    cJSON *doc;
    fm_rec_pending *w;
    mspf_fixture *f = NULL;
    mspf_error err;
    char *text;
    size_t len = text_floor(e->context) + text_floor(e->request) +
                 text_floor(e->responses) + text_floor(e->expects);

    (void)rec;
    if (len >= MSPF_FILE_MAX) { /* refused before it is printed */
        snprintf(why, whylen,
                 "the fixture would be over %zu bytes, over the %u that "
                 "lint accepts",
                 len, MSPF_FILE_MAX);
        return 1;
    }
    doc = fm_recx_build_doc(e);
    text = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (text)
        text = indent_two(text);
    if (!text) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    len = strlen(text);
    if (len + 1 > MSPF_FILE_MAX) { /* the file ends with a newline */
        free(text);
        snprintf(why, whylen,
                 "the fixture would be %zu bytes, over the %u that lint "
                 "accepts",
                 len + 1, MSPF_FILE_MAX);
        return 1;
    }
    /* a key such as "REDACTED" is inside every placeholder: not counted */
    if (fm_scrub_has_again(own_key, (const unsigned char *)text, len)) {
        free(text);
        snprintf(why, whylen, "a credential would be written: refused");
        return 1;
    }
    /* Never leave a fixture the model refuses. */
    memset(&err, 0, sizeof err);
    if (mspf_fixture_parse(text, len, e->name, &f, &err) != 0) {
        free(text);
        snprintf(why, whylen, "the fixture would not load: %s: %s", err.path,
                 err.reason);
        return 1;
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
