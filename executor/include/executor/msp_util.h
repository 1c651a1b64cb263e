/*
 * msp_util.h — the small helpers every component of the kit shares: secret
 * masking and redaction, JSON and HTML string escaping, JSON-path building,
 * the key-file reader, UUIDv4s (made and checked), base64 and the safe file
 * reader and writer. There is one of each, here, in the lowest layer that
 * needs them; contracts, fake-msp and the harness call these.
 *
 * Ownership: nothing here allocates except msp_read_key_file(), whose
 * result the caller wipes and frees with msp_secret_free(), and
 * msp_read_file(), whose result the caller frees with free(). Every function
 * is thread-safe (no shared state) and never prints or exits.
 */
#ifndef MSP_UTIL_H
#define MSP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one growable byte buffer (curl's dynbuf is the model), used by every
 * component: its cap is fixed by msp_buf_init() and named there by each
 * caller, from that caller's named limits. The contract:
 * - it never holds more than max content bytes, and never allocates more
 *   than max + 1;
 * - data is NUL-terminated whenever it is not NULL (the NUL is not counted
 *   in len); data is NULL until the first append;
 * - an append that would pass the cap, or that runs out of memory, changes
 *   nothing, returns -1 and sets errno (EFBIG or ENOMEM); the failure
 *   latches: `failed` keeps that errno and every later append fails the same
 *   way, so a run of appends may be checked once at the end; the content
 *   appended before the failure stays as it was;
 * - msp_buf_reset() and msp_buf_free() clear the failure; the cap stays.
 * The memory is the buffer's: msp_buf_free() releases it, msp_buf_take()
 * hands it to the caller, who frees it with free(). A zeroed msp_buf is an
 * empty buffer of cap 0. Not thread-safe: one buffer, one thread. */
typedef struct msp_buf {
    char *data; /* the content and its NUL, or NULL while nothing is held */
    size_t len; /* content bytes */
    size_t cap; /* bytes allocated */
    size_t max; /* the most content bytes it may ever hold */
    int failed; /* 0, or the errno of the first failed append */
} msp_buf;

/* Starts an empty buffer that never holds more than max bytes. */
void msp_buf_init(msp_buf *b, size_t max);

/* Appends p[0..n), growing geometrically but never past b->max bytes of
 * content. Returns 0, or -1 with errno EFBIG (over the cap) or ENOMEM; see
 * the contract above for the state after a failure. */
int msp_buf_append(msp_buf *b, const void *p, size_t n);

/* Appends a string literal. */
#define msp_buf_append_lit(b, lit) msp_buf_append((b), lit, MSP_STRLEN(lit))

/* Appends the NUL-terminated s (without its NUL). Returns as
 * msp_buf_append(). */
int msp_buf_append_str(msp_buf *b, const char *s);

/* Appends printf-formatted text. Returns as msp_buf_append() (a format
 * error counts as EINVAL). */
int msp_buf_printf(msp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s[0..n) as a JSON string literal written by msp_json_quote(); a
 * NULL s appends null. Returns as msp_buf_append(); after a failure the
 * buffer may end in the part of the literal that fitted. */
int msp_buf_append_json(msp_buf *b, const char *s, size_t n);

/* Empties the buffer and clears a failure; keeps its memory and cap. */
void msp_buf_reset(msp_buf *b);

/* Hands the content to the caller, who frees it with free(): NUL-terminated,
 * its length in *len (when len is not NULL); a buffer never appended to
 * gives a fresh "". The buffer is left empty (same cap). Returns NULL when
 * the buffer has failed (its memory is then released; *len untouched) or
 * "" cannot be allocated. */
char *msp_buf_take(msp_buf *b, size_t *len);

/* Releases the buffer's memory and clears a failure; it stays initialised
 * (same cap) and empty. */
void msp_buf_free(msp_buf *b);

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

/* The one JSON string decoder: every reader of the kit that needs the
 * bytes of a JSON string literal (the executor's response mapping and
 * member lookup, contracts' NUL-holding strings, fake-msp's duplicate-key
 * and NUL checks) calls msp_json_string_decode(), so all of them read a
 * literal the same way. The rule, the same for every caller (shared test
 * vectors: tests/vectors/json_strings.txt):
 *
 * - Exactly RFC 8259's escapes: \" \\ \/ \b \f \n \r \t and \u with four
 *   hex digits in either case. Any other escape (\x, \u12, \uZZZZ), a raw
 *   byte below 0x20 (NUL included) or a missing closing quote is an error,
 *   as for JSON.parse (cJSON lets raw control bytes and \u00g0 through;
 *   only MSP_JSON_STR_AS_CJSON reads them its way).
 * - A surrogate pair decodes to its code point (4 UTF-8 bytes). A lone
 *   surrogate escape (a high one not followed by a \u low one, or a low
 *   one not after a high one) decodes to U+FFFD (EF BF BD). RFC 8259 §8.2
 *   leaves such strings' meaning open; JSON.parse accepts them and a JS
 *   runtime writes each as U+FFFD in UTF-8, which is what the reference
 *   executor's output shows, and the output stays valid UTF-8. Consequence:
 *   "\ud800" and "\udbff" decode to the same bytes, so as two member
 *   names of one object they are duplicates (fake-msp refuses them).
 * - \u0000 decodes to a NUL byte (kept: the decoded length counts it);
 *   with MSP_JSON_STR_NO_NUL it is the error MSP_JSON_STR_ENUL instead.
 * - Raw bytes from 0x80 up are copied as they are, valid UTF-8 or not:
 *   this is a decoder, not a UTF-8 validator (JSON.parse after a byte
 *   reader keeps them too); writers replace them (msp_json_quote()).
 *
 * The decoded form is never longer than the literal, so a buffer of n bytes
 * always holds it. */
#define MSP_JSON_STR_NO_NUL 1u /* \u0000 is an error (MSP_JSON_STR_ENUL) */
/* Only for reading member names the way cJSON read the same text (the
 * executor's context document, which cJSON parsed): a raw byte below 0x20
 * is copied and a \u whose four characters are not all hex digits reads as
 * U+0000, as cJSON reads them. Surrogates and everything else: the rule. */
#define MSP_JSON_STR_AS_CJSON 2u

/* Results of msp_json_string_decode(): 0, or one of these. */
#define MSP_JSON_STR_ECUT     (-1) /* not '"' first, or no closing '"' */
#define MSP_JSON_STR_ECONTROL (-2) /* a raw byte below 0x20 */
#define MSP_JSON_STR_EESCAPE  (-3) /* an escape RFC 8259 does not have */
#define MSP_JSON_STR_ENUL     (-4) /* \u0000 under MSP_JSON_STR_NO_NUL */

/* Decodes the JSON string literal at in[0] (its opening '"'; in[0..n) may
 * go on past the closing quote) by the rule above. On success returns 0,
 * sets *consumed to the literal's length, both quotes included, and
 * *out_len to the whole decoded length, and writes the first
 * min(*out_len, cap) decoded bytes to out (no NUL added): like snprintf,
 * out may be NULL with cap 0 to only check and measure, and *out_len > cap
 * says the output was cut. On error returns an MSP_JSON_STR_E* code and
 * sets nothing (out may hold part of the output). Never reads past
 * in[n - 1]. */
int msp_json_string_decode(const char *in, size_t n, size_t *consumed,
                           char *out, size_t cap, size_t *out_len,
                           unsigned flags);

/* For a reader that parses JSON text with cJSON, which refuses a lone
 * surrogate escape where the rule above reads U+FFFD: rewrites in place,
 * inside the strings of text[0..len), each lone surrogate escape as
 * "\ufffd" (the same length, so every offset into the text holds), so that
 * cJSON reads the text as msp_json_string_decode() does. Returns the
 * number of escapes rewritten. */
size_t msp_json_fffd_lone_surrogates(char *text, size_t len);

/* What an MSP_JSON_STR_E* code means, for a message ("a raw control
 * byte"); never NULL. */
const char *msp_json_string_strerror(int code);

/* The one HTML escaper: every byte of other people's data (fixture names,
 * descriptions, bodies, journal bytes) that reaches an HTML page
 * (msp-contract's --html reports, fake-msp's dashboard) goes through
 * msp_html_escape(). Flag MSP_HTML_MARK wraps each shown control byte in
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

/* Flags of msp_write_file(). */
#define MSP_WRITE_REPLACE 1 /* an existing regular file is replaced */
#define MSP_WRITE_NO_SYNC 2 /* no fsync: for many files a rerun rewrites */

/* Writes data[0..len) to path, safely: the bytes go to a new temporary
 * file with an unpredictable name in path's directory (mkstemp: O_CREAT |
 * O_EXCL, so a planted symbolic link is never followed), which is
 * fsync'd (unless MSP_WRITE_NO_SYNC), given mode and then moved to path.
 * Without MSP_WRITE_REPLACE an existing path (of any kind, a dangling link
 * included) is never touched: the move is a link(2), which fails with EEXIST.
 * With it, a regular file at path is replaced by rename(2); a symbolic link or
 * any other non-regular file at path is refused (ELOOP, EISDIR or EINVAL) — a
 * link is never written through nor replaced. A reader sees the old file or the
 * whole new one, never half of it, and a failed write leaves no temporary file.
 * Returns 0, or -1 with errno set. */
int msp_write_file(const char *path, const void *data, size_t len, int mode,
                   int flags);

/* Reads a whole file named by a user, of at most cap bytes, without ever
 * blocking on it: it is opened with O_NONBLOCK (a FIFO or a device opens
 * at once) and refused unless fstat() says it is a regular file (errno
 * EINVAL for a FIFO, socket, device or directory). On success *out is a
 * malloc'd copy with a NUL after its *len bytes (the caller frees it).
 * Returns 0, or -1 with errno set (EFBIG past cap). */
int msp_read_file(const char *path, size_t cap, char **out, size_t *len);

/* The reason msp_read_file() or msp_write_file() failed, for a message:
 * "not a regular file" for EINVAL, "a symbolic link (not followed)" for
 * ELOOP, "already exists" for EEXIST, else strerror(err). Never NULL. */
const char *msp_file_strerror(int err);

/* A UUID's text (36 characters) and its NUL. */
#define MSP_UUID_BUF_SIZE 37

/* Writes a fresh random UUIDv4 (RFC 4122, lowercase, from getrandom(2))
 * into out. Returns 0, or -1 with errno set (out untouched) when the kernel
 * gives no randomness (ENOSYS, or EPERM in some sandboxes): never spins. */
int msp_uuid4(char out[MSP_UUID_BUF_SIZE]);

/* Writes the UUIDv4 whose 128 bits are hi:lo (big-endian), the version and
 * variant bits overwritten: reproducible ids from a seeded generator or a
 * hash, in the same shape as msp_uuid4()'s. */
void msp_uuid4_from_bits(uint64_t hi, uint64_t lo, char out[MSP_UUID_BUF_SIZE]);

/* The length of the one valid UTF-8 sequence starting s[0..n), n > 0
 * (RFC 3629: the shortest form, no surrogates, nothing past U+10FFFF):
 * 1 for an ASCII byte (NUL included), 2 to 4, or 0 when s does not start
 * a valid sequence. */
size_t msp_utf8_seq(const void *s, size_t n);

/* 1 when s[0..n) is valid UTF-8 throughout (msp_utf8_seq's rule), else 0.
 * A NUL byte is valid UTF-8: callers that refuse it check for it. */
int msp_utf8_valid(const void *s, size_t n);

/* Flags of msp_uuid_valid(); 0 is lowercase hex, any version — the shape
 * of the ids fixtures and the recorder write. */
#define MSP_UUID_ANY_CASE 1u /* hex digits A-F accepted too */
#define MSP_UUID_V4       2u /* version 4 and the RFC 4122 variant required */

/* 1 when s[0..n) is exactly one UUID in text form, 8-4-4-4-12 hex digits
 * (n must be 36: nothing before or after it), by flags; else 0 (and for a
 * NULL s). */
int msp_uuid_valid(const char *s, size_t n, unsigned flags);

/* The same shape as a JSON-schema / Pact regex (lowercase, any version). */
#define MSP_UUID_REGEX \
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

/* ---- base64 (RFC 4648) ------------------------------------------------ */

/* Flags of the base64 functions; 0 is the standard alphabet, padded. */
#define MSP_B64_URL    1u /* the URL alphabet: '-' and '_' for '+' and '/' */
#define MSP_B64_NOPAD  2u /* encode without '='; decode refuses any '=' */
#define MSP_B64_ANYPAD 4u /* decode: padded or unpadded, either is fine */

/* The length of the encoding of n bytes (without a NUL). */
size_t msp_base64_encoded_len(size_t n, unsigned flags);

/* Writes the base64 of in[0..n) and a NUL into out[0..cap). Returns the
 * length written (without the NUL), or -1 with errno ERANGE when cap is
 * under msp_base64_encoded_len(n, flags) + 1 (out untouched). in may be
 * NULL when n is 0. */
ssize_t msp_base64_encode(const void *in, size_t n, unsigned flags, char *out,
                          size_t cap);

/* The most bytes msp_base64_decode() writes for a text of n characters. */
#define MSP_BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 2)

/* Decodes in[0..n), strictly, into out[0..cap) (no NUL is added). Refused
 * (-1, errno EINVAL): any byte outside the alphabet (whitespace included),
 * '=' anywhere but the end, a length that is not a multiple of 4 when
 * padded (always, unless MSP_B64_NOPAD or MSP_B64_ANYPAD), a length of
 * 4k+1 digits, and non-zero bits after the last whole byte ("QR==" is
 * not "QQ=="), so every accepted text is the one encoding of its bytes.
 * -1 with errno ERANGE when the bytes do not fit cap. Returns the number
 * of bytes written; on failure out is untouched. */
ssize_t msp_base64_decode(const char *in, size_t n, unsigned flags, void *out,
                          size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* MSP_UTIL_H */
