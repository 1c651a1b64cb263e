/*
 * proxy_rules.h — what the recording proxy forwards: the upstream URL of an
 * exchange, built from the parsed --proxy URL and an origin-form path (never
 * by pasting strings, so a request-target can never name another host or
 * port), the --proxy URL as it may be shown (userinfo masked), and the
 * hop-by-hop headers (RFC 9110 §7.6.1) dropped both ways.
 *
 * Ownership: fm_upstream_parse() fills a fm_upstream that
 * fm_upstream_free() releases; fm_upstream_target() returns a CURLU the
 * caller frees with curl_url_cleanup().
 */
#ifndef FAKE_MSP_PROXY_RULES_H
#define FAKE_MSP_PROXY_RULES_H

#include <curl/curl.h>
#include <stddef.h>

#include "contracts/fixture.h"

/* The parsed --proxy URL. */
typedef struct fm_upstream {
    CURLU *base;     /* scheme, userinfo, host, port; path and query unset */
    char *base_path; /* "" or "/prefix" (no trailing '/') */
    char *shown;     /* the URL for messages: userinfo as "***@" */
    char *user;      /* the userinfo parts, to scrub from curl's errors */
    char *password;
} fm_upstream;

/* Parses url (http or https; no query, fragment or space). Returns 0, or -1
 * with a reason in errbuf that never quotes the userinfo. */
int fm_upstream_parse(const char *url, fm_upstream *u, char *errbuf,
                      size_t errlen);
void fm_upstream_free(fm_upstream *u);

/* Checks that a request-target path is origin-form as the proxy takes it:
 * starts with one '/', holds no '@', '\\' or control byte, and no
 * "." or ".." segment (which would climb out of the base path). Returns 0,
 * or -1 with the reason in why. */
int fm_origin_form(const char *path, char *why, size_t whylen);

/* The upstream URL of one exchange: the upstream's scheme, userinfo, host
 * and port, its base path + path (checked with fm_origin_form, then
 * percent-encoded) and query (already encoded; NULL or "" for none).
 * Returns 0 and *out, or -1 with the reason in why. */
int fm_upstream_target(const fm_upstream *u, const char *path,
                       const char *query, CURLU **out, char *why,
                       size_t whylen);

/* Replaces every occurrence of the upstream's user and password (when 3
 * bytes or longer) in text with "***", in place. */
void fm_upstream_scrub(const fm_upstream *u, char *text);

/* 1 when a header of this name belongs to one hop (RFC 9110 §7.6.1:
 * Connection, Proxy-Connection, Keep-Alive, TE, Trailer, Transfer-Encoding,
 * Upgrade, Proxy-Authenticate, Proxy-Authorization) or is named by one of
 * the Connection header values in h[0..n) (a comma-separated list). */
int fm_hop_header(const char *name, const mspf_header *h, size_t n);

#endif
