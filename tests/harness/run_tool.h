/* run_tool.h — runs a program and captures what it prints, for tests that
 * drive the command-line tools from outside. */
#ifndef TEST_RUN_TOOL_H
#define TEST_RUN_TOOL_H

#include <stddef.h>

typedef struct spawned {
    int status; /* exit status, or 128+signal */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
} spawned;

/* Runs argv (argv[0] a path) in this process's environment with a
 * deadline, killing it past timeout_ms. Returns 0 and fills *r, or -1. */
int spawn_capture(char *const argv[], long timeout_ms, spawned *r);
void spawned_free(spawned *r);

/* $MSP_BIN_DIR/name and $MSP_SOURCE_DIR/rel, in static buffers per call site.
 */
const char *bin_path(const char *name, char *buf, size_t len);
const char *src_path(const char *rel, char *buf, size_t len);

/* Writes text to dir/name; returns 0 or -1. */
int write_file(const char *dir, const char *name, const char *text);

/* Counts lines of `text` that start with `prefix`. */
int count_lines(const char *text, const char *prefix);

#endif
