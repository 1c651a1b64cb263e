/*
 * spawn.h — run a program with given argv, environment and stdin, and
 * capture its stdout, stderr and exit status, with a deadline.
 */
#ifndef MSP_TEST_SPAWN_H
#define MSP_TEST_SPAWN_H

#include <stddef.h>

typedef struct spawn_result {
    char *out; /* NUL-terminated, malloc'd */
    size_t out_len;
    char *err;
    size_t err_len;
    int status;    /* exit status, or 128 + signal */
    int timed_out; /* killed at the deadline */
} spawn_result;

/* Runs argv[0] (a path) with envp (NULL-terminated; NULL: empty env),
 * writing in[0..in_len) to its stdin. Returns 0 or -1 (spawn failed). */
int spawn_run(const char *const argv[], const char *const envp[],
              const char *in, size_t in_len, int timeout_ms, spawn_result *r);
void spawn_result_free(spawn_result *r);

#endif
