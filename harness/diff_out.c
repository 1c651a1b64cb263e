/*
 * diff_out.c — the three outputs of `msp-contract diff`: text grouped by
 * whom a change breaks (most severe first), JSON (schema
 * "msp-contract-diff/1", docs/diff.md) and JUnit XML.
 */
#include "diff.h"
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static const char *const group_title[] = {
    "breaks executors and MSPs",
    "breaks executors",
    "breaks MSPs",
    "breaks neither",
};

typedef struct tally {
    size_t executors, msps, neither, failing;
} tally;

static tally count(const hx_changes *c, unsigned fail_mask)
{
    tally t = {0};
    for (size_t i = 0; i < c->n; i++) {
        unsigned b = c->items[i].breaks;
        t.executors += (b & HX_BREAKS_EXECUTORS) != 0;
        t.msps += (b & HX_BREAKS_MSPS) != 0;
        t.neither += b == HX_BREAKS_NONE;
        t.failing += (b & fail_mask) != 0;
    }
    return t;
}

void hx_changes_print_text(FILE *out, const hx_side *o, const hx_side *n,
                           const hx_changes *c, unsigned fail_mask)
{
    fprintf(out, "msp-contract diff: %s -> %s\n", o->label, n->label);
    int group = -1;
    for (size_t i = 0; i < c->n; i++) {
        const hx_change *ch = &c->items[i];
        int g = hx_breaks_rank(ch->breaks);
        if (g != group) {
            size_t k = 0;
            for (size_t j = i;
                 j < c->n && hx_breaks_rank(c->items[j].breaks) == g; j++)
                k++;
            fprintf(out, "\n%s (%zu change%s):\n", group_title[g], k,
                    k == 1 ? "" : "s");
            group = g;
        }
        fprintf(out, "  %-8s %s", ch->kind, ch->fixture);
        if (ch->old_name)
            fprintf(out, " (was %s)", ch->old_name);
        fprintf(out, "  %s\n", ch->path);
        if (strcmp(ch->path, "$") != 0) {
            fprintf(out, "           old: %s\n",
                    ch->old_value ? ch->old_value : "(absent)");
            fprintf(out, "           new: %s\n",
                    ch->new_value ? ch->new_value : "(absent)");
        }
        fprintf(out, "           why: %s\n", ch->why);
    }
    tally t = count(c, fail_mask);
    fprintf(out,
            "\ndiff: %zu change%s in %zu fixture%s (%zu old, %zu new): %zu "
            "can break executors, %zu can break MSPs, %zu neither\n",
            c->n, c->n == 1 ? "" : "s", c->fixtures_changed,
            c->fixtures_changed == 1 ? "" : "s", o->n, n->n, t.executors,
            t.msps, t.neither);
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

void hx_changes_print_json(FILE *out, const hx_side *o, const hx_side *n,
                           const hx_changes *c, unsigned fail_mask,
                           const char *fail_on)
{
    tally t = count(c, fail_mask);
    cJSON *doc = cJSON_CreateObject();
    cJSON *sum = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddStringToObject(doc, "schema", "msp-contract-diff/1");
    cJSON_AddStringToObject(doc, "old", o->label);
    cJSON_AddStringToObject(doc, "new", n->label);
    cJSON_AddStringToObject(doc, "fail_on", fail_on);
    cJSON_AddStringToObject(doc, "result",
                            t.failing ? "breaking" : "compatible");
    cJSON_AddNumberToObject(sum, "old_fixtures", (double)o->n);
    cJSON_AddNumberToObject(sum, "new_fixtures", (double)n->n);
    cJSON_AddNumberToObject(sum, "fixtures_changed",
                            (double)c->fixtures_changed);
    cJSON_AddNumberToObject(sum, "changes", (double)c->n);
    cJSON_AddNumberToObject(sum, "break_executors", (double)t.executors);
    cJSON_AddNumberToObject(sum, "break_msps", (double)t.msps);
    cJSON_AddNumberToObject(sum, "break_neither", (double)t.neither);
    cJSON_AddItemToObject(doc, "summary", sum);
    for (size_t i = 0; i < c->n; i++) {
        const hx_change *ch = &c->items[i];
        cJSON *e = cJSON_CreateObject(), *who = cJSON_CreateArray();
        cJSON_AddStringToObject(e, "fixture", ch->fixture);
        cJSON_AddItemToObject(e, "old_fixture",
                              str_or_null(ch->old_name ? ch->old_name
                                          : strcmp(ch->kind, "added") == 0
                                              ? NULL
                                              : ch->fixture));
        cJSON_AddStringToObject(e, "kind", ch->kind);
        cJSON_AddStringToObject(e, "path", ch->path);
        cJSON_AddItemToObject(e, "old", str_or_null(ch->old_value));
        cJSON_AddItemToObject(e, "new", str_or_null(ch->new_value));
        if (ch->breaks & HX_BREAKS_EXECUTORS)
            cJSON_AddItemToArray(who, cJSON_CreateString("executors"));
        if (ch->breaks & HX_BREAKS_MSPS)
            cJSON_AddItemToArray(who, cJSON_CreateString("msps"));
        cJSON_AddItemToObject(e, "breaks", who);
        cJSON_AddStringToObject(e, "severity", hx_breaks_name(ch->breaks));
        cJSON_AddStringToObject(e, "why", ch->why);
        cJSON_AddItemToArray(arr, e);
    }
    cJSON_AddItemToObject(doc, "changes", arr);
    char *text = cJSON_Print(doc);
    if (text) {
        fputs(text, out);
        fputc('\n', out);
        cJSON_free(text);
    } else {
        fputs("{\"schema\": \"msp-contract-diff/1\", \"error\": \"out of "
              "memory\"}\n",
              out);
    }
    cJSON_Delete(doc);
}

int hx_changes_write_junit(const char *path, const hx_changes *c,
                           unsigned fail_mask)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
        return -1;
    }
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return -1;
    snprintf(tmp, len, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        errno = e;
        return -1;
    }
    tally t = count(c, fail_mask);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<testsuites><testsuite name=\"msp-contract diff\" tests=\"%zu\" "
            "failures=\"%zu\">\n",
            c->n, t.failing);
    for (size_t i = 0; i < c->n; i++) {
        const hx_change *ch = &c->items[i];
        fprintf(out, "  <testcase classname=\"diff.%s\" name=\"",
                hx_breaks_name(ch->breaks));
        hx_xml_put(out, ch->fixture);
        fputc(' ', out);
        hx_xml_put(out, ch->path);
        fputs("\">", out);
        if (ch->breaks & fail_mask) {
            fputs("<failure message=\"", out);
            hx_xml_put(out, ch->why);
            fputs("\">", out);
        } else {
            fputs("<system-out>", out);
        }
        hx_xml_printf(out, "%s: old %s, new %s (breaks %s)", ch->kind,
                      ch->old_value ? ch->old_value : "(absent)",
                      ch->new_value ? ch->new_value : "(absent)",
                      hx_breaks_name(ch->breaks));
        fputs(ch->breaks & fail_mask ? "</failure>" : "</system-out>", out);
        fputs("</testcase>\n", out);
    }
    fputs("</testsuite></testsuites>\n", out);
    int bad = ferror(out) || fflush(out) != 0 || fsync(fileno(out)) != 0;
    if (fclose(out) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}
