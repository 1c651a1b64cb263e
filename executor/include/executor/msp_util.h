/*
 * msp_util.h — the small helpers every component of the kit shares: secret
 * masking and redaction, JSON string escaping, JSON-path building, the
 * key-file reader and UUIDv4s. There is one of each, here, in the lowest layer
 * that needs them; contracts, fake-msp and the harness call these.
 *
 * Ownership: nothing here allocates except msp_read_key_file(), whose
 * result the caller wipes and frees with msp_secret_free(). Every function
 * is thread-safe (no shared state) and never prints or exits.
 */
#ifndef MSP_UTIL_H
#define MSP_UTIL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The length of a string literal, without its NUL; a compile error for
 * anything that is not a literal. Use instead of hand-counted lengths. */
#define MSP_STRLEN(lit) (sizeof("" lit "") - 1)

/* The masking policy: at most MSP_MASK_SHOWN_MAX bytes of a secret and at
 * most a quarter of it are ever shown, then an ellipsis and the length. */
#define MSP_MASK_SHOWN_MAX 4
/* Room for any masked form: 4 bytes, "…" (3 bytes), "(", 20 digits, ")",
 * NUL. */
#define MSP_MASK_BUF_SIZE 32

/* The number of leading bytes of a secret of n bytes the masking policy
 * shows: min(MSP_MASK_SHOWN_MAX, n / 4). A secret under 4 bytes shows
 * none. */
size_t msp_mask_shown(size_t n);

/* Writes the masked form of a NUL-terminated secret into buf: its first
 * msp_mask_shown(len) bytes (control and non-ASCII bytes shown as '?'),
 * "…" and the length in parentheses: "sk-live-…(32)", "sk-t…(16)",
 * "s…(7)", "…(3)". A NULL secret masks as "…(0)". Never writes more than
 * buflen-1 bytes plus a NUL; nothing when buf is NULL or buflen is 0. */
void msp_mask_secret(const char *secret, char *buf, size_t buflen);

/* Overwrites with '*' every occurrence of secret[0..secret_len) inside
 * text[0..len), in every spelling a JSON producer can give it: raw, and
 * with any of its characters written as a JSON escape (\uXXXX in either
 * hex case, a UTF-16 surrogate pair for characters past U+FFFF, \/ \" \\
 * and the short control escapes). The whole spelling is overwritten, so
 * the text keeps its length. Does nothing when secret_len is 0. Returns the
 * number of occurrences overwritten. */
size_t msp_redact_secret(char *text, size_t len, const char *secret,
                         size_t secret_len);

/* Receives output bytes; returns 0, or non-zero to stop the writer. */
typedef int (*msp_write_fn)(void *user, const void *bytes, size_t n);

/* Writes s[0..n) as a JSON string literal, quotes included, through write:
 * '"' and '\\' escaped, \n \r \t short, other control bytes and NUL as
 * \u00XX, valid UTF-8 copied as is, every byte that is not part of valid
 * UTF-8 as \ufffd, so the output is always valid JSON (RFC 8259). A NULL s
 * writes null. Returns 0, or the first non-zero value write returned. */
int msp_json_quote(const char *s, size_t n, msp_write_fn write, void *user);

/* JSON-path building in a caller's fixed buffer path[0..cap), as in
 * "request.headers.x-id" or "expect.stdout[2]". push_key appends ".key",
 * push_index "[i]"; both keep path NUL-terminated, truncate silently at
 * cap, and return the old length to hand to msp_json_path_pop(), which
 * cuts path back to it. *len is the current length. */
size_t msp_json_path_push_key(char *path, size_t cap, size_t *len,
                              const char *key);
size_t msp_json_path_push_index(char *path, size_t cap, size_t *len,
                                size_t index);
void msp_json_path_pop(char *path, size_t *len, size_t old);

/* The largest key msp_read_key_file() accepts, in bytes. */
#define MSP_KEY_FILE_CAP (64u * 1024u)

/* Reads an API key from a file: the whole first line, of any length up to
 * cap bytes, without its trailing "\n" or "\r\n" (nothing else is
 * stripped). Returns a malloc'd NUL-terminated copy the caller releases
 * with msp_secret_free(), or NULL when the file cannot be read, is empty,
 * the first line is empty or longer than cap, or memory runs out (errno
 * says which: ENOENT/EACCES/..., ENODATA, EFBIG, ENOMEM). Every
 * intermediate buffer is wiped before it is freed. */
char *msp_read_key_file(const char *path, size_t cap);

/* Wipes a NUL-terminated secret and frees it. NULL does nothing. */
void msp_secret_free(char *secret);

/* A UUID's text (36 characters) and its NUL. */
#define MSP_UUID_BUF_SIZE 37

/* Writes a fresh random UUIDv4 (RFC 4122, lowercase, from getrandom(2))
 * into out. */
void msp_uuid4(char out[MSP_UUID_BUF_SIZE]);

#ifdef __cplusplus
}
#endif
#endif /* MSP_UTIL_H */
