/*
 * fuzz_check.h - the invariant check shared by the fuzz targets.
 *
 * CHECK(cond) aborts with the file, line and condition when cond is false;
 * libFuzzer reports the abort as a crash and saves the input.
 */
#ifndef MSP_FUZZ_CHECK_H
#define MSP_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
                    __LINE__, #cond);                                  \
            abort();                                                   \
        }                                                              \
    } while (0)

#endif
