/* Tables split across processes (em_parts), without MPI: P threads play
 * the P processes, a relay built on a mutex and a condition variable
 * carries the accumulators between them, and every fit of the parts must
 * equal the fit of the whole table in one thread to the last bit --
 * parameters, log-likelihood, iterations -- for gmm (full with kmeans++,
 * diag with random starts), mvn, bvn, three-coin and mixed-normal, on two
 * to four parts of unequal size, some of them empty, with 1 and 2 E-step
 * threads per part.  Errors found in a pass over the rows (a value too
 * large to square in the last part, a constant column, a bad toss) must
 * reach every part with the whole table's message and line, and a column
 * constant only within some parts must not be one.  hmm, which does not
 * split, is refused. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "emfit/emfit.h"

enum { MAX_PARTS = 4, MAX_PARAMS = 64, NROWS = 30000, HEADER_LINES = 1,
       TOSSES = 6 };

/* ---- the relay ------------------------------------------------------ */

/* What MPI does for the command line (src/cli/mpi.c), for threads.  A
 * round is one em_parts_fold: parts take their turn in part order, each
 * reading the value the previous one handed over and handing over its
 * own; once the last has, every part reads the last value.  The next round
 * opens only when all have read, so a fast part cannot overwrite a value
 * a slow one has yet to read. */
typedef struct relay {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t nparts;
    size_t round; /* rounds every part has finished */
    size_t turn;  /* the part whose turn it is; nparts: all have had it */
    size_t taken; /* parts that have read this round's final value */
    size_t ended; /* parts whose work is over: nobody to wait for */
    double *buf;
    size_t n, cap;
} relay;

/* One part's end of the relay (em_parts.ctx). */
typedef struct relay_end {
    relay *r;
    size_t part;
    size_t round; /* rounds this part has finished */
} relay_end;

static void relay_init(relay *r, size_t nparts)
{
    *r = (relay){.nparts = nparts};
    assert_int_equal(pthread_mutex_init(&r->mu, NULL), 0);
    assert_int_equal(pthread_cond_init(&r->cv, NULL), 0);
}

static void relay_destroy(relay *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->buf);
}

/* Waits, the mutex held, until ready(); EM_ERR_IO when a part has ended
 * first, since then the parts disagree on how many rounds there are and
 * waiting on would hang the test. */
static em_status wait_for(relay_end *e, int (*ready)(const relay_end *),
                          em_error *err)
{
    relay *r = e->r;
    while (!ready(e)) {
        if (r->ended)
            return em_error_set(err, EM_ERR_IO,
                                "part %zu waits in round %zu, but another "
                                "part has ended",
                                e->part, e->round);
        pthread_cond_wait(&r->cv, &r->mu);
    }
    return EM_OK;
}

static int my_turn(const relay_end *e)
{
    return e->r->round == e->round && e->r->turn == e->part;
}

static int all_handed_over(const relay_end *e)
{
    return e->r->turn == e->r->nparts;
}

static em_status receive(relay_end *e, double *acc, size_t n, em_error *err)
{
    relay *r = e->r;
    em_status st = wait_for(e, my_turn, err);
    if (st == EM_OK && e->part > 0 && r->n != n)
        st = em_error_set(err, EM_ERR_IO,
                          "part %zu relays %zu numbers, the part before "
                          "it %zu",
                          e->part, n, r->n);
    if (st == EM_OK && e->part > 0)
        memcpy(acc, r->buf, n * sizeof *acc);
    return st;
}

static em_status hand_over(relay_end *e, double *acc, size_t n,
                           em_error *err)
{
    relay *r = e->r;
    if (n > r->cap) {
        double *b = realloc(r->buf, n * sizeof *b);
        if (!b)
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
        r->buf = b, r->cap = n;
    }
    memcpy(r->buf, acc, n * sizeof *acc);
    r->n = n;
    r->turn++;
    pthread_cond_broadcast(&r->cv);
    em_status st = wait_for(e, all_handed_over, err);
    if (st != EM_OK)
        return st;
    memcpy(acc, r->buf, n * sizeof *acc);
    e->round++;
    if (++r->taken == r->nparts) {
        r->taken = 0, r->turn = 0, r->round++;
        pthread_cond_broadcast(&r->cv);
    }
    return EM_OK;
}

/* em_parts.relay */
static em_status relay_fn(void *ctx, int before, double *acc, size_t n,
                          em_error *err)
{
    relay_end *e = ctx;
    pthread_mutex_lock(&e->r->mu);
    em_status st = before ? receive(e, acc, n, err)
                          : hand_over(e, acc, n, err);
    pthread_mutex_unlock(&e->r->mu);
    return st;
}

/* Called when a part's thread has nothing more to relay. */
static void relay_leave(relay *r)
{
    pthread_mutex_lock(&r->mu);
    r->ended++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* ---- tables and their parts ----------------------------------------- */

static char source_name[] = "rows.csv";
static char *col_names[] = {"x1", "x2", "x3", "x4", "x5", "x6"};

static em_table table_new(size_t nrows, size_t ncols)
{
    double *v = malloc(nrows * ncols * sizeof *v);
    assert_non_null(v);
    return (em_table){.nrows = nrows, .ncols = ncols, .names = col_names,
                      .values = v, .first_line = 1 + HEADER_LINES,
                      .source = source_name};
}

/* A value, or NaN with probability 1/20. */
static double maybe_missing(uint64_t *s, double x)
{
    return unif(s) < 0.05 ? NAN : x;
}

/* Three normal clusters in three columns, the second column correlated
 * with the first. */
static em_table clusters(void)
{
    static const double mean[3][3] = {{0, 0, 0}, {4, 1, -2}, {-3, 5, 2}};
    em_table t = table_new(NROWS, 3);
    uint64_t s = 0x5eed0041; /* one whose fits take few iterations */
    for (size_t i = 0; i < NROWS; i++) {
        size_t k = below(&s, 3);
        double z = gauss(&s);
        double x[3] = {mean[k][0] + z, mean[k][1] + 0.5 * z + gauss(&s),
                       mean[k][2] + 0.7 * gauss(&s)};
        for (size_t j = 0; j < 3; j++)
            t.values[i * 3 + j] = maybe_missing(&s, x[j]);
    }
    return t;
}

/* The first ncols columns of t. */
static em_table first_columns(const em_table *t, size_t ncols)
{
    em_table u = table_new(t->nrows, ncols);
    for (size_t i = 0; i < t->nrows; i++)
        memcpy(u.values + i * ncols, t->values + i * t->ncols,
               ncols * sizeof *u.values);
    return u;
}

/* Coin A (heads 0.4) picks coin B (heads 0.9) or C (heads 0.3), which is
 * tossed TOSSES times. */
static em_table tosses(void)
{
    em_table t = table_new(NROWS, TOSSES);
    uint64_t s = 0x5eed0002;
    for (size_t i = 0; i < NROWS; i++) {
        double p = unif(&s) < 0.4 ? 0.9 : 0.3;
        for (size_t j = 0; j < TOSSES; j++)
            t.values[i * TOSSES + j] = maybe_missing(&s, unif(&s) < p ? 1 : 0);
    }
    return t;
}

/* 0.7 N(2, 1.5^2) + 0.3 N(-2, 1.5^2). */
static em_table mixed(void)
{
    em_table t = table_new(NROWS, 1);
    uint64_t s = 0x5eed0003;
    for (size_t i = 0; i < NROWS; i++) {
        double mu = unif(&s) < 0.3 ? -2 : 2;
        t.values[i] = maybe_missing(&s, mu + 1.5 * gauss(&s));
    }
    return t;
}

static void table_drop(em_table *t)
{
    free(t->values);
    *t = (em_table){0};
}

/* How the rows are split: part p starts at row0[p] and ends where the
 * next starts (the last at the end of the table). */
typedef struct split {
    size_t nparts;
    size_t row0[MAX_PARTS];
} split;

static const split splits[] = {
    {2, {0, 16384}},
    {3, {0, 8192, 20480}},
    {4, {0, 4096, 12288, 24576}},
    {3, {0, 0, 12288}},        /* part 0 empty */
    {4, {0, 8192, 8192, 8192}}, /* parts 1 and 2 empty */
};

enum { NSPLITS = sizeof splits / sizeof splits[0] };

/* The parts of a whole table, each with its own copy of its rows (so that
 * a read past them is caught by the sanitizers) and its lines counted
 * from the whole's first. */
typedef struct parted {
    relay r;
    relay_end ends[MAX_PARTS];
    em_parts parts[MAX_PARTS];
    em_table t[MAX_PARTS];
} parted;

static size_t part_end(const split *sp, size_t p, size_t total)
{
    return p + 1 < sp->nparts ? sp->row0[p + 1] : total;
}

static void parted_init(parted *pt, const em_table *whole, const split *sp)
{
    relay_init(&pt->r, sp->nparts);
    for (size_t p = 0; p < sp->nparts; p++) {
        size_t r0 = sp->row0[p], r1 = part_end(sp, p, whole->nrows);
        size_t len = (r1 - r0) * whole->ncols * sizeof(double);
        pt->ends[p] = (relay_end){.r = &pt->r, .part = p};
        pt->parts[p] = (em_parts){.part = p, .nparts = sp->nparts,
                                  .row0 = r0, .total = whole->nrows,
                                  .ctx = &pt->ends[p], .relay = relay_fn};
        pt->t[p] = *whole;
        pt->t[p].nrows = r1 - r0;
        pt->t[p].values = malloc(len ? len : 1);
        assert_non_null(pt->t[p].values);
        if (len)
            memcpy(pt->t[p].values, whole->values + r0 * whole->ncols, len);
        pt->t[p].first_line = whole->first_line + (long)r0;
        pt->t[p].parts = &pt->parts[p];
    }
}

static void parted_free(parted *pt, size_t nparts)
{
    for (size_t p = 0; p < nparts; p++)
        free(pt->t[p].values);
    relay_destroy(&pt->r);
}

/* ---- one fit, in whichever thread ----------------------------------- */

enum { AT_CREATE, AT_INIT, AT_FIT, DONE };

typedef struct job {
    const em_model_type *type;
    const em_model_config *cfg;
    const em_table *t;
    size_t threads;
    relay *r; /* NULL for the whole table */
    /* what came out */
    int stage; /* where it stopped: DONE when all went well */
    em_status st;
    em_error err;
    em_model_info info;
    double theta[MAX_PARAMS];
    em_fit_result res;
} job;

/* Never asserts: cmocka's failures may only be raised by the test's own
 * thread, so a part records what happened and the test compares. */
static void *run_job(void *arg)
{
    job *j = arg;
    em_model m;
    em_fit_options opt;
    em_fit_options_default(&opt);
    opt.threads = j->threads;
    em_error_clear(&j->err);
    j->stage = AT_CREATE;
    j->st = em_model_create(j->type, j->cfg, j->t, &m, &j->err);
    if (j->st == EM_OK) {
        j->info = m.info;
        j->stage = AT_INIT;
        if (m.info.nparams > MAX_PARAMS)
            j->st = em_error_set(&j->err, EM_ERR_BUG, "too many parameters");
        else
            j->st = m.type->init(m.state, 1, j->theta, &j->err);
    }
    if (j->st == EM_OK) {
        j->stage = AT_FIT;
        j->st = em_fit(&m, j->theta, &opt, &j->res, &j->err);
    }
    if (j->st == EM_OK)
        j->stage = DONE;
    em_model_free(&m);
    if (j->r)
        relay_leave(j->r);
    return NULL;
}

/* Runs fn on n jobs of size bytes each, one thread a job, and waits for
 * them all before the caller may assert anything: a failure jumps out of
 * the test's frame, which threads still running may be using.  A job
 * whose thread cannot start leaves the relay at once, so that the others
 * fail rather than wait for it.  Returns how many could not start. */
static size_t run_threads(size_t n, void *(*fn)(void *), void *jobs,
                          size_t size, relay *r)
{
    pthread_t tid[MAX_PARTS];
    int started[MAX_PARTS];
    size_t failed = 0;
    for (size_t p = 0; p < n; p++) {
        started[p] =
            pthread_create(&tid[p], NULL, fn, (char *)jobs + p * size) == 0;
        if (!started[p])
            failed++, relay_leave(r);
    }
    for (size_t p = 0; p < n; p++)
        if (started[p])
            pthread_join(tid[p], NULL);
    return failed;
}

/* Runs the job on every part of pt at once, one thread a part. */
static void run_parts(parted *pt, size_t nparts, const job *proto,
                      job *jobs)
{
    for (size_t p = 0; p < nparts; p++) {
        jobs[p] = *proto;
        jobs[p].t = &pt->t[p];
        jobs[p].r = &pt->r;
    }
    assert_int_equal(run_threads(nparts, run_job, jobs, sizeof *jobs, &pt->r),
                     0);
}

static void describe(const job *j, char *buf, size_t size)
{
    char msg[1200];
    em_error_format(&j->err, msg, sizeof msg);
    snprintf(buf, size, "stage %d, status %d: %s", j->stage, (int)j->st,
             msg);
}

/* A part's outcome must be the whole's, bit for bit. */
static void expect_same(const job *whole, const job *part, size_t p,
                        size_t rows)
{
    char want[1300], got[1300];
    describe(whole, want, sizeof want);
    describe(part, got, sizeof got);
    if (strcmp(want, got) != 0)
        fail_msg("part %zu: %s; the whole table: %s", p, got, want);
    assert_int_equal(part->err.line, whole->err.line);
    if (part->stage == AT_CREATE)
        return;
    assert_int_equal(part->info.nunits, rows);
    assert_int_equal(part->info.nskipped, whole->info.nskipped);
    assert_int_equal(part->info.nparams, whole->info.nparams);
    assert_int_equal(part->info.nstats, whole->info.nstats);
    assert_int_equal(part->info.nfree, whole->info.nfree);
    if (part->stage < AT_FIT)
        return;
    size_t np = whole->info.nparams;
    for (size_t i = 0; i < np; i++)
        if (memcmp(&part->theta[i], &whole->theta[i], sizeof(double)) != 0)
            fail_msg("part %zu: parameter %zu is %.17g, the whole's %.17g",
                     p, i, part->theta[i], whole->theta[i]);
    if (memcmp(&part->res.loglik, &whole->res.loglik, sizeof(double)) != 0)
        fail_msg("part %zu: log-likelihood %.17g, the whole's %.17g", p,
                 part->res.loglik, whole->res.loglik);
    assert_int_equal(part->res.iterations, whole->res.iterations);
    assert_int_equal(part->res.converged, whole->res.converged);
    assert_int_equal(part->res.nobs, whole->res.nobs);
    assert_int_equal(part->res.esteps, whole->res.esteps);
    assert_memory_equal(&part->res.bic, &whole->res.bic, sizeof(double));
}

/* The fit of the whole table, in this thread with one E-step thread. */
static job fit_whole(const char *model, const em_model_config *cfg,
                     const em_table *whole)
{
    job ref = {.type = em_model_find(model), .cfg = cfg, .t = whole,
               .threads = 1};
    assert_non_null(ref.type);
    run_job(&ref);
    return ref;
}

/* Fits the parts of ref's table under split sp, with threads E-step
 * threads each, and compares each with ref. */
static void compare_split(const job *ref, const split *sp, size_t threads)
{
    job proto = *ref, jobs[MAX_PARTS];
    proto.threads = threads;
    parted pt;
    parted_init(&pt, ref->t, sp);
    run_parts(&pt, sp->nparts, &proto, jobs);
    for (size_t p = 0; p < sp->nparts; p++)
        expect_same(ref, &jobs[p], p, pt.t[p].nrows);
    parted_free(&pt, sp->nparts);
}

/* The whole table must fit; then every split, with one E-step thread a
 * part, and the one of three unequal parts with two as well. */
static void compare_all(const char *model, const em_model_config *cfg,
                        const em_table *whole)
{
    job ref = fit_whole(model, cfg, whole);
    if (ref.stage != DONE) {
        char why[1300];
        describe(&ref, why, sizeof why);
        fail_msg("%s on the whole table: %s", model, why);
    }
    assert_true(ref.res.converged);
    assert_true(ref.res.iterations >= 3);
    for (size_t s = 0; s < NSPLITS; s++) {
        compare_split(&ref, &splits[s], 1);
        if (s == 1)
            compare_split(&ref, &splits[s], 2);
    }
}

/* ---- the relay itself ----------------------------------------------- */

typedef struct digits_job {
    relay_end *e;
    em_parts *parts;
    size_t rounds;
    em_status st;
    double last[2];
} digits_job;

static void append_digit(void *ctx, double *acc)
{
    const em_parts *p = ctx;
    acc[0] = acc[0] * 10 + (double)(p->part + 1);
    acc[1] += 1;
}

/* Each round every part appends its digit to acc[0], and the round's
 * number is carried in from the last round's result. */
static void *digits(void *arg)
{
    digits_job *j = arg;
    for (size_t k = 0; k < j->rounds && j->st == EM_OK; k++) {
        double acc[2] = {(double)k, j->last[1]};
        j->st = em_parts_fold(j->parts, acc, 2, append_digit, j->parts,
                              NULL);
        if (j->st == EM_OK && acc[0] != (double)k * 1e4 + 1234)
            j->st = EM_ERR_BUG;
        memcpy(j->last, acc, sizeof acc);
    }
    relay_leave(j->e->r);
    return NULL;
}

static void relay_runs_parts_in_order_many_times(void **state)
{
    (void)state;
    enum { ROUNDS = 2000 };
    relay r;
    relay_end ends[4];
    em_parts parts[4];
    digits_job jobs[4];
    relay_init(&r, 4);
    for (size_t p = 0; p < 4; p++) {
        ends[p] = (relay_end){.r = &r, .part = p};
        parts[p] = (em_parts){.part = p, .nparts = 4, .ctx = &ends[p],
                              .relay = relay_fn};
        jobs[p] = (digits_job){.e = &ends[p], .parts = &parts[p],
                               .rounds = ROUNDS};
    }
    assert_int_equal(run_threads(4, digits, jobs, sizeof *jobs, &r), 0);
    for (size_t p = 0; p < 4; p++) {
        assert_int_equal(jobs[p].st, EM_OK);
        assert_true(jobs[p].last[0] == (ROUNDS - 1) * 1e4 + 1234);
        assert_true(jobs[p].last[1] == 4.0 * ROUNDS);
    }
    relay_destroy(&r);
}

/* A part that stops relaying early makes the others fail, not hang. */
static void *fold_once(void *arg)
{
    digits_job *j = arg;
    double acc[2] = {0, 0};
    j->st = em_parts_fold(j->parts, acc, 2, append_digit, j->parts, NULL);
    relay_leave(j->e->r);
    return NULL;
}

static void relay_reports_a_part_that_left(void **state)
{
    (void)state;
    relay r;
    relay_end ends[2];
    em_parts parts[2];
    digits_job jobs[2];
    relay_init(&r, 2);
    for (size_t p = 0; p < 2; p++) {
        ends[p] = (relay_end){.r = &r, .part = p};
        parts[p] = (em_parts){.part = p, .nparts = 2, .ctx = &ends[p],
                              .relay = relay_fn};
        jobs[p] = (digits_job){.e = &ends[p], .parts = &parts[p]};
    }
    relay_leave(&r); /* part 0 ends without a fold */
    assert_int_equal(run_threads(1, fold_once, &jobs[1], sizeof *jobs, &r),
                     0);
    assert_int_equal(jobs[1].st, EM_ERR_IO);
    relay_destroy(&r);
}

/* ---- fits ----------------------------------------------------------- */

static void gmm_full_kmeanspp(void **state)
{
    (void)state;
    em_table t = clusters();
    em_model_config cfg = {.k = 3, .cov = "full"};
    compare_all("gmm", &cfg, &t);
    table_drop(&t);
}

static void gmm_diag_random(void **state)
{
    (void)state;
    em_table t = clusters();
    em_model_config cfg = {.k = 3, .cov = "diag", .init = "random"};
    compare_all("gmm", &cfg, &t);
    table_drop(&t);
}

static void mvn_three_columns(void **state)
{
    (void)state;
    em_table t = clusters();
    em_model_config cfg = {0};
    compare_all("mvn", &cfg, &t);
    table_drop(&t);
}

static void bvn_two_columns(void **state)
{
    (void)state;
    em_table whole = clusters();
    em_table t = first_columns(&whole, 2);
    em_model_config cfg = {0};
    compare_all("bvn", &cfg, &t);
    table_drop(&t);
    table_drop(&whole);
}

static void three_coin_tosses(void **state)
{
    (void)state;
    em_table t = tosses();
    em_model_config cfg = {0};
    compare_all("three-coin", &cfg, &t);
    table_drop(&t);
}

static void mixed_normal_free_sigma(void **state)
{
    (void)state;
    em_table t = mixed();
    em_model_config cfg = {.free_sigma = 1};
    compare_all("mixed-normal", &cfg, &t);
    table_drop(&t);
}

/* ---- errors --------------------------------------------------------- */

/* The whole table fails at stage with status st, and every part of every
 * split the same way (compare_split checks the parts against it). */
static void expect_error(const char *model, const em_model_config *cfg,
                         const em_table *t, int stage, em_status st,
                         long line)
{
    job ref = fit_whole(model, cfg, t);
    assert_int_equal(ref.stage, stage);
    assert_int_equal(ref.st, st);
    assert_int_equal(ref.err.line, line);
    for (size_t s = 0; s < NSPLITS; s++)
        compare_split(&ref, &splits[s], 1);
}

static void too_large_in_the_last_part(void **state)
{
    (void)state;
    em_table t = clusters();
    size_t row = 29000; /* in every split's last part */
    t.values[row * 3 + 1] = 1e200;
    long line = t.first_line + (long)row;
    em_model_config gmm = {.k = 3}, none = {0};
    expect_error("gmm", &gmm, &t, AT_CREATE, EM_ERR_DATA, line);
    expect_error("mvn", &none, &t, AT_CREATE, EM_ERR_DATA, line);
    em_table one = first_columns(&t, 1);
    one.values[row] = -1e200;
    expect_error("mixed-normal", &none, &one, AT_CREATE, EM_ERR_DATA, line);
    table_drop(&one);
    table_drop(&t);
}

static void bad_toss_in_a_middle_part(void **state)
{
    (void)state;
    em_table t = tosses();
    size_t row = 10000; /* part 1 of most splits, part 2 of the last */
    t.values[row * TOSSES + 2] = 2;
    em_model_config cfg = {0};
    expect_error("three-coin", &cfg, &t, AT_CREATE, EM_ERR_DATA,
                 t.first_line + (long)row);
    table_drop(&t);
}

/* x3 is 7 in every row from 8192 on: constant within all parts of
 * {0, 8192, 20480} but the first, constant in the whole only when the
 * rows before 8192 are too. */
static void set_x3_from(em_table *t, size_t row)
{
    for (size_t i = row; i < t->nrows; i++)
        t->values[i * 3 + 2] = 7;
}

static void locally_constant_column_is_no_error(void **state)
{
    (void)state;
    em_table t = clusters();
    set_x3_from(&t, 8192);
    /* without reg a constant column is refused at create: this one passes
     * there (and collapses in the fit); with reg, gmm fits it */
    em_model_config none = {0}, reg0 = {.k = 2, .has_reg = 1, .reg = 0},
                    reg = {.k = 3};
    job ref[3] = {fit_whole("mvn", &none, &t), fit_whole("gmm", &reg0, &t),
                  fit_whole("gmm", &reg, &t)};
    assert_int_equal(ref[0].stage, DONE);
    assert_true(ref[1].stage > AT_CREATE);
    assert_int_equal(ref[2].stage, DONE);
    for (size_t s = 0; s < NSPLITS; s++)
        for (size_t i = 0; i < 2; i++)
            compare_split(&ref[i], &splits[s], 1);
    compare_split(&ref[2], &splits[1], 1);
    table_drop(&t);
}

static void constant_column_is_an_error_in_every_part(void **state)
{
    (void)state;
    em_table t = clusters();
    set_x3_from(&t, 0);
    em_model_config none = {0}, gmm = {.k = 2, .has_reg = 1, .reg = 0};
    expect_error("mvn", &none, &t, AT_CREATE, EM_ERR_DATA, 0);
    expect_error("gmm", &gmm, &t, AT_CREATE, EM_ERR_DATA, 0);
    table_drop(&t);
}

static void hmm_is_refused(void **state)
{
    (void)state;
    em_table whole = mixed();
    parted pt;
    parted_init(&pt, &whole, &splits[0]);
    em_model_config cfg = {.k = 2};
    for (size_t p = 0; p < 2; p++) {
        em_model m;
        em_error err;
        assert_int_equal(em_model_create(em_model_find("hmm"), &cfg,
                                         &pt.t[p], &m, &err),
                         EM_ERR_ARG);
        assert_non_null(strstr(err.msg, "split across processes"));
    }
    parted_free(&pt, 2);
    table_drop(&whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relay_runs_parts_in_order_many_times),
        cmocka_unit_test(relay_reports_a_part_that_left),
        cmocka_unit_test(gmm_full_kmeanspp),
        cmocka_unit_test(gmm_diag_random),
        cmocka_unit_test(mvn_three_columns),
        cmocka_unit_test(bvn_two_columns),
        cmocka_unit_test(three_coin_tosses),
        cmocka_unit_test(mixed_normal_free_sigma),
        cmocka_unit_test(too_large_in_the_last_part),
        cmocka_unit_test(bad_toss_in_a_middle_part),
        cmocka_unit_test(locally_constant_column_is_no_error),
        cmocka_unit_test(constant_column_is_an_error_in_every_part),
        cmocka_unit_test(hmm_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
