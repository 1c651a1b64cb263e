/*
 * strict.h — what fake-msp refuses at the door, beyond what cJSON and
 * libmicrohttpd refuse: JSON bodies with duplicate member names or a NUL
 * in any string, and admin requests from elsewhere than this machine's
 * own client (Host, Origin, token).
 */
#ifndef FAKE_MSP_STRICT_H
#define FAKE_MSP_STRICT_H

#include <stddef.h>

/* Walks JSON text that cJSON accepted. Returns 0 when every object has
 * distinct member names (compared decoded by msp_json_string_decode, so
 * "\ud800" and "\udbff" are one name, U+FFFD), no string (name or value)
 * holds U+0000 and each is one the decoder takes; else -1 with "duplicate
 * member \"tool\"", "NUL in \"params.agent_id\"" (the field path) or "an
 * escape JSON does not have in \"tool\"" in msg. Nesting past 64 levels is
 * refused the same way. */
int fm_json_strict(const char *json, size_t len, char *msg, size_t msglen);

/* Is value (a Host header) "NAME:PORT" for one of the names this server
 * answers to: its bound address, and when bound to loopback, localhost,
 * 127.0.0.1 and [::1]? */
int fm_host_allowed(const char *value, const char *bound_host,
                    unsigned short port, int loopback);

/* Is value (an Origin header) "http[s]://HOST" with HOST allowed as
 * above? */
int fm_origin_allowed(const char *value, const char *bound_host,
                      unsigned short port, int loopback);

/* Is v the media type application/json (any case), parameters allowed
 * ("; charset=utf-8"), nothing else ("application/jsonx")? */
int fm_content_type_json(const char *v);

/* Constant-time equality of two strings (lengths may leak). */
int fm_secret_eq(const char *a, const char *b);

#endif
