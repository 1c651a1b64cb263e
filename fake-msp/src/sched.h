/*
 * sched.h — the timer thread behind delays, hangs, dribbles and raw fault
 * bytes. A job belongs to a suspended MHD connection: the thread writes the
 * job's raw bytes to the socket (chunk by chunk, `interval_ms` apart, the
 * first write at `due_ms`) and then resumes the connection, whose access
 * handler runs again and finishes (queues the response or closes). The
 * event loop never waits. A hang is a job that is never due: fm_sched_stop()
 * resumes it, or the thread once it sees (every SCHED_PROBE_MS) that the
 * client closed or reset the connection.
 */
#ifndef FAKE_MSP_SCHED_H
#define FAKE_MSP_SCHED_H

#include <stddef.h>
#include <microhttpd.h>

#define SCHED_NEVER    (1LL << 62)
#define SCHED_PROBE_MS 200

typedef struct sched_job {
    struct sched_job *next;
    struct MHD_Connection *conn;
    long long due_ms; /* monotonic; SCHED_NEVER for a hang */
    int fd;
    const char *raw; /* bytes to send before resuming (may be NULL) */
    size_t raw_len;
    /* then these, borrowed (a fixture's body, shared by every connection
     * replaying it), then the tail */
    const char *body;
    size_t body_len;
    const char *tail;
    size_t tail_len;
    size_t raw_off;   /* offset in raw + body + tail */
    size_t chunk;     /* bytes per write; 0: as many as the socket takes */
    long interval_ms; /* pause between writes */
    int write_failed; /* the peer went away */
} sched_job;

typedef struct sched sched;

/* Starts the timer thread. NULL on failure. */
sched *fm_sched_new(void);

/* Suspends job->conn (call from its access handler) and queues the job.
 * Returns -1 without suspending once fm_sched_stop() has begun. */
int fm_sched_add(sched *s, sched_job *job);

/* Stops the thread and resumes every connection still waiting (hangs
 * included). Idempotent. */
void fm_sched_stop(sched *s);

/* Jobs waiting right now. */
size_t fm_sched_count(sched *s);

/* Blocks until at least n jobs wait, or timeout_ms passes. Returns 0, or
 * -1 on timeout. */
int fm_sched_wait_count(sched *s, size_t n, long timeout_ms);

/* Blocks until at most n jobs wait, or timeout_ms passes. Returns 0, or
 * -1 on timeout. */
int fm_sched_wait_at_most(sched *s, size_t n, long timeout_ms);

/* fm_sched_stop() if needed, then frees. NULL-safe. */
void fm_sched_free(sched *s);

#endif
