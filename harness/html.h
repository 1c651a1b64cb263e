/*
 * html.h — msp-contract's HTML page writer, for the --html reports
 * (html_report.c). A page is one self-contained file: inline CSS, a little
 * inline script under a Content-Security-Policy nonce (filtering only; the
 * page reads the same with JavaScript off), nothing fetched from anywhere.
 *
 * Every byte of data goes through msp_html_escape() (executor/msp_util.h)
 * after "Bearer <token>" spellings are masked; only the markup this
 * program writes itself goes out as is. The page is built in memory and
 * written whole by msp_write_file(MSP_WRITE_REPLACE): a new temporary file
 * in FILE's directory (O_EXCL), fsync'd, renamed over FILE, so a reader
 * never sees half a report; a symlink or anything but a regular file at
 * FILE is refused, never written through.
 */
#ifndef MSP_HARNESS_HTML_H
#define MSP_HARNESS_HTML_H

#include <stddef.h>

typedef struct hx_page hx_page;

/* Starts the page FILE titled `title`. Returns the page, or NULL with a
 * reason in err. */
hx_page *hx_page_open(const char *path, const char *title, char *err,
                      size_t errlen);

/* Markup this program wrote (never data). */
void hx_page_raw(hx_page *p, const char *markup);
void hx_page_rawf(hx_page *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Data as text: masked, escaped. NULL writes nothing. */
void hx_page_text(hx_page *p, const char *s);
/* s[0..n) as text with NUL and control bytes shown in styled spans. */
void hx_page_bytes(hx_page *p, const char *s, size_t n);

/* One difference: field, expected and got, the first differing byte
 * marked in both and its offset given, long values folded. at: the
 * offset of the first difference in the whole values when expected and
 * got are only a window of them (mspf_diff.at, .from), else -1 (found
 * here). */
void hx_page_diff(hx_page *p, const char *field, const char *expected,
                  const char *got, long at, long from);

/* The byte offset of the first difference of a and b, or -1 when they are
 * equal. (Exposed for the tests.) */
long hx_first_difference(const char *a, size_t alen, const char *b,
                         size_t blen);

/* Finishes the page and renames it into place. Returns 0, or -1 with a
 * reason in err (the temporary file is removed). Frees p. */
int hx_page_close(hx_page *p, char *err, size_t errlen);

#endif /* MSP_HARNESS_HTML_H */

/* ---- the reports (html_report.c) ------------------------------------ */

#include <cjson/cJSON.h>

#include "harness.h"

/* What the summary line names as the target of a run (the fake's URL, the
 * MSP under test) and the fake's seed (0: none). Set before hx_finish(). */
void hx_html_target(const char *target, unsigned long long seed);

/* A key the reports must never hold, in any JSON spelling: masked
 * wherever it appears (msp_redact_secret). Borrowed until the run ends;
 * up to 32. */
void hx_html_secret(const char *key);

/* verify / provider: the summary, one row per fixture, each failure's
 * differences. Writes o->html (nothing when NULL). Returns 0, or -1 after
 * printing why. */
int hx_html_cases(const hx_options *o, const char *command, const hx_cases *cs,
                  const hx_tally *t, long long total_ms);

/* One cell of the fault matrix. */
typedef struct hx_html_cell {
    const char *fixture;
    int passed;
    int exit_code;
    int row;
    long long ms;
    const char *why; /* why it failed (NULL when it passed) */
} hx_html_cell;

/* verify --fault-matrix: cells[i * ncols + k] is fixture i under column k
 * (the fault kinds in catalogue order, then "delay"). */
int hx_html_fault_matrix(const hx_options *o, const hx_html_cell *cells,
                         size_t nfix, int ncols, long long deadline_ms,
                         long long total_ms);

/* coverage: the exit-table x fixtures matrix (m as coverage.c builds it);
 * coverage --provider: the MSP check table x provider fixtures (root). */
int hx_html_coverage(const hx_options *o, const mspf_set *set, const cJSON *m);
int hx_html_provider_coverage(const hx_options *o, const mspf_set *set,
                              const cJSON *root);
