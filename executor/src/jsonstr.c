/*
 * jsonstr.c — the one JSON string decoder (msp_util.h states its rule and
 * why), and the hex-digit reader and UTF-8 encoder the executor's other
 * JSON code shares.
 */
#include <stddef.h>
#include <string.h>

#include "executor/msp_util.h"
#include "internal.h"

int Msp_hex4(const char *p, size_t n, unsigned *v)
{
    unsigned x = 0;
    if (n < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= '0' && c <= '9')
            x = x * 16 + (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            x = x * 16 + (unsigned)((c | 0x20) - 'a' + 10);
        else
            return -1;
    }
    *v = x;
    return 0;
}

size_t Msp_utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The escape at in[i] ('\\', with in[i + 1] present): its code point in
 * *cp and its length in *used; 0, or MSP_JSON_STR_EESCAPE. */
static int escape(const char *in, size_t n, size_t i, unsigned flags,
                  unsigned *cp, size_t *used)
{
    unsigned lo;
    *used = 2;
    switch (in[i + 1]) {
    case '"':
    case '\\':
    case '/': *cp = (unsigned char)in[i + 1]; return 0;
    case 'b': *cp = '\b'; return 0;
    case 'f': *cp = '\f'; return 0;
    case 'n': *cp = '\n'; return 0;
    case 'r': *cp = '\r'; return 0;
    case 't': *cp = '\t'; return 0;
    case 'u': break;
    default: return MSP_JSON_STR_EESCAPE;
    }
    if (Msp_hex4(in + i + 2, n - i - 2, cp) != 0) {
        if (!(flags & MSP_JSON_STR_AS_CJSON) || n - i - 2 < 4)
            return MSP_JSON_STR_EESCAPE;
        *cp = 0; /* cJSON's parse_hex4 gives 0 for a bad digit */
    }
    *used = 6;
    if (*cp < 0xD800 || *cp > 0xDFFF)
        return 0;
    /* a high surrogate and a low one after it make one code point; any
     * other surrogate is lone and reads as U+FFFD */
    if (*cp <= 0xDBFF && n - i >= 12 && in[i + 6] == '\\' && in[i + 7] == 'u' &&
        Msp_hex4(in + i + 8, n - i - 8, &lo) == 0 && lo >= 0xDC00 &&
        lo <= 0xDFFF) {
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
        *used = 12;
    } else {
        *cp = 0xFFFD;
    }
    return 0;
}

int msp_json_string_decode(const char *in, size_t n, size_t *consumed,
                           char *out, size_t cap, size_t *out_len,
                           unsigned flags)
{
    size_t i = 1, w = 0;

    if (!in || n == 0 || in[0] != '"')
        return MSP_JSON_STR_ECUT;
    unsigned char ctl = flags & MSP_JSON_STR_AS_CJSON ? 0 : 0x20;
    while (i < n) {
        /* a run of plain bytes, copied at once: bodies are mostly these */
        size_t run = i;
        while (run < n && in[run] != '"' && in[run] != '\\' &&
               (unsigned char)in[run] >= ctl)
            run++;
        if (run > i) {
            if (w < cap)
                memcpy(out + w, in + i, run - i < cap - w ? run - i : cap - w);
            w += run - i;
            i = run;
            if (i >= n)
                break;
        }
        unsigned char c = (unsigned char)in[i];
        if (c == '"') {
            *consumed = i + 1;
            *out_len = w;
            return 0;
        }
        if (c != '\\')
            return MSP_JSON_STR_ECONTROL;
        if (i + 1 >= n)
            return MSP_JSON_STR_ECUT;
        unsigned cp;
        size_t used;
        int rc = escape(in, n, i, flags, &cp, &used);
        if (rc != 0)
            return rc;
        if (cp == 0 && (flags & MSP_JSON_STR_NO_NUL))
            return MSP_JSON_STR_ENUL;
        char u[4];
        size_t un = Msp_utf8_encode(cp, u);
        for (size_t k = 0; k < un; k++, w++)
            if (w < cap)
                out[w] = u[k];
        i += used;
    }
    return MSP_JSON_STR_ECUT;
}

size_t msp_json_fffd_lone_surrogates(char *text, size_t len)
{
    size_t i = 0, fixed = 0;
    int in_string = 0;

    while (i < len) {
        if (text[i] == '"') {
            in_string = !in_string;
            i++;
            continue;
        }
        if (!in_string || text[i] != '\\' || i + 1 >= len) {
            i++;
            continue;
        }
        unsigned cp, raw;
        size_t used;
        if (escape(text, len, i, 0, &cp, &used) != 0) {
            i += 2; /* not JSON: the parser after us says so */
            continue;
        }
        if (used == 6 && cp == 0xFFFD &&
            Msp_hex4(text + i + 2, len - i - 2, &raw) == 0 && raw != 0xFFFD) {
            memcpy(text + i + 2, "fffd", 4);
            fixed++;
        }
        i += used;
    }
    return fixed;
}

const char *msp_json_string_strerror(int code)
{
    switch (code) {
    case 0: return "no error";
    case MSP_JSON_STR_ECUT: return "a string cut short (no closing quote)";
    case MSP_JSON_STR_ECONTROL: return "a raw control byte";
    case MSP_JSON_STR_EESCAPE: return "an escape JSON does not have";
    case MSP_JSON_STR_ENUL: return "a NUL (\\u0000)";
    default: return "not a JSON string";
    }
}
