/*
 * html.c — msp_html_escape(), the one HTML escaper (msp_util.h).
 */
#include <stdio.h>
#include <string.h>

#include "executor/msp_util.h"
#include "internal.h"

#define SPAN_OPEN  "<span class=\"cc\">"
#define SPAN_CLOSE "</span>"

/* The code point of the valid UTF-8 sequence s[0..len). */
static unsigned long code_point(const unsigned char *s, size_t len)
{
    static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    unsigned long cp = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3fu);
    return cp;
}

/* Code points shown by number: C1 controls, bidi overrides and isolates
 * (they reorder what a reader sees around them). */
static int shown_by_number(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes a visible form (plain text made of safe bytes), in a span when
 * marking. */
static int put_shown(const char *text, unsigned flags, msp_write_fn write,
                     void *user)
{
    int rc = 0;
    if ((flags & MSP_HTML_MARK) &&
        (rc = write(user, SPAN_OPEN, MSP_STRLEN(SPAN_OPEN))) != 0)
        return rc;
    if ((rc = write(user, text, strlen(text))) != 0)
        return rc;
    if (flags & MSP_HTML_MARK)
        rc = write(user, SPAN_CLOSE, MSP_STRLEN(SPAN_CLOSE));
    return rc;
}

/* A byte msp_html_escape() copies as it is: printable ASCII but the
 * markup characters, and newline and tab. */
static int html_plain(unsigned char c)
{
    return c < 0x7f && (c >= 0x20 || c == '\n' || c == '\t') &&
           !strchr("&<>\"'", c);
}

int msp_html_escape(const char *s, size_t n, unsigned flags, msp_write_fn write,
                    void *user)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    int rc;
    char shown[16];

    if (!s)
        return 0;
    while (i < n) {
        if ((rc = Msp_write_plain_run(s, n, &i, html_plain, write, user)) != 0)
            return rc;
        if (i == n)
            break;
        const char *ref = NULL;
        switch (u[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: break;
        }
        if (ref) {
            rc = write(user, ref, strlen(ref));
            i++;
        } else if (u[i] == 0) {
            rc = put_shown("\xe2\x90\x80", flags, write, user); /* ␀ */
            i++;
        } else if (u[i] < 0x80) {
            snprintf(shown, sizeof shown, "\\x%02x", u[i]);
            rc = put_shown(shown, flags, write, user);
            i++;
        } else {
            size_t seq = msp_utf8_seq(u + i, n - i);
            unsigned long cp = seq ? code_point(u + i, seq) : 0;
            if (seq && !shown_by_number(cp)) {
                rc = write(user, s + i, seq);
            } else {
                if (seq)
                    snprintf(shown, sizeof shown, "\\u%04lx", cp);
                else
                    snprintf(shown, sizeof shown, "\\x%02x", u[i]);
                rc = put_shown(shown, flags, write, user);
            }
            i += seq ? seq : 1;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}
