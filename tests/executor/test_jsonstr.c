/*
 * test_jsonstr.c — the one JSON string decoder (msp_json_string_decode)
 * and every reader that decodes JSON strings with it, against the shared
 * vectors tests/vectors/json_strings.txt (format described there): the
 * decoder itself, the executor's response mapping (row 6, or row 9 for a
 * literal refused), contracts' mspf_json_parse, and fake-msp's door check
 * fm_json_strict (values, member names, duplicate members). Each reader
 * must decode each literal to the same bytes or refuse it.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contracts/fixture.h>
#include <executor/msp_executor.h>
#include <executor/msp_util.h>

#include "strict.h" /* fake-msp/src */

#define MAX_VECTORS 128
#define MAX_BYTES   64

typedef struct vector {
    char name[48];
    char lit[MAX_BYTES];
    size_t lit_len;
    int error; /* the literal is refused */
    char want[MAX_BYTES];
    size_t want_len;
} vector;

static vector vec[MAX_VECTORS];
static size_t nvec;

static int hexdigit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static size_t unhex(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        int hi = hexdigit(s[0]), lo = hexdigit(s[1]);
        cr_assert(hi >= 0 && lo >= 0 && n < cap, "bad hex in vector: %s", s);
        out[n++] = (char)(hi * 16 + lo);
    }
    cr_assert_eq(*s, '\0', "odd hex digits in vector");
    return n;
}

/* Reads the vector file, which reaches the test through MSP_SOURCE_DIR. */
static void load(void)
{
    const char *src = getenv("MSP_SOURCE_DIR");
    char path[4096], line[512];
    cr_assert(src, "MSP_SOURCE_DIR must be set by ctest");
    snprintf(path, sizeof path, "%s/tests/vectors/json_strings.txt", src);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    nvec = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *in = strchr(line, '\t');
        char *want = in ? strchr(in + 1, '\t') : NULL;
        cr_assert(want, "not three TAB-separated fields: %s", line);
        *in++ = '\0';
        *want++ = '\0';
        cr_assert_lt(nvec, MAX_VECTORS);
        vector *v = &vec[nvec++];
        snprintf(v->name, sizeof v->name, "%.40s", line);
        if (strncmp(in, "t:", 2) == 0) {
            v->lit_len = strlen(in + 2);
            cr_assert_lt(v->lit_len, MAX_BYTES);
            memcpy(v->lit, in + 2, v->lit_len);
        } else {
            cr_assert(strncmp(in, "x:", 2) == 0,
                      "%s: input is t: or x:", v->name);
            v->lit_len = unhex(in + 2, v->lit, MAX_BYTES);
        }
        v->error = strcmp(want, "ERROR") == 0;
        if (!v->error && strcmp(want, "-") != 0)
            v->want_len = unhex(want, v->want, MAX_BYTES);
    }
    fclose(f);
    cr_assert_gt(nvec, 40, "the vector file looks cut short");
}

static int has_nul(const vector *v)
{
    return !v->error && memchr(v->want, '\0', v->want_len) != NULL;
}

/* prefix + v's literal + suffix, in buf (NUL-terminated); its length. */
static size_t wrap(char *buf, size_t cap, const char *prefix, const vector *v,
                   const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    cr_assert_lt(a + v->lit_len + b, cap);
    memcpy(buf, prefix, a);
    memcpy(buf + a, v->lit, v->lit_len);
    memcpy(buf + a + v->lit_len, suffix, b + 1);
    return a + v->lit_len + b;
}

/* A literal that decodes to v's bytes, written differently: raw bytes,
 * with '"', '\\' and control bytes as \u00XX. */
static size_t respell(const vector *v, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < v->want_len; i++) {
        unsigned char c = (unsigned char)v->want[i];
        cr_assert_lt(n + 8, cap);
        if (c < 0x20 || c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

TestSuite(jsonstr, .init = load, .timeout = TEST_TIMEOUT(10));

Test(jsonstr, the_decoder_reads_every_vector_as_the_file_says)
{
    for (size_t i = 0; i < nvec; i++) {
        const vector *v = &vec[i];
        char out[MAX_BYTES];
        size_t used = 0, n = 0;
        int rc = msp_json_string_decode(v->lit, v->lit_len, &used, out,
                                        sizeof out, &n, 0);
        if (v->error) {
            cr_expect_neq(rc, 0, "%s: refused", v->name);
            continue;
        }
        cr_expect_eq(rc, 0, "%s: %s", v->name, msp_json_string_strerror(rc));
        cr_expect_eq(used, v->lit_len, "%s: the whole literal", v->name);
        cr_expect(n == v->want_len && memcmp(out, v->want, n) == 0,
                  "%s: decoded bytes", v->name);
        /* measuring alone gives the same answer */
        size_t n2 = 0;
        cr_expect_eq(
            msp_json_string_decode(v->lit, v->lit_len, &used, NULL, 0, &n2, 0),
            0);
        cr_expect_eq(n2, n, "%s: measured", v->name);
        cr_expect_eq(msp_json_string_decode(v->lit, v->lit_len, &used, out,
                                            sizeof out, &n2,
                                            MSP_JSON_STR_NO_NUL),
                     has_nul(v) ? MSP_JSON_STR_ENUL : 0,
                     "%s: MSP_JSON_STR_NO_NUL", v->name);
    }
}

Test(jsonstr, the_executor_maps_every_vector_as_the_file_says)
{
    for (size_t i = 0; i < nvec; i++) {
        const vector *v = &vec[i];
        char body[256];
        size_t len =
            wrap(body, sizeof body, "{\"exit_code\":0,\"stdout\":", v, "}");
        msp_result r;
        cr_assert_eq(msp_map_response(200, body, len, &r), MSP_OK);
        if (v->error) {
            cr_expect_eq(r.row, 9, "%s: not JSON (row 9), row %d", v->name,
                         r.row);
        } else {
            cr_expect_eq(r.row, 6, "%s: row %d", v->name, r.row);
            cr_expect(r.out_len == v->want_len &&
                          memcmp(r.out, v->want, r.out_len) == 0,
                      "%s: stdout bytes", v->name);
        }
        msp_result_free(&r);
    }
}

Test(jsonstr, contracts_parse_every_vector_as_the_file_says)
{
    for (size_t i = 0; i < nvec; i++) {
        const vector *v = &vec[i];
        char doc[256];
        size_t len = wrap(doc, sizeof doc, "{\"a\":[", v, "]}");
        mspf_json *d = NULL;
        int rc = mspf_json_parse(doc, len, &d);
        if (v->error) {
            cr_expect_neq(rc, 0, "%s: not JSON", v->name);
            mspf_json_free(d);
            continue;
        }
        cr_assert_eq(rc, 0, "%s: parsed", v->name);
        const cJSON *a =
            cJSON_GetObjectItemCaseSensitive(mspf_json_root(d), "a");
        size_t n = 0;
        const char *s = mspf_json_string(d, a ? a->child : NULL, &n);
        cr_expect(s && n == v->want_len && memcmp(s, v->want, n) == 0,
                  "%s: string bytes", v->name);
        mspf_json_free(d);
    }
}

Test(jsonstr, fake_msp_checks_every_vector_as_value_and_as_member_name)
{
    char msg[256];
    for (size_t i = 0; i < nvec; i++) {
        const vector *v = &vec[i];
        char doc[256];
        int refused = v->error || has_nul(v);
        size_t len = wrap(doc, sizeof doc, "{\"k\":", v, "}");
        cr_expect_eq(fm_json_strict(doc, len, msg, sizeof msg),
                     refused ? -1 : 0, "%s as a value: %s", v->name, msg);
        len = wrap(doc, sizeof doc, "{", v, ":1}");
        cr_expect_eq(fm_json_strict(doc, len, msg, sizeof msg),
                     refused ? -1 : 0, "%s as a name: %s", v->name, msg);
        if (refused)
            continue;
        /* the same bytes spelt another way: the same member twice */
        char other[128];
        respell(v, other, sizeof other);
        char suffix[160];
        snprintf(suffix, sizeof suffix, ":1,%s:2}", other);
        len = wrap(doc, sizeof doc, "{", v, suffix);
        cr_expect_eq(fm_json_strict(doc, len, msg, sizeof msg), -1,
                     "%s: %s is the same name", v->name, other);
        cr_expect(strncmp(msg, "duplicate member", 16) == 0, "%s: %s", v->name,
                  msg);
    }
}

Test(jsonstr, fake_msp_finds_duplicates_exactly_where_the_decoded_names_match)
{
    char msg[256];
    size_t dups = 0;
    for (size_t i = 0; i < nvec; i++)
        for (size_t j = i + 1; j < nvec; j++) {
            const vector *a = &vec[i], *b = &vec[j];
            if (a->error || b->error || has_nul(a) || has_nul(b))
                continue;
            int same = a->want_len == b->want_len &&
                       memcmp(a->want, b->want, a->want_len) == 0;
            char doc[256], mid[96];
            cr_assert_lt(b->lit_len + 8, sizeof mid);
            memcpy(mid, ":1,", 3);
            memcpy(mid + 3, b->lit, b->lit_len);
            memcpy(mid + 3 + b->lit_len, ":2}", 4);
            size_t len = wrap(doc, sizeof doc, "{", a, mid);
            cr_expect_eq(fm_json_strict(doc, len, msg, sizeof msg),
                         same ? -1 : 0, "%s and %s: %s", a->name, b->name,
                         same ? "the same name" : msg);
            dups += (size_t)same;
        }
    /* lone surrogates, \ufffd and raw EF BF BD are one name; so are
     * \u00e9 and raw C3 A9, and the spellings of one emoji */
    cr_expect_geq(dups, 10);
}

/* The finding itself, by name: "\ud800" and "\udbff" decode to the same
 * bytes, so they are one member name, and each reader agrees. */
Test(jsonstr, two_different_lone_surrogates_are_one_member_name)
{
    static const char doc[] = "{\"\\ud800\":1,\"\\udbff\":2}";
    char msg[128];
    cr_expect_eq(fm_json_strict(doc, sizeof doc - 1, msg, sizeof msg), -1);
    cr_expect_str_eq(msg, "duplicate member \"\xEF\xBF\xBD\"");
    mspf_json *d = NULL;
    cr_assert_eq(mspf_json_parse(doc, sizeof doc - 1, &d), 0,
                 "contracts read a lone surrogate, as U+FFFD");
    const cJSON *root = mspf_json_root(d);
    cr_assert(root && root->child && root->child->next);
    cr_expect_str_eq(root->child->string, root->child->next->string);
    cr_expect_str_eq(root->child->string, "\xEF\xBF\xBD");
    mspf_json_free(d);
}

/* cJSON reads "\u00g0" as U+0000 and cut "tool" there, unseen by the door
 * check; the one decoder refuses the escape. */
Test(jsonstr, a_bad_hex_escape_is_refused_not_read_as_nul)
{
    static const char doc[] = "{\"tool\":\"get_device\\u00g0x\"}";
    char msg[128];
    cr_expect_eq(fm_json_strict(doc, sizeof doc - 1, msg, sizeof msg), -1);
    cr_expect_str_eq(msg, "an escape JSON does not have in \"tool\"");
}

Test(jsonstr, lone_surrogates_are_rewritten_for_cjson_in_place)
{
    char text[] = "[\"\\ud800\",\"\\\\ud800\",\"\\ud83d\\ude00\",\"\\udc00"
                  "\\ud800\\u0041\"]";
    cr_expect_eq(msp_json_fffd_lone_surrogates(text, sizeof text - 1), 3);
    cr_expect_str_eq(text, "[\"\\ufffd\",\"\\\\ud800\",\"\\ud83d\\ude00\","
                           "\"\\ufffd\\ufffd\\u0041\"]");
}

/* MSP_JSON_STR_AS_CJSON, for member names of text cJSON parsed (the
 * executor's context document): cJSON's reading of what the rule refuses,
 * the rule for everything else. */
Test(jsonstr, the_cjson_flag_reads_raw_control_bytes_and_bad_hex_as_cjson)
{
    char out[16];
    size_t used, n;
    cr_assert_eq(msp_json_string_decode("\"a\x01\"", 4, &used, out, sizeof out,
                                        &n, MSP_JSON_STR_AS_CJSON),
                 0);
    cr_expect(n == 2 && memcmp(out, "a\x01", 2) == 0);
    cr_assert_eq(msp_json_string_decode("\"a\\u00g0b\"", 10, &used, out,
                                        sizeof out, &n, MSP_JSON_STR_AS_CJSON),
                 0);
    cr_expect(n == 3 && memcmp(out, "a\0b", 3) == 0);
    cr_expect_eq(msp_json_string_decode("\"\\ud800\"", 8, &used, out,
                                        sizeof out, &n, MSP_JSON_STR_AS_CJSON),
                 0);
    cr_expect(n == 3 && memcmp(out, "\xEF\xBF\xBD", 3) == 0);
    cr_expect_eq(msp_json_string_decode("\"\\u12\"", 6, &used, out, sizeof out,
                                        &n, MSP_JSON_STR_AS_CJSON),
                 MSP_JSON_STR_EESCAPE, "cJSON refuses a cut \\u too");
}
