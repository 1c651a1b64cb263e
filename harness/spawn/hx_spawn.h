/*
 * hx_spawn.h — the one process spawner of the project: the harness runs
 * executor programs and state commands with it, the tests run the
 * programs they check, the benchmarks time process creation.
 *
 * A child gets argv exactly as given (no shell, no length limit), its own
 * process group (so a deadline kills whatever it started too), stdin from
 * bytes, a file or /dev/null, and stdout/stderr captured up to a cap (the
 * rest is read and counted, never kept) or discarded, and optionally
 * more open fds as 3, 4, ... (e.g. a memfd holding a key, which it opens
 * as /dev/fd/3: nothing on disk). Every wait has a deadline; the end of a
 * child is its exit, not EOF on its output (a background process it leaves
 * may hold the pipes open). Pipes are close-on-exec, so concurrent spawns from
 * several threads never hold each other's pipes open.
 *
 * Ownership: hx_spawned buffers are malloc'd, released by hx_spawned_free()
 * (NULL-safe). Functions never print and never exit.
 */
#ifndef HX_SPAWN_H
#define HX_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes kept of each captured stream unless the caller names a cap. */
#define HX_SPAWN_DEFAULT_CAP (64u * 1024u * 1024u)

/* Most fds a child inherits besides stdin, stdout and stderr. */
#define HX_SPAWN_MAX_PASS_FDS 8

/* Where a child's stderr goes while its stdout is captured. */
enum {
    HX_STDERR_PIPE = 0,
    HX_STDERR_DISCARD,
    HX_STDERR_INHERIT
};

typedef struct hx_spawn_opts {
    const char *const *envp; /* NULL: this process's environment */
    const char *in;          /* written to stdin, which is then closed */
    size_t in_len;
    const char *stdin_path; /* when in == NULL: stdin from this file;
                             * both NULL: /dev/null */
    int discard;            /* 1: stdout and stderr go to /dev/null */
    int inherit_output;     /* 1: stdout and stderr are the caller's */
    int stderr_to;          /* when neither of the above: HX_STDERR_PIPE
                             * (captured), HX_STDERR_DISCARD (/dev/null) or
                             * HX_STDERR_INHERIT (the caller's stderr) */
    size_t out_cap;         /* bytes of stdout kept; 0: the default cap */
    size_t err_cap;         /* bytes of stderr kept; 0: the default cap */
    long long timeout_ms;   /* the process group is killed (SIGKILL) this
                             * long after the start; <= 0: no deadline */
    int search_path;        /* 1: argv[0] is looked up in PATH */
    const int *pass_fds;    /* pass_fds[i] is the child's fd 3 + i (the
                             * caller keeps and closes its own) */
    size_t n_pass_fds;      /* at most HX_SPAWN_MAX_PASS_FDS */
} hx_spawn_opts;

/* What a finished child left. */
typedef struct hx_spawned {
    char *out; /* NUL-terminated (not counted); may hold NUL bytes */
    size_t out_len;
    size_t out_total; /* bytes it wrote; > out_len when cut at the cap */
    char *err;
    size_t err_len;
    size_t err_total;
    int status;    /* exit status, or 128 + signal */
    int exited;    /* 1: it exited; 0: a signal ended it */
    int signal;    /* the signal, when !exited */
    int timed_out; /* killed at the deadline */
    long long elapsed_ms;
} hx_spawned;

/* A started child. */
typedef struct hx_proc {
    pid_t pid;
    int in_fd;  /* write end of its stdin, or -1 */
    int out_fd; /* read end of its stdout, or -1 (discarded) */
    int err_fd; /* read end of its stderr, or -1 */
    long long started_ms;
} hx_proc;

/* Monotonic milliseconds. */
long long hx_spawn_now_ms(void);

/* Starts argv[0] with argv (NULL-terminated). With o->in, the caller feeds
 * p->in_fd (hx_spawn_finish does). Returns 0, or -1 with a reason in
 * errbuf (errbuf may be NULL).
 *
 * Process-wide side effect: the first call sets SIGPIPE to SIG_IGN for the
 * whole process, and it stays so. A child that exits before reading all of
 * its stdin would otherwise kill the caller with SIGPIPE while
 * hx_spawn_finish feeds it; with SIGPIPE ignored that write fails with
 * EPIPE instead, which hx_spawn_finish reports. A program that needs
 * SIGPIPE's default action must restore it itself after spawning. */
int hx_spawn_start(const char *const argv[], const hx_spawn_opts *o, hx_proc *p,
                   char *errbuf, size_t errlen);

/* Feeds o->in, reads stdout/stderr to their caps until both close, reaps
 * the child; at the deadline kills its process group. Fills *r (always,
 * even on error) and returns 0, or -1 when reading failed. Closes p's fds. */
int hx_spawn_finish(hx_proc *p, const hx_spawn_opts *o, hx_spawned *r);

/* hx_spawn_start + hx_spawn_finish. Returns 0, or -1 (errbuf says why). */
int hx_spawn_run(const char *const argv[], const hx_spawn_opts *o,
                 hx_spawned *r, char *errbuf, size_t errlen);

/* Sends SIGTERM to the child's process group, waits up to grace_ms, then
 * SIGKILL; reaps it and closes p's fds. Returns its wait status. */
int hx_proc_stop(hx_proc *p, long long grace_ms);

/* Waits up to timeout_ms (0: only looks; < 0: forever) for the child to
 * end; returns 1 with *status (wait status) set when it did, 0 when it
 * still runs. */
int hx_proc_wait(hx_proc *p, long long timeout_ms, int *status);

void hx_spawned_free(hx_spawned *r);

/* From now on SIGINT and SIGTERM first kill (SIGKILL) the process group of
 * every child started here that has not been reaped yet, then end this
 * process by the same signal: the children have process groups of their
 * own, so a Ctrl-C at the terminal does not reach them, and they would
 * outlive the caller. Blocks both signals in the calling thread and starts
 * a thread that waits for them: call it before any other thread exists.
 * For commands without a cleanup of their own (verify); provider has its
 * handlers (interrupt.c). */
void hx_spawn_kill_children_on_signal(void);

#ifdef __cplusplus
}
#endif
#endif /* HX_SPAWN_H */
