#include "ts_crash.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int SIGNALS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const char *const NAMES[] = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"};
#define NSIG_HANDLED ((int)(sizeof SIGNALS / sizeof SIGNALS[0]))

static struct sigaction g_previous[NSIG_HANDLED];
static char g_prefix[48] = "tessera: crashed with signal "; /* "tessera: rank R: crashed with signal " */
/* Two buffers: the stage name is written into the idle one, then g_cur flips, so the handler always reads a
 * complete, NUL-terminated name. */
static char g_stage[2][64] = {"(start-up)", ""};
static volatile sig_atomic_t g_cur;

/* Appends NUL-terminated s to buf at *at, within cap (async-signal-safe: no stdio). */
static void put(char *buf, size_t cap, size_t *at, const char *s)
{
    while (*s && *at + 1 < cap)
        buf[(*at)++] = *s++;
}

static void on_fatal(int sig)
{
    int k = 0;
    while (k < NSIG_HANDLED && SIGNALS[k] != sig)
        k++;
    char line[192];
    size_t at = 0;
    put(line, sizeof line, &at, g_prefix);
    put(line, sizeof line, &at, k < NSIG_HANDLED ? NAMES[k] : "?");
    put(line, sizeof line, &at, " in stage ");
    put(line, sizeof line, &at, g_stage[g_cur]);
    line[at++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, at);
    (void)rc;
    /* Hand the signal to whoever had it before (default action: die with this signal). SA_NODEFER below lets the
     * raise be delivered at once, inside this handler. */
    sigaction(sig, k < NSIG_HANDLED ? &g_previous[k] : NULL, NULL);
    if (k == NSIG_HANDLED)
        signal(sig, SIG_DFL);
    raise(sig);
}

void ts_crash_install(int rank)
{
    snprintf(g_prefix, sizeof g_prefix, "tessera: rank %d: crashed with signal ", rank);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < NSIG_HANDLED; k++)
        sigaction(SIGNALS[k], &sa, &g_previous[k]);
}

void ts_crash_set_stage(const char *stage)
{
    const int next = !g_cur;
    snprintf(g_stage[next], sizeof g_stage[next], "%s", stage);
    g_cur = next;
}
