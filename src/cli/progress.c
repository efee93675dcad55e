/* The progress line: on a terminal only, a fit that has run for more than
 * a second shows its iteration, log-likelihood and rate on one line of
 * stderr, redrawn in place a few times a second and cleared at its end.
 *
 * Several fits may run at once (--jobs), and notes, errors and summary rows
 * share the terminal with the line, so one lock guards the screen: whoever
 * writes anything else first clears the line (cli_terminal_hold). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

/* Seconds a fit runs before the line appears, and between redraws. */
#define PROGRESS_DELAY 1.0
#define PROGRESS_INTERVAL 0.2
/* Stays within an 80-column terminal: a wrapped line cannot be redrawn
 * in place by a carriage return. */
#define PROGRESS_WIDTH 79

static pthread_mutex_t screen = PTHREAD_MUTEX_INITIALIZER;
static int enabled;
static const cli_progress *shown; /* whose line is on the screen, or NULL */
static double last_draw = -1e300;

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Carriage return, then erase to the end of the line (ANSI EL). */
static void erase_line(void)
{
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

void cli_progress_enable(int on)
{
    enabled = on;
}

void cli_progress_start(cli_progress *p, const char *label)
{
    p->label = label;
    p->start = enabled ? seconds() : 0;
    p->next_try = p->start + PROGRESS_DELAY;
    p->steps = 0;
}

/* The file's last path component keeps the line short. */
static const char *short_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static void draw(const cli_progress *p, size_t iter, double loglik,
                 double elapsed)
{
    char line[256];
    int n = snprintf(line, sizeof line,
                     "emfit: %s%siteration %zu, loglik %.10g, %.0f it/s",
                     p->label ? short_name(p->label) : "",
                     p->label ? ": " : "", iter, loglik,
                     (double)p->steps / elapsed);
    if (n > PROGRESS_WIDTH)
        line[PROGRESS_WIDTH] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

void cli_progress_step(cli_progress *p, size_t iter, double loglik)
{
    if (!enabled)
        return;
    p->steps++;
    double now = seconds();
    /* the fit's own clock decides when to look at the shared one */
    if (now < p->next_try)
        return;
    p->next_try = now + PROGRESS_INTERVAL;
    if (now - p->start < PROGRESS_DELAY)
        return;
    pthread_mutex_lock(&screen);
    if (now - last_draw >= PROGRESS_INTERVAL) {
        draw(p, iter, loglik, now - p->start);
        shown = p;
        last_draw = now;
    }
    pthread_mutex_unlock(&screen);
}

void cli_progress_end(cli_progress *p)
{
    if (!enabled)
        return;
    pthread_mutex_lock(&screen);
    if (shown == p) {
        erase_line();
        shown = NULL;
    }
    pthread_mutex_unlock(&screen);
}

void cli_terminal_hold(void)
{
    pthread_mutex_lock(&screen);
    if (shown) {
        erase_line();
        shown = NULL;
    }
}

void cli_terminal_release(void)
{
    pthread_mutex_unlock(&screen);
}
