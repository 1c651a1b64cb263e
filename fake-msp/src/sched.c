/* sched.c — timer thread for suspended connections (see sched.h). */
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "util.h"

struct sched {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_cond_t changed; /* broadcast whenever n_jobs changes */
    pthread_t thread;
    sched_job *jobs;
    size_t n_jobs;
    int stopping;
    int stopped;
};

/* Writes the job's next chunk (raw, body and tail are one stream). Returns
 * 1 when the job is finished. */
static int step(sched_job *j, long long now)
{
    const char *seg[3] = {j->raw, j->body, j->tail};
    size_t len[3] = {j->raw_len, j->body_len, j->tail_len};
    size_t total = len[0] + len[1] + len[2];
    size_t want = total - j->raw_off, off = j->raw_off, k, left;
    struct iovec iov[3];
    struct msghdr msg;
    int n_iov = 0;
    ssize_t n;

    if (j->chunk && want > j->chunk)
        want = j->chunk;
    if (want) {
        left = want;
        for (k = 0; k < 3 && left; k++) {
            size_t take;
            if (off >= len[k]) {
                off -= len[k];
                continue;
            }
            take = len[k] - off < left ? len[k] - off : left;
            iov[n_iov].iov_base = (void *)(seg[k] + off);
            iov[n_iov].iov_len = take;
            n_iov++;
            left -= take;
            off = 0;
        }
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)n_iov;
        n = sendmsg(j->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
            j->write_failed = 1;
            return 1;
        }
        if (n > 0)
            j->raw_off += (size_t)n;
        if (j->raw_off < total) {
            /* a full socket buffer is retried soon, a dribble waits */
            j->due_ms = now + (n > 0 && j->chunk ? j->interval_ms : 1);
            return 0;
        }
    }
    return 1;
}

/* Has the client of a hanging request gone away (FIN or reset)? */
static int peer_gone(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

    return n == 0 ||
           (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Removes the job at *pp and resumes its connection (lock held). */
static void finish(sched *s, sched_job **pp)
{
    sched_job *j = *pp;

    *pp = j->next;
    s->n_jobs--;
    pthread_cond_broadcast(&s->changed);
    MHD_resume_connection(j->conn);
}

/* Releases the hangs whose client gave up, so abandoned connections do not
 * pile up until the server stops (lock held). */
static void probe_hangs(sched *s)
{
    sched_job **pp = &s->jobs;

    while (*pp) {
        if ((*pp)->due_ms == SCHED_NEVER && peer_gone((*pp)->fd)) {
            (*pp)->write_failed = 1;
            finish(s, pp);
        } else {
            pp = &(*pp)->next;
        }
    }
}

static void *run(void *arg)
{
    sched *s = arg;
    long long next_probe = fm_mono_ms() + SCHED_PROBE_MS;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        sched_job **pp, **best = NULL;
        long long now = fm_mono_ms(), wake = SCHED_NEVER;
        int hangs = 0;
        if (now >= next_probe) {
            probe_hangs(s);
            next_probe = now + SCHED_PROBE_MS;
        }
        for (pp = &s->jobs; *pp; pp = &(*pp)->next) {
            if ((*pp)->due_ms == SCHED_NEVER)
                hangs = 1;
            else if (!best || (*pp)->due_ms < (*best)->due_ms)
                best = pp;
        }
        if (best)
            wake = (*best)->due_ms;
        if (hangs && next_probe < wake)
            wake = next_probe;
        if (wake == SCHED_NEVER) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else if (wake > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)((wake - now) / 1000);
            ts.tv_nsec += (long)((wake - now) % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        } else if (best) { /* wake <= now: the best job is due */
            /* Write without the lock, so a long dribble never holds up
             * fm_sched_add() (the event loop) or fm_sched_stop(). The job stays
             * counted; fm_sched_stop() joins this thread before draining. */
            sched_job *j = *best;
            int done;
            *best = j->next;
            pthread_mutex_unlock(&s->lock);
            done = step(j, now);
            pthread_mutex_lock(&s->lock);
            j->next = s->jobs;
            s->jobs = j;
            if (done)
                finish(s, &s->jobs);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

sched *fm_sched_new(void)
{
    sched *s = calloc(1, sizeof *s);
    pthread_condattr_t attr;

    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        pthread_cond_destroy(&s->changed);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

int fm_sched_add(sched *s, sched_job *job)
{
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    /* suspend under the lock, so the thread cannot resume it first */
    MHD_suspend_connection(job->conn);
    job->next = s->jobs;
    s->jobs = job;
    s->n_jobs++;
    pthread_cond_signal(&s->cond);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void fm_sched_stop(sched *s)
{
    sched_job *j;

    pthread_mutex_lock(&s->lock);
    if (s->stopped) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->lock);
    s->stopped = 1;
    while ((j = s->jobs) != NULL) {
        s->jobs = j->next;
        s->n_jobs--;
        j->write_failed = 1;
        MHD_resume_connection(j->conn);
    }
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

size_t fm_sched_count(sched *s)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->n_jobs;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Waits until n_jobs >= n (at_least) or n_jobs <= n, or the deadline. */
static int wait_jobs(sched *s, size_t n, int at_least, long timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while ((at_least ? s->n_jobs < n : s->n_jobs > n) && rc == 0)
        rc = pthread_cond_timedwait(&s->changed, &s->lock, &ts);
    rc = (at_least ? s->n_jobs >= n : s->n_jobs <= n) ? 0 : -1;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int fm_sched_wait_count(sched *s, size_t n, long timeout_ms)
{
    return wait_jobs(s, n, 1, timeout_ms);
}

int fm_sched_wait_at_most(sched *s, size_t n, long timeout_ms)
{
    return wait_jobs(s, n, 0, timeout_ms);
}

void fm_sched_free(sched *s)
{
    if (!s)
        return;
    fm_sched_stop(s);
    pthread_cond_destroy(&s->changed);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
