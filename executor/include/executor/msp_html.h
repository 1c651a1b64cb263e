/*
 * msp_html.h — the one HTML escaper of the kit: every byte of other
 * people's data (fixture names, descriptions, bodies, journal bytes) that
 * reaches an HTML page (msp-contract's --html reports, fake-msp's
 * dashboard) goes through msp_html_escape().
 *
 * Nothing here allocates, prints or exits; thread-safe.
 */
#ifndef MSP_HTML_H
#define MSP_HTML_H

#include <stddef.h>

#include "executor/msp_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* msp_html_escape() flags. MSP_HTML_MARK wraps each shown control byte in
 * <span class="cc">…</span> so that a page can style it (text content
 * only; never in an attribute value). */
#define MSP_HTML_MARK 1u

/* Writes s[0..n) as HTML text through write, safe both as element content
 * and inside a double- or single-quoted attribute value: & < > " ' as
 * character references; \n and \t as they are; NUL as "␀" (U+2400); \r,
 * every other C0 control byte and DEL as the four characters "\xNN"; valid
 * UTF-8 copied, except C1 controls and the bidirectional overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069), shown as "\uNNNN"; every byte
 * that is not part of valid UTF-8 (overlong, surrogate, past U+10FFFF,
 * cut short) as "\xNN". The output never contains '<', '>', '"', '\''
 * or '&' except from the escapes themselves (and the MSP_HTML_MARK spans).
 * A NULL s writes nothing. Returns 0, or the first non-zero value write
 * returned. */
int msp_html_escape(const char *s, size_t n, unsigned flags, msp_write_fn write,
                    void *user);

#ifdef __cplusplus
}
#endif
#endif /* MSP_HTML_H */
