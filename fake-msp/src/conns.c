/* conns.c — open connections and the receive budget (see conns.h). */
#include "conns.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

#define SWEEP_MS 100

typedef struct conn {
    struct conn *prev, *next;
    fm_conns *owner;
    int fd;
    /* the current request began; 0: not receiving. Atomic: its connection's
     * thread sets it twice per request without the list lock (a global lock
     * taken per request was contended between the pool threads); the
     * sweeper reads it under the lock, which keeps k alive */
    atomic_llong start_ms;
    int expired;
} conn;

struct fm_conns {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running;
    int stop;
    long long budget_ms;
    conn head; /* sentinel of a circular list */
    atomic_ullong expired;
};

static void *sweeper(void *arg)
{
    fm_conns *cs = arg;
    struct timespec ts;

    pthread_mutex_lock(&cs->lock);
    while (!cs->stop) {
        long long now = fm_mono_ms();
        conn *k;
        for (k = cs->head.next; k != &cs->head; k = k->next) {
            long long start = atomic_load(&k->start_ms);
            if (start && !k->expired && now - start > cs->budget_ms) {
                /* under the lock: the fd is open until CLOSED is notified */
                shutdown(k->fd, SHUT_RDWR);
                k->expired = 1;
                atomic_fetch_add(&cs->expired, 1);
            }
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SWEEP_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
}

fm_conns *fm_conns_new(long long budget_ms)
{
    fm_conns *cs = calloc(1, sizeof *cs);

    if (!cs)
        return NULL;
    cs->budget_ms = budget_ms;
    cs->head.next = cs->head.prev = &cs->head;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->wake, NULL);
    if (pthread_create(&cs->thread, NULL, sweeper, cs) != 0) {
        fm_conns_free(cs);
        return NULL;
    }
    cs->running = 1;
    return cs;
}

void fm_conns_stop(fm_conns *cs)
{
    if (!cs || !cs->running)
        return;
    pthread_mutex_lock(&cs->lock);
    cs->stop = 1;
    pthread_cond_signal(&cs->wake);
    pthread_mutex_unlock(&cs->lock);
    pthread_join(cs->thread, NULL);
    cs->running = 0;
}

void fm_conns_free(fm_conns *cs)
{
    conn *k, *next;

    if (!cs)
        return;
    fm_conns_stop(cs);
    for (k = cs->head.next; k != &cs->head; k = next) {
        next = k->next;
        free(k);
    }
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

void fm_conns_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                     enum MHD_ConnectionNotificationCode code)
{
    fm_conns *cs = cls;
    conn *k;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k = calloc(1, sizeof *k);
        if (!k || !ci) {
            free(k);
            return; /* not timed; the idle timeout still applies */
        }
        k->owner = cs;
        k->fd = ci->connect_fd;
        atomic_init(&k->start_ms, fm_mono_ms());
        pthread_mutex_lock(&cs->lock);
        k->next = cs->head.next;
        k->prev = &cs->head;
        cs->head.next->prev = k;
        cs->head.next = k;
        pthread_mutex_unlock(&cs->lock);
        *socket_ctx = k;
        return;
    }
    k = *socket_ctx;
    if (!k)
        return;
    pthread_mutex_lock(&cs->lock);
    k->prev->next = k->next;
    k->next->prev = k->prev;
    pthread_mutex_unlock(&cs->lock);
    free(k);
    *socket_ctx = NULL;
}

static void set_start(struct MHD_Connection *c, long long start)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn *k = ci ? ci->socket_context : NULL;

    /* only this connection's thread frees k (on CLOSED): no lock needed */
    if (k)
        atomic_store(&k->start_ms, start);
}

void fm_conns_received(struct MHD_Connection *c)
{
    set_start(c, 0);
}

void fm_conns_request_done(struct MHD_Connection *c)
{
    set_start(c, fm_mono_ms());
}

unsigned long long fm_conns_expired(fm_conns *cs)
{
    return atomic_load(&cs->expired);
}
