/*
 * fuzz_scrub.c — libFuzzer target for the recorder's scrubber
 * (fake-msp/src/scrub.h).
 *
 * Input: the first byte says how many keys (0..3) follow, each as a length
 * byte (0..31) and that many bytes (a NUL ends a key early); the rest is
 * the text. Besides the sanitizers: the scrub ends, leaves no spelling of a
 * key outside its placeholders, changes nothing when it reports no match,
 * and fm_scrub_has agrees with fm_scrub_run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "scrub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char keys[3][32];
    const char *kp[3];
    size_t nk, i, at = 1, len = 0;
    unsigned char *out = NULL;
    fm_scrub *s;
    int rc;

    if (size < 1)
        return 0;
    nk = data[0] % 4;
    for (i = 0; i < nk; i++) {
        size_t kl = at < size ? data[at++] % 32 : 0;
        if (kl > size - at)
            kl = size - at;
        memcpy(keys[i], data + at, kl);
        keys[i][kl] = '\0';
        kp[i] = keys[i];
        at += kl;
    }
    s = fm_scrub_new(kp, nk, 1);
    CHECK(s != NULL);
    rc = fm_scrub_run(s, data + at, size - at, &out, &len);
    CHECK(rc >= 0);
    CHECK((rc == 1) == (fm_scrub_has(s, data + at, size - at) == 1));
    if (rc == 1) {
        CHECK(!fm_scrub_has_again(s, out, len));
        CHECK(out[len] == '\0');
        free(out);
    }
    fm_scrub_free(s);
    return 0;
}
