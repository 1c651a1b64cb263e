/*
 * report.c — what msp-contract prints: one line per fixture with its diffs
 * (field, expected, got — never a truncated blob), and JUnit XML.
 */
#include "harness.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <executor/msp_util.h>

void hx_case_free(hx_case *c)
{
    if (!c)
        return;
    free(c->note);
    mspf_diffs_free(&c->diffs);
    c->note = NULL;
}

void hx_diff(mspf_diffs *d, const char *field, const char *expected,
             const char *fmt, ...)
{
    char got[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(got, sizeof got, fmt, ap);
    va_end(ap);
    mspf_diffs_add(d, field, expected, got);
}

int hx_selected(const hx_options *o, const mspf_fixture *f)
{
    return !o->filter || fnmatch(o->filter, f->name, 0) == 0;
}

mspf_set *hx_load(const hx_options *o)
{
    mspf_set *set = mspf_set_new();
    mspf_error err;
    if (!set) {
        fprintf(stderr, "msp-contract: out of memory\n");
        return NULL;
    }
    for (size_t i = 0; i < o->n_contract_dirs; i++) {
        if (mspf_set_load_dir(set, o->contract_dirs[i], &err) < 0) {
            char buf[1400];
            fprintf(stderr, "msp-contract: %s\n",
                    mspf_error_format(&err, buf, sizeof buf));
            mspf_set_free(set);
            return NULL;
        }
    }
    return set;
}

/* Prints s with control bytes escaped, so a diff never garbles a terminal
 * and a CR/LF in a value stays visible. */
static void put_visible(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

void hx_print_case(FILE *out, const hx_case *c)
{
    const char *verdict = c->skipped ? "skip" : c->passed ? "ok  " : "FAIL";
    fprintf(out, "%s %-44s %6lld ms", verdict, c->f->name, c->ms);
    if (c->note) {
        fputs("  (", out);
        put_visible(out, c->note);
        fputc(')', out);
    }
    fputc('\n', out);
    for (size_t i = 0; i < c->diffs.n; i++) {
        const mspf_diff *d = &c->diffs.items[i];
        fputs("       ", out);
        put_visible(out, d->field);
        if (d->at >= 0 && (d->from > 0 || d->at >= 40))
            fprintf(out, " (first difference at byte %ld)", d->at);
        fputs("\n         expected: ", out);
        put_visible(out, d->expected ? d->expected : "");
        fputs("\n         got:      ", out);
        put_visible(out, d->got ? d->got : "");
        fputc('\n', out);
    }
}

/* XML 1.0 cannot carry most control bytes even as references: show them. */
static void xml_put(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\n': fputs("&#10;", out); break;
        case '\t': fputs("&#9;", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
}

void hx_xml_put(FILE *out, const char *s)
{
    xml_put(out, s);
}

void hx_xml_printf(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *f = fmt; *f; f++) {
        if (f[0] == '%' && f[1] == 's') {
            xml_put(out, va_arg(ap, const char *));
            f++;
        } else {
            fputc(*f, out);
        }
    }
    va_end(ap);
}

int hx_write_junit(const char *path, const char *suite, const hx_case *cases,
                   size_t n, long long total_ms)
{
    /* built in memory, then written by msp_write_file: never through a
     * planted link, never half a report */
    char *mem = NULL;
    size_t mem_len = 0;
    FILE *out = open_memstream(&mem, &mem_len);
    if (!out)
        return -1;
    size_t failures = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (cases[i].skipped)
            skipped++;
        else if (!cases[i].passed)
            failures++;
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites><testsuite name=\"");
    xml_put(out, suite);
    fprintf(
        out,
        "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", n,
        failures, skipped, (double)total_ms / 1000.0);
    for (size_t i = 0; i < n; i++) {
        const hx_case *c = &cases[i];
        fprintf(out, "  <testcase classname=\"contracts\" name=\"");
        xml_put(out, c->f->name);
        fprintf(out, "\" time=\"%.3f\">", (double)c->ms / 1000.0);
        if (c->skipped) {
            fprintf(out, "<skipped message=\"");
            xml_put(out, c->note ? c->note : "");
            fprintf(out, "\"/>");
        } else if (!c->passed) {
            fprintf(out, "<failure message=\"");
            xml_put(out, c->note      ? c->note
                         : c->diffs.n ? c->diffs.items[0].field
                                      : "failed");
            fprintf(out, "\">");
            for (size_t k = 0; k < c->diffs.n; k++) {
                const mspf_diff *d = &c->diffs.items[k];
                hx_xml_printf(out, "%s: expected %s, got %s&#10;", d->field,
                              d->expected ? d->expected : "",
                              d->got ? d->got : "");
            }
            fprintf(out, "</failure>");
        }
        fprintf(out, "</testcase>\n");
    }
    fprintf(out, "</testsuite></testsuites>\n");
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) {
        free(mem);
        errno = EIO;
        return -1;
    }
    int rc = msp_write_file(path, mem, mem_len, 0644, MSP_WRITE_REPLACE);
    int err = errno;
    free(mem);
    errno = err;
    return rc;
}
