/* run_tool.c — see run_tool.h. */
#include "run_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_spawn.h"

int spawn_capture(char *const argv[], long timeout_ms, spawned *r)
{
    hx_spawn_opts o = {.timeout_ms = timeout_ms};
    hx_spawned sr;
    if (hx_spawn_run((const char *const *)argv, &o, &sr, NULL, 0) != 0)
        return -1;
    r->status = sr.status;
    r->out = sr.out;
    r->err = sr.err;
    return 0;
}

void spawned_free(spawned *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *bin_path(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("MSP_BIN_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "build/bin", name);
    return buf;
}

const char *src_path(const char *rel, char *buf, size_t len)
{
    const char *dir = getenv("MSP_SOURCE_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : ".", rel);
    return buf;
}

int write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}
