/*
 * jsonraw.c — reading members straight from the text of a JSON document
 * cJSON has already accepted.
 *
 * cJSON hands strings back NUL-terminated, so a "\u0000" inside one cuts it
 * short, and it re-prints numbers and escapes its own way. Where the exact
 * bytes matter (a context's params, forwarded as written; a tool's stdout
 * holding NUL bytes) the executor reads the member from the raw text with
 * this walker. It only follows structure: the document is valid as far as
 * cJSON is concerned, and every step stays inside [0, len) whatever the
 * input. Matching mimics cJSON_GetObjectItemCaseSensitive: the first member
 * whose name, decoded and read as a C string, equals the name asked for.
 */
#include <string.h>

#include "internal.h"

/* Index just past the string starting at json[i] (a '"'). */
static size_t skip_string(const char *json, size_t len, size_t i)
{
    for (i++; i < len && json[i] != '"'; i++)
        if (json[i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

/* Index just past the value at json[i]. */
static size_t skip_value(const char *json, size_t len, size_t i)
{
    size_t depth = 0;
    while (i < len) {
        char c = json[i];
        if (c == '"') {
            i = skip_string(json, len, i);
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* a number or literal ends the object */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || (unsigned char)c <= 0x20)) {
            return i;
        }
        i++;
    }
    return len;
}

/* Like cJSON, any byte <= 0x20 counts as whitespace. */
static size_t skip_space(const char *json, size_t len, size_t i)
{
    while (i < len && (unsigned char)json[i] <= 0x20)
        i++;
    return i;
}

/* Four hex digits. cJSON accepts "\u" followed by a non-hex digit and
 * reads it as U+0000; so does this. */
static unsigned hex4(const char *p, const char *end)
{
    unsigned v = 0;
    if (end - p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v = v * 16 + (unsigned)((c | 0x20) - 'a' + 10);
        else
            return 0;
    }
    return v;
}

size_t Msp_json_decode(const char *lit, size_t n, char *out, size_t cap)
{
    const char *p = lit + 1, *end = lit + n;
    size_t w = 0;

    while (p < end && *p != '"' && w < cap) {
        char u[4];
        size_t un = 1;
        if (*p != '\\') {
            u[0] = *p++;
        } else if (++p >= end) {
            break;
        } else {
            char c = *p++;
            switch (c) {
            case 'b': u[0] = '\b'; break;
            case 'f': u[0] = '\f'; break;
            case 'n': u[0] = '\n'; break;
            case 'r': u[0] = '\r'; break;
            case 't': u[0] = '\t'; break;
            case 'u': {
                unsigned cp = hex4(p, end);
                p += end - p < 4 ? end - p : 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 &&
                    p[0] == '\\' && p[1] == 'u') {
                    unsigned lo = hex4(p + 2, end);
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    }
                }
                if (cp < 0x80) {
                    u[0] = (char)cp;
                } else if (cp < 0x800) {
                    u[0] = (char)(0xC0 | (cp >> 6));
                    u[1] = (char)(0x80 | (cp & 0x3F));
                    un = 2;
                } else if (cp < 0x10000) {
                    u[0] = (char)(0xE0 | (cp >> 12));
                    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[2] = (char)(0x80 | (cp & 0x3F));
                    un = 3;
                } else {
                    u[0] = (char)(0xF0 | (cp >> 18));
                    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[3] = (char)(0x80 | (cp & 0x3F));
                    un = 4;
                }
                break;
            }
            default: u[0] = c; break; /* " \ / */
            }
        }
        for (size_t k = 0; k < un && w < cap; k++)
            out[w++] = u[k];
    }
    return w;
}

/* 1 when the string literal lit[0..n) names `name` as cJSON reads it:
 * decoded, and compared as a C string (up to its first NUL). */
static int key_is(const char *lit, size_t n, const char *name, size_t nlen)
{
    char buf[64];
    if (nlen + 1 > sizeof buf)
        return 0;
    size_t got = Msp_json_decode(lit, n, buf, nlen + 1);
    const char *nul = memchr(buf, '\0', got);
    if (nul)
        got = (size_t)(nul - buf);
    return got == nlen && memcmp(buf, name, nlen) == 0;
}

msp_span Msp_json_member(const char *json, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    msp_span none = {NULL, 0};

    if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* cJSON skips a UTF-8 byte order mark */
    i = skip_space(json, len, i);
    if (i >= len || json[i] != '{')
        return none;
    i++;
    for (;;) {
        i = skip_space(json, len, i);
        if (i >= len || json[i] != '"')
            return none; /* '}' */
        size_t key = i;
        i = skip_string(json, len, i);
        int match = key_is(json + key, i - key, name, nlen);
        i = skip_space(json, len, i);
        if (i >= len || json[i] != ':')
            return none;
        i = skip_space(json, len, i + 1);
        size_t end = skip_value(json, len, i);
        if (match) {
            msp_span v = {json + i, end - i};
            return v;
        }
        i = skip_space(json, len, end);
        if (i >= len || json[i] != ',')
            return none;
        i++;
    }
}

int Msp_json_has_nul(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    if (memchr(s, '\0', n))
        return 1;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 6 && p[1] == 'u') {
            unsigned cp = hex4(p + 2, end);
            if (cp == 0)
                return 1;
        }
        if (end - p <= 2)
            break;
        p += 2; /* past the escaped character */
    }
    return 0;
}

size_t Msp_json_compact(const char *json, size_t len, char *out)
{
    size_t i = 0, w = 0;
    if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len) {
        if (json[i] == '"') {
            size_t end = skip_string(json, len, i);
            memcpy(out + w, json + i, end - i);
            w += end - i;
            i = end;
        } else {
            if ((unsigned char)json[i] > 0x20)
                out[w++] = json[i];
            i++;
        }
    }
    return w;
}
