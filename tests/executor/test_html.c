/*
 * test_html.c — msp_html_escape(), the one HTML escaper (msp_util.h):
 * shared vectors, then a property test over random bytes with the same
 * invariants as fuzz/fuzz_html_escape.c.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <executor/msp_util.h>

typedef struct sink {
    char p[4096];
    size_t len;
} sink;

static int put(void *user, const void *bytes, size_t n)
{
    sink *s = user;
    if (n > sizeof s->p - 1 - s->len)
        return -1;
    memcpy(s->p + s->len, bytes, n);
    s->len += n;
    s->p[s->len] = '\0';
    return 0;
}

static const char *esc(const char *in, size_t n, unsigned flags)
{
    static sink s;
    s.len = 0;
    s.p[0] = '\0';
    cr_assert_eq(msp_html_escape(in, n, flags, put, &s), 0);
    return s.p;
}

#define ESC(lit, flags) esc(lit, sizeof(lit) - 1, flags)

Test(html, markup_and_quotes_become_references)
{
    cr_assert_str_eq(ESC("<script>alert('x')</script>", 0),
                     "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    cr_assert_str_eq(ESC("<img src=x onerror=\"a&b\">", 0),
                     "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;");
}

Test(html, nul_and_control_bytes_are_shown_marked_or_plain)
{
    cr_assert_str_eq(ESC("a\0b\x01\r\x7f", 0), "a\xe2\x90\x80"
                                               "b\\x01\\x0d\\x7f");
    cr_assert_str_eq(ESC("\0", MSP_HTML_MARK),
                     "<span class=\"cc\">\xe2\x90\x80</span>");
    cr_assert_str_eq(ESC("line\n\tnext", MSP_HTML_MARK), "line\n\tnext");
}

Test(html, utf8_is_kept_and_bad_bytes_and_bidi_overrides_are_shown)
{
    cr_assert_str_eq(ESC("caf\xc3\xa9 \xe2\x9c\x93", 0),
                     "caf\xc3\xa9 \xe2\x9c\x93");
    cr_assert_str_eq(ESC("\xff\xc3", 0), "\\xff\\xc3");
    cr_assert_str_eq(ESC("\xed\xa0\x80", 0), "\\xed\\xa0\\x80"); /* surrogate */
    cr_assert_str_eq(ESC("a\xe2\x80\xae"
                         "b",
                         0),
                     "a\\u202eb");                   /* RLO */
    cr_assert_str_eq(ESC("\xc2\x85", 0), "\\u0085"); /* C1 NEL */
}

Test(html, a_failing_writer_stops_the_escaper)
{
    sink s = {.len = sizeof s.p - 2};
    cr_assert_neq(msp_html_escape("<<<<", 4, 0, put, &s), 0);
    cr_assert_eq(msp_html_escape(NULL, 5, 0, put, &s), 0);
}

/* xorshift64: the same bytes on every run and machine. */
static unsigned long long next_random(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes: no markup survives, every '&' is one of the five
 * references, no control byte but \n and \t; printable ASCII round-trips. */
Test(html, random_bytes_never_leave_markup_property)
{
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                       "&#39;"};
    unsigned long long seed = 22;
    for (int round = 0; round < 5000; round++) {
        char in[64];
        size_t n = (size_t)(next_random(&seed) % sizeof in);
        int ascii = round % 2;
        for (size_t i = 0; i < n; i++)
            in[i] = ascii ? (char)(0x20 + next_random(&seed) % 0x5f)
                          : (char)(next_random(&seed) & 0xff);
        const char *out = esc(in, n, 0);
        char back[64];
        size_t blen = 0;
        for (const char *p = out; *p;) {
            cr_assert(!strchr("<>\"'", *p), "markup in %s", out);
            cr_assert((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t');
            if (*p == '&') {
                size_t k = 0;
                while (k < 5 && strncmp(p, refs[k], strlen(refs[k])) != 0)
                    k++;
                cr_assert_lt(k, 5, "stray & in %s", out);
                if (blen < sizeof back)
                    back[blen++] = "&<>\"'"[k];
                p += strlen(refs[k]);
            } else {
                if (blen < sizeof back)
                    back[blen++] = *p;
                p++;
            }
        }
        if (ascii)
            cr_assert(blen == n && memcmp(back, in, n) == 0);
    }
}
