/* Radix selection over passes.  Every observed value (or distance) gets
 * an order-preserving 64-bit key; the k-th smallest key is found a digit
 * at a time from the top.  A pass counts, among the keys that match the
 * digits fixed so far, how many have each value of the next digit, and
 * the bucket where the rank falls fixes that digit.  Once few enough keys
 * match, one last pass collects them and a quickselect over those finishes;
 * a pass that finds the matching keys all equal (ties) finishes at once.
 * A pass reads every row once and serves a group of columns at a time. */
#include "core/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block: a block's values stay in cache while each column of the
 * group is scanned in turn. */
#define BLOCK_BYTES 65536

typedef struct state {
    em_select_col *req;
    uint64_t prefix;   /* the key bits fixed so far */
    uint64_t fixed;    /* which bits those are (the top ones) */
    unsigned low;      /* how many low bits are not fixed yet */
    size_t k;          /* the rank sought among the keys that match */
    size_t m;          /* how many keys match */
    uint64_t lo, hi;   /* the least and greatest matching key in a pass */
    uint64_t *scratch; /* counters, or the matching keys when m is small */
    size_t fill;       /* keys collected so far */
    int done;
    int split;         /* the table is one part of several: counters only,
                          since the parts' counts add up and keys do not */
} state;

static int collecting(const state *s)
{
    return !s->split && s->m <= EM_SELECT_BUCKETS;
}

static unsigned digit_shift(const state *s)
{
    return s->low > EM_SELECT_DIGIT_BITS ? s->low - EM_SELECT_DIGIT_BITS : 0;
}

/* Scratch words for a column of count values: its keys while they fit,
 * else (and always when split) one counter per bucket. */
static size_t words_for(size_t count, int split)
{
    return count < EM_SELECT_BUCKETS && !split ? count : EM_SELECT_BUCKETS;
}

/* The k-th smallest of v[0..n) (0-based), reordering v. */
static uint64_t select_key(uint64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t x = v[i];
                v[i] = v[j], v[j] = x;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* The value whose key is sought: x itself, or its distance from center. */
static inline double keyed(double x, int distances, double center)
{
    return distances ? fabs(x - center) : x;
}

/* Adds to s the keys of column values p[0], p[stride], ... (rows of one
 * block). */
static void scan_column(state *s, const double *p, size_t stride,
                        size_t rows, int distances)
{
    double center = s->req->center;
    uint64_t prefix = s->prefix, fixed = s->fixed;
    uint64_t *w = s->scratch;
    if (collecting(s)) {
        size_t fill = s->fill;
        for (size_t r = 0; r < rows; r++) {
            double x = p[r * stride];
            if (isnan(x))
                continue;
            uint64_t key = em_select_key(keyed(x, distances, center));
            if ((key & fixed) == prefix)
                w[fill++] = key;
        }
        s->fill = fill;
        return;
    }
    unsigned shift = digit_shift(s);
    uint64_t digits = ((uint64_t)1 << (s->low - shift)) - 1;
    uint64_t lo = s->lo, hi = s->hi;
    for (size_t r = 0; r < rows; r++) {
        double x = p[r * stride];
        if (isnan(x))
            continue;
        uint64_t key = em_select_key(keyed(x, distances, center));
        if ((key & fixed) == prefix) {
            w[(key >> shift) & digits]++;
            lo = key < lo ? key : lo;
            hi = key > hi ? key : hi;
        }
    }
    s->lo = lo, s->hi = hi;
}

/* The largest distance of the block's values from center, and the first
 * row holding it; first is the block's first row. */
static void scan_worst(const em_table *t, em_select_col *c, const double *p,
                       size_t stride, size_t rows, size_t first)
{
    for (size_t r = 0; r < rows; r++) {
        double d = fabs(p[r * stride] - c->center);
        if (d > c->worst) { /* NaN compares false */
            c->worst = d, c->far_value = p[r * stride];
            c->far_line = em_table_line(t, first + r);
        }
    }
}

static void scan_rows(const em_table *t, state *s, size_t n, int distances,
                      int worst)
{
    size_t stride = t->ncols ? t->ncols : 1;
    size_t block = BLOCK_BYTES / (stride * sizeof(double));
    if (block == 0)
        block = 1;
    for (size_t i = 0; i < t->nrows; i += block) {
        size_t rows = t->nrows - i < block ? t->nrows - i : block;
        const double *row = t->values + i * stride;
        for (size_t c = 0; c < n; c++) {
            const double *p = row + s[c].req->col;
            if (worst)
                scan_worst(t, s[c].req, p, stride, rows, i);
            if (!s[c].done)
                scan_column(&s[c], p, stride, rows, distances);
        }
    }
}

/* The pass of a part, carried in acc from the earlier parts: per column
 * its bucket counts, the least and greatest matching value (NaN: none
 * yet), and its worst distance with that row's line and value. */
enum { X_LO, X_HI, X_WORST, X_LINE, X_VALUE, X_LEN };

typedef struct part_pass {
    state *s;
    size_t n;
    int distances, worst;
} part_pass;

static size_t acc_stride(void)
{
    return EM_SELECT_BUCKETS + X_LEN;
}

static void fold_pass(void *ctx, const em_table *t, double *acc)
{
    const part_pass *pp = ctx;
    for (size_t c = 0; c < pp->n; c++) /* this part's own from zero */
        if (pp->worst)
            pp->s[c].req->worst = 0;
    scan_rows(t, pp->s, pp->n, pp->distances, pp->worst);
    for (size_t c = 0; c < pp->n; c++) {
        state *s = &pp->s[c];
        double *a = acc + c * acc_stride(), *x = a + EM_SELECT_BUCKETS;
        if (!s->done) {
            for (size_t b = 0; b < EM_SELECT_BUCKETS; b++)
                a[b] += (double)s->scratch[b];
            if (s->lo <= s->hi) {
                x[X_LO] = fmin(x[X_LO], em_select_unkey(s->lo));
                x[X_HI] = fmax(x[X_HI], em_select_unkey(s->hi));
            }
        }
        const em_select_col *r = s->req;
        if (pp->worst && r->worst > x[X_WORST]) /* the first part wins ties */
            x[X_WORST] = r->worst, x[X_LINE] = (double)r->far_line,
            x[X_VALUE] = r->far_value;
    }
}

/* One pass over the rows of every part, leaving in s what one pass over
 * the whole table would. */
static em_status pass_parts(const em_table *t, state *s, size_t n,
                            int distances, int worst, em_error *err)
{
    size_t len = n * acc_stride();
    double *acc = calloc(len ? len : 1, sizeof *acc);
    if (!acc)
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    for (size_t c = 0; c < n; c++)
        acc[c * acc_stride() + EM_SELECT_BUCKETS + X_LO] = NAN,
        acc[c * acc_stride() + EM_SELECT_BUCKETS + X_HI] = NAN;
    part_pass pp = {.s = s, .n = n, .distances = distances, .worst = worst};
    em_status st = em_table_fold(t, acc, len, fold_pass, &pp, err);
    for (size_t c = 0; c < n && st == EM_OK; c++) {
        const double *a = acc + c * acc_stride(), *x = a + EM_SELECT_BUCKETS;
        if (!s[c].done) {
            for (size_t b = 0; b < EM_SELECT_BUCKETS; b++)
                s[c].scratch[b] = (uint64_t)a[b];
            s[c].lo = isnan(x[X_LO]) ? UINT64_MAX : em_select_key(x[X_LO]);
            s[c].hi = isnan(x[X_HI]) ? 0 : em_select_key(x[X_HI]);
        }
        if (worst) {
            em_select_col *r = s[c].req;
            r->worst = x[X_WORST];
            r->far_line = (long)x[X_LINE], r->far_value = x[X_VALUE];
        }
    }
    free(acc);
    return st;
}

/* Fixes the next digit from the counts, or the answer from the keys. */
static void settle(state *s)
{
    if (collecting(s)) {
        s->req->value = em_select_unkey(select_key(s->scratch, s->fill, s->k));
        s->done = 1;
        return;
    }
    if (s->lo == s->hi) { /* ties: every matching key is the answer */
        s->req->value = em_select_unkey(s->lo);
        s->done = 1;
        return;
    }
    unsigned shift = digit_shift(s);
    size_t b = 0, below = 0;
    while (below + s->scratch[b] <= s->k)
        below += s->scratch[b++];
    s->k -= below;
    s->m = s->scratch[b];
    s->prefix |= (uint64_t)b << shift;
    s->fixed |= (((uint64_t)1 << (s->low - shift)) - 1) << shift;
    s->low = shift;
    if (s->low == 0) {
        s->req->value = em_select_unkey(s->prefix);
        s->done = 1;
    }
}

/* Readies s for a pass; 0 when s needs none. */
static int prepare(state *s)
{
    if (s->done)
        return 0;
    if (collecting(s)) {
        s->fill = 0;
    } else {
        memset(s->scratch, 0, EM_SELECT_BUCKETS * sizeof *s->scratch);
        s->lo = UINT64_MAX, s->hi = 0;
    }
    return 1;
}

static int is_split(const em_table *t)
{
    return t->parts && t->parts->nparts > 1;
}

/* Selects for up to EM_SELECT_GROUP requests; s and scratch are the
 * caller's. */
static em_status select_group(const em_table *t, state *s, em_select_col *c,
                              size_t n, uint64_t *scratch, int distances,
                              em_error *err)
{
    int split = is_split(t);
    for (size_t i = 0; i < n; i++) {
        s[i] = (state){.req = &c[i], .low = 64, .k = c[i].k, .m = c[i].count,
                       .scratch = scratch, .done = c[i].count == 0,
                       .split = split};
        scratch += words_for(c[i].count, split);
        if (distances)
            c[i].worst = 0, c[i].far_line = 0, c[i].far_value = 0;
    }
    for (int pass = 0;; pass++) {
        size_t busy = 0;
        for (size_t i = 0; i < n; i++)
            busy += (size_t)prepare(&s[i]);
        if (!busy && !(distances && pass == 0))
            return EM_OK;
        int worst = distances && pass == 0;
        if (!split) {
            scan_rows(t, s, n, distances, worst);
        } else {
            em_status st = pass_parts(t, s, n, distances, worst, err);
            if (st != EM_OK)
                return st;
        }
        for (size_t i = 0; i < n; i++)
            if (!s[i].done)
                settle(&s[i]);
    }
}

static em_status select_all(const em_table *t, em_select_col *c, size_t n,
                            int distances, em_error *err)
{
    size_t words = 0, group = n < EM_SELECT_GROUP ? n : EM_SELECT_GROUP;
    for (size_t i = 0; i < n; i += group) {
        size_t w = 0;
        for (size_t j = i; j < n && j < i + group; j++)
            w += words_for(c[j].count, is_split(t));
        if (w > words)
            words = w;
    }
    state *s = malloc((group ? group : 1) * sizeof *s);
    uint64_t *scratch = malloc((words ? words : 1) * sizeof *scratch);
    if (!s || !scratch) {
        free(s);
        free(scratch);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    em_status st = EM_OK;
    for (size_t i = 0; i < n && st == EM_OK; i += group)
        st = select_group(t, s, c + i, n - i < group ? n - i : group, scratch,
                          distances, err);
    free(s);
    free(scratch);
    return st;
}

em_status em_select_values(const em_table *t, em_select_col *c, size_t n,
                           em_error *err)
{
    return select_all(t, c, n, 0, err);
}

em_status em_select_distances(const em_table *t, em_select_col *c, size_t n,
                              em_error *err)
{
    return select_all(t, c, n, 1, err);
}
