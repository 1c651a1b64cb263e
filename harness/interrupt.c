/*
 * interrupt.c — SIGINT and SIGTERM for commands that must clean up (the
 * provider check tears down every state it set up). The handler only
 * records the signal; the command's loop looks with hx_interrupted(),
 * stops, cleans up and exits 128 + the signal. A second signal while it
 * cleans up is not caught: it ends the process at once (the way out of a
 * teardown that hangs).
 */
#include "harness.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    if (caught) { /* the second one: the default action, now */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        (void)raise(sig);
        return;
    }
    caught = sig;
}

void hx_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking call returns EINTR */
    caught = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void hx_interrupt_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int hx_interrupted(void)
{
    return (int)caught;
}
