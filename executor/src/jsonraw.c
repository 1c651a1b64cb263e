/*
 * jsonraw.c — strict JSON validation and reading members straight from the
 * text of a document, without building a tree.
 *
 * A response body may be 16 MiB: the mapping validates it with
 * Msp_json_valid (RFC 8259, what JSON.parse accepts, no recursion) and then
 * reads only the members it needs with this walker. cJSON hands strings
 * back NUL-terminated and re-prints numbers its own way; reading the text
 * keeps every byte as the server sent it. The walker only follows
 * structure: every step stays inside [0, len) whatever the input. Matching
 * mimics cJSON_GetObjectItemCaseSensitive: the first member whose name,
 * decoded and read as a C string, equals the name asked for.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BOM "\xef\xbb\xbf" /* a UTF-8 byte order mark */

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

/* 1 when the string literal lit[0..n) names `name` as cJSON reads it:
 * decoded (msp_json_string_decode, as cJSON read the context document),
 * and compared as a C string (up to its first NUL). */
static int key_is(const char *lit, size_t n, const char *name, size_t nlen)
{
    char buf[64];
    size_t used, got;
    if (nlen + 1 > sizeof buf ||
        msp_json_string_decode(lit, n, &used, buf, nlen + 1, &got,
                               MSP_JSON_STR_AS_CJSON) != 0)
        return 0;
    if (got > nlen + 1)
        got = nlen + 1;
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

    if (len >= MSP_STRLEN(BOM) && memcmp(json, BOM, MSP_STRLEN(BOM)) == 0)
        i = MSP_STRLEN(BOM); /* cJSON skips a UTF-8 byte order mark */
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
        unsigned cp;
        if (end - p >= 6 && p[1] == 'u' &&
            (Msp_hex4(p + 2, (size_t)(end - p - 2), &cp) != 0 || cp == 0))
            return 1; /* cJSON reads a bad hex digit as U+0000 */
        if (end - p <= 2)
            break;
        p += 2; /* past the escaped character */
    }
    return 0;
}

size_t Msp_json_compact(const char *json, size_t len, char *out)
{
    size_t i = 0, w = 0;
    if (len >= MSP_STRLEN(BOM) && memcmp(json, BOM, MSP_STRLEN(BOM)) == 0)
        i = MSP_STRLEN(BOM);
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

/* ---- strict validation ---------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Index past the number at json[i], or 0 when it is not RFC 8259's
 * -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? (no "5.", "-07", "01", "+1", ".5"). */
static size_t strict_number(const char *j, size_t len, size_t i)
{
    if (i < len && j[i] == '-')
        i++;
    if (i >= len || !is_digit(j[i]))
        return 0;
    if (j[i] == '0')
        i++;
    else
        while (i < len && is_digit(j[i]))
            i++;
    if (i < len && j[i] == '.') {
        if (++i >= len || !is_digit(j[i]))
            return 0;
        while (i < len && is_digit(j[i]))
            i++;
    }
    if (i < len && (j[i] == 'e' || j[i] == 'E')) {
        i++;
        if (i < len && (j[i] == '+' || j[i] == '-'))
            i++;
        if (i >= len || !is_digit(j[i]))
            return 0;
        while (i < len && is_digit(j[i]))
            i++;
    }
    return i;
}

/* Index past the string at json[i] (a '"'), or 0: the one decoder's rule
 * (msp_util.h), which takes lone surrogates and bytes that are not UTF-8,
 * as a JS runtime's text() and JSON.parse do. */
static size_t strict_string(const char *j, size_t len, size_t i)
{
    size_t used, n;
    if (msp_json_string_decode(j + i, len - i, &used, NULL, 0, &n, 0) != 0)
        return 0;
    return i + used;
}

static size_t literal(const char *j, size_t len, size_t i, const char *word)
{
    size_t n = strlen(word);
    return len - i >= n && memcmp(j + i, word, n) == 0 ? i + n : 0;
}

int Msp_json_valid(const char *j, size_t len)
{
    size_t i = 0, depth = 0, room = 0;
    unsigned char *stack = NULL; /* one bit per open container: 1 object */
    int ok = 0;

    if (len >= MSP_STRLEN(BOM) && memcmp(j, BOM, MSP_STRLEN(BOM)) == 0)
        i = MSP_STRLEN(
            BOM); /* a fetch() text() drops a UTF-8 byte order mark */
    /* expect a value */
value:
    while (i < len && is_ws(j[i]))
        i++;
    if (i >= len)
        goto done;
    switch (j[i]) {
    case '{':
    case '[': {
        int obj = j[i] == '{';
        if (depth / 8 >= room) {
            size_t grown = room ? room * 2 : 64;
            unsigned char *s = realloc(stack, grown);
            if (!s) {
                ok = -1;
                goto done;
            }
            memset(s + room, 0, grown - room);
            stack = s;
            room = grown;
        }
        if (obj)
            stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
        else
            stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
        depth++;
        i++;
        while (i < len && is_ws(j[i]))
            i++;
        if (i < len && j[i] == (obj ? '}' : ']')) {
            depth--;
            i++;
            goto after;
        }
        if (obj)
            goto key;
        goto value;
    }
    case '"': i = strict_string(j, len, i); break;
    case 't': i = literal(j, len, i, "true"); break;
    case 'f': i = literal(j, len, i, "false"); break;
    case 'n': i = literal(j, len, i, "null"); break;
    default: i = strict_number(j, len, i); break;
    }
    if (i == 0)
        goto done;
after:
    while (i < len && is_ws(j[i]))
        i++;
    if (depth == 0) {
        ok = i == len;
        goto done;
    }
    if (i >= len)
        goto done;
    {
        int obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
        if (j[i] == ',') {
            i++;
            if (obj)
                goto key;
            goto value;
        }
        if (j[i] != (obj ? '}' : ']'))
            goto done;
        depth--;
        i++;
        goto after;
    }
key:
    while (i < len && is_ws(j[i]))
        i++;
    if (i >= len || j[i] != '"' || (i = strict_string(j, len, i)) == 0)
        goto done;
    while (i < len && is_ws(j[i]))
        i++;
    if (i >= len || j[i] != ':')
        goto done;
    i++;
    goto value;
done:
    free(stack);
    return ok;
}
