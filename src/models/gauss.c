#include "models/gauss.h"

#include <math.h>
#include <stdlib.h>

#include "core/linalg.h"
#include "core/numeric.h"

int em_gauss_work_init(em_gauss_work *w, size_t d)
{
    *w = (em_gauss_work){.d = d,
                         .obs = malloc(d * sizeof(size_t)),
                         .mis = malloc(d * sizeof(size_t)),
                         .own = malloc(d * d * sizeof(double)),
                         .w = malloc(d * d * sizeof(double)),
                         .c = malloc(d * d * sizeof(double)),
                         .y = malloc(d * sizeof(double))};
    return w->obs && w->mis && w->own && w->w && w->c && w->y;
}

int em_gauss_work_init_borrowing(em_gauss_work *w, size_t d,
                                 const em_gauss_work *lender)
{
    *w = (em_gauss_work){.d = d,
                         .obs = malloc(d * sizeof(size_t)),
                         .mis = malloc(d * sizeof(size_t)),
                         .own = malloc(d * d * sizeof(double)),
                         .w = lender->w,
                         .c = lender->c,
                         .y = malloc(d * sizeof(double)),
                         .borrows = 1};
    return w->obs && w->mis && w->own && w->w && w->c && w->y;
}

void em_gauss_work_free(em_gauss_work *w)
{
    free(w->obs), free(w->mis), free(w->own), free(w->y);
    if (!w->borrows)
        free(w->w), free(w->c);
    *w = (em_gauss_work){0};
}

size_t em_gauss_split(em_gauss_work *w, const double *x)
{
    size_t no = 0, nm = 0;
    for (size_t i = 0; i < w->d; i++)
        if (isnan(x[i]))
            w->mis[nm++] = i;
        else
            w->obs[no++] = i;
    w->no = no, w->nm = nm;
    return no;
}

int em_gauss_same_pattern(const em_gauss_work *w, const double *x)
{
    for (size_t b = 0; b < w->nm; b++)
        if (!isnan(x[w->mis[b]]))
            return 0;
    for (size_t a = 0; a < w->no; a++)
        if (isnan(x[w->obs[a]]))
            return 0;
    return 1;
}

/* Two observed coordinates get the closed form of the bivariate density
 * in standard scores, which treats both alike: swapping the two columns
 * of the data then swaps the fit bit for bit (the Cholesky factor's
 * rounding depends on the order).  Near a singular S_oo it loses what the
 * factor loses, since both subtract a squared correlation from 1. */
typedef struct pair_form {
    double sa, sb, r, one_m_r2;
} pair_form;

static pair_form pair_of(const em_gauss_work *w)
{
    size_t d = w->d, i = w->obs[0], j = w->obs[1];
    const double *sig = w->sig;
    pair_form p = {sqrt(sig[i * d + i]), sqrt(sig[j * d + j]), 0, 0};
    p.r = sig[i * d + j] / (p.sa * p.sb);
    p.one_m_r2 = 1.0 - p.r * p.r;
    return p;
}

static double pair_logdet(const em_gauss_work *w)
{
    pair_form p = pair_of(w);
    return 2.0 * (log(p.sa) + log(p.sb)) + log(p.one_m_r2);
}

static double pair_maha(const em_gauss_work *w, const double *x,
                        const double *mu)
{
    size_t i = w->obs[0], j = w->obs[1];
    pair_form p = pair_of(w);
    double za = (x[i] - mu[i]) / p.sa, zb = (x[j] - mu[j]) / p.sb;
    return ((za * za + zb * zb) - 2.0 * p.r * (za * zb)) / p.one_m_r2;
}

int em_gauss_factor(em_gauss_work *w, const double *sig, const double *chol,
                    double logdet)
{
    size_t d = w->d, no = w->no;
    w->sig = sig;
    if (w->nm == 0) {
        w->l = chol, w->logdet = logdet;
        if (no == 2)
            w->logdet = pair_logdet(w);
        return 0;
    }
    double *lo = w->own;
    for (size_t a = 0; a < no; a++)
        for (size_t b = 0; b < no; b++)
            lo[a * no + b] = sig[w->obs[a] * d + w->obs[b]];
    int bad = em_cholesky(lo, no) != 0;
    w->l = lo;
    w->logdet = bad ? NAN : no == 2 ? pair_logdet(w)
                                    : em_chol_logdet(lo, no);
    return bad;
}

void em_gauss_regression(em_gauss_work *w, const double *sig)
{
    size_t d = w->d, no = w->no, nm = w->nm;
    for (size_t b = 0; b < nm; b++) {
        double *wb = w->w + b * d;
        for (size_t a = 0; a < no; a++)
            wb[a] = sig[w->obs[a] * d + w->mis[b]];
        em_chol_forward(w->l, no, wb);
    }
    for (size_t b = 0; b < nm; b++)
        for (size_t c = 0; c <= b; c++) {
            const double *wb = w->w + b * d, *wc = w->w + c * d;
            double v = sig[w->mis[b] * d + w->mis[c]];
            for (size_t a = 0; a < no; a++)
                v -= wb[a] * wc[a];
            w->c[b * d + c] = w->c[c * d + b] = v;
        }
}

double em_gauss_logpdf(em_gauss_work *w, const double *x, const double *mu)
{
    size_t no = w->no;
    double *y = w->y, maha = 0;
    for (size_t a = 0; a < no; a++)
        y[a] = x[w->obs[a]] - mu[w->obs[a]];
    em_chol_forward(w->l, no, y);
    for (size_t a = 0; a < no; a++)
        maha += y[a] * y[a];
    if (no == 2)
        maha = pair_maha(w, x, mu);
    return -0.5 * ((double)no * EM_LOG_2PI + w->logdet + maha);
}

void em_gauss_cond_dev(const em_gauss_work *w, const double *x,
                       const double *mu, double *dev)
{
    size_t d = w->d, no = w->no;
    for (size_t a = 0; a < no; a++)
        dev[w->obs[a]] = x[w->obs[a]] - mu[w->obs[a]];
    for (size_t b = 0; b < w->nm; b++) {
        const double *wb = w->w + b * d;
        double e = 0;
        for (size_t a = 0; a < no; a++)
            e += wb[a] * w->y[a];
        dev[w->mis[b]] = e;
    }
}

void em_gauss_add_moments(size_t d, const double *dev, double r,
                          int diag_only, double *s1, double *s2)
{
    for (size_t i = 0; i < d; i++) {
        double ri = r * dev[i];
        s1[i] += ri;
        if (diag_only)
            s2[i] += ri * dev[i];
        else
            for (size_t j = i; j < d; j++)
                s2[em_gauss_tri(d, i, j)] += ri * dev[j];
    }
}

void em_gauss_add_cond_cov(const em_gauss_work *w, double r, int diag_only,
                           double *s2)
{
    size_t d = w->d, nm = w->nm;
    for (size_t b = 0; b < nm; b++) {
        if (diag_only) {
            s2[w->mis[b]] += r * w->c[b * d + b];
            continue;
        }
        /* mis is ascending, so (mis[b], mis[c]) with c >= b is upper */
        for (size_t c = b; c < nm; c++)
            s2[em_gauss_tri(d, w->mis[b], w->mis[c])] += r * w->c[b * d + c];
    }
}
