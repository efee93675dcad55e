/* Probability vectors of the hidden Markov model (internal): the rows of
 * start, trans and categorical emissions share their check, M-step and
 * unconstrained coordinates; and the chain's stationary distribution. */
#include <math.h>
#include <stdlib.h>

#include "models/hmm.h"

int hmm_is_prob(const double *p, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return 0;
        sum += p[i];
    }
    return fabs(sum - 1) <= 1e-9 * (double)(n > 1 ? n : 1);
}

void hmm_prob_mstep(double *p, const double *c, size_t n,
                    const unsigned char *fixed)
{
    double held = 0, free_counts = 0;
    for (size_t j = 0; j < n; j++) {
        if (fixed && fixed[j])
            held += p[j];
        else
            free_counts += c[j];
    }
    if (!(free_counts > 0))
        return; /* nothing seen: the row does not enter the likelihood */
    double rest = held < 1 ? 1 - held : 0;
    for (size_t j = 0; j < n; j++)
        if (!(fixed && fixed[j]))
            p[j] = rest * (c[j] / free_counts);
}

static int held(const unsigned char *fixed, size_t j)
{
    return fixed && fixed[j];
}

size_t hmm_prob_to_free(const double *p, size_t n,
                        const unsigned char *fixed, double *u)
{
    size_t r = n, m = 0;
    for (size_t j = n; j-- > 0 && r == n;)
        if (!held(fixed, j))
            r = j;
    for (size_t j = 0; j < r; j++)
        if (!held(fixed, j))
            u[m++] = log(p[j]) - log(p[r]);
    return m;
}

size_t hmm_prob_from_free(const double *u, size_t n,
                          const unsigned char *fixed, double *p)
{
    size_t r = n, m = 0;
    double rest = 1, top = 0, sum = 0;
    for (size_t j = n; j-- > 0 && r == n;)
        if (!held(fixed, j))
            r = j;
    if (r == n)
        return 0; /* every entry held */
    for (size_t j = 0; j < n; j++)
        if (held(fixed, j))
            rest -= p[j];
        else if (j < r)
            top = fmax(top, u[m++]);
    m = 0;
    for (size_t j = 0; j <= r; j++)
        if (!held(fixed, j))
            sum += p[j] = exp((j < r ? u[m++] : 0.0) - top);
    for (size_t j = 0; j <= r; j++)
        if (!held(fixed, j))
            p[j] *= (rest > 0 ? rest : 0) / sum;
    return m;
}

/* The stationary distribution pi = pi A, sum pi = 1, by Gaussian
 * elimination with partial pivoting on (A^T - I) with its last equation
 * replaced by the sum; 0 when it is not unique (a reducible chain). */
int hmm_stationary(const double *a, size_t k, double *pi)
{
    double *m = malloc(k * (k + 1) * sizeof *m); /* k x (k + 1), augmented */
    if (!m)
        return 0;
    size_t w = k + 1;
    for (size_t r = 0; r < k; r++) {
        for (size_t c = 0; c < k; c++)
            m[r * w + c] = r + 1 == k ? 1.0 : a[c * k + r] - (r == c);
        m[r * w + k] = r + 1 == k ? 1.0 : 0.0;
    }
    int ok = 1;
    for (size_t c = 0; c < k && ok; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < k; r++)
            if (fabs(m[r * w + c]) > fabs(m[p * w + c]))
                p = r;
        if (!(fabs(m[p * w + c]) > 1e-12)) {
            ok = 0;
            break;
        }
        for (size_t q = 0; q < w; q++) {
            double t = m[c * w + q];
            m[c * w + q] = m[p * w + q], m[p * w + q] = t;
        }
        for (size_t r = c + 1; r < k; r++) {
            double f = m[r * w + c] / m[c * w + c];
            for (size_t q = c; q < w; q++)
                m[r * w + q] -= f * m[c * w + q];
        }
    }
    for (size_t c = k; ok && c-- > 0;) {
        double v = m[c * w + k];
        for (size_t q = c + 1; q < k; q++)
            v -= m[c * w + q] * pi[q];
        pi[c] = v / m[c * w + c];
    }
    for (size_t c = 0; ok && c < k; c++)
        pi[c] = pi[c] < 0 ? 0 : pi[c]; /* rounding below 0 */
    free(m);
    return ok;
}

