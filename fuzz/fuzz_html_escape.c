/*
 * fuzz_html_escape.c — libFuzzer target for msp_html_escape(), the one
 * HTML escaper of the reports and the dashboard.
 *
 * Input: the first byte's low bit is the MSP_HTML_MARK flag; the rest is
 * the data. Checked on every output: once the marking spans are taken
 * out, no '<', '>', '"' or '\'' is left and every '&' starts one of the
 * five references the escaper writes; the output is valid UTF-8 with no
 * control byte but \n and \t; and printable ASCII comes back byte for
 * byte when the references are decoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <executor/msp_util.h>

#include "fuzz_check.h"

/* the longest escape: a marked "\\xNN" in its span, 28 bytes */
#define OUT_PER_BYTE 32u

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static int put(void *user, const void *bytes, size_t n)
{
    out *o = user;
    if (n > o->cap - o->len)
        return -1;
    memcpy(o->p + o->len, bytes, n);
    o->len += n;
    return 0;
}

/* Removes every marking span in place. */
static size_t strip_spans(char *s, size_t n)
{
    static const char open[] = "<span class=\"cc\">", close[] = "</span>";
    size_t r = 0, w = 0;
    while (r < n) {
        if (n - r >= sizeof open - 1 &&
            memcmp(s + r, open, sizeof open - 1) == 0)
            r += sizeof open - 1;
        else if (n - r >= sizeof close - 1 &&
                 memcmp(s + r, close, sizeof close - 1) == 0)
            r += sizeof close - 1;
        else
            s[w++] = s[r++];
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                       "&#39;"};
    static const char plain[] = "&<>\"'";
    if (size == 0)
        return 0;
    unsigned flags = (data[0] & 1u) ? MSP_HTML_MARK : 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    size_t cap = n * OUT_PER_BYTE + 1;
    out o = {malloc(cap), 0, cap};
    if (!o.p)
        return 0;
    CHECK(msp_html_escape(in, n, flags, put, &o) == 0);
    size_t len = flags ? strip_spans(o.p, o.len) : o.len;
    const unsigned char *u = (const unsigned char *)o.p;
    int printable = 1;
    for (size_t i = 0; i < n; i++)
        printable &= (data[1 + i] >= 0x20 && data[1 + i] < 0x7f) ||
                     data[1 + i] == '\n' || data[1 + i] == '\t';
    char *decoded = malloc(len + 1);
    size_t dlen = 0;
    CHECK(decoded != NULL);
    for (size_t i = 0; i < len;) {
        CHECK(!strchr("<>\"'", o.p[i]) || o.p[i] == '\0');
        CHECK(u[i] >= 0x20 || u[i] == '\n' || u[i] == '\t');
        CHECK(u[i] != 0x7f);
        if (o.p[i] == '&') {
            size_t k = 0;
            while (k < 5 && strncmp(o.p + i, refs[k], strlen(refs[k])) != 0)
                k++;
            CHECK(k < 5);
            decoded[dlen++] = plain[k];
            i += strlen(refs[k]);
            continue;
        }
        size_t step = msp_utf8_seq(u + i, len - i);
        CHECK(step > 0);
        memcpy(decoded + dlen, o.p + i, step);
        dlen += step;
        i += step;
    }
    if (printable)
        CHECK(dlen == n && memcmp(decoded, in, n) == 0);
    free(decoded);
    free(o.p);
    return 0;
}
