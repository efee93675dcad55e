#include "io/plot_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/numeric.h"
#include "emfit/plot.h"
#include "io/svg.h"

/* Component colours; blue and orange are left to the points. */
static const char *const palette[] = {"#d62728", "#2ca02c", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf",
                                      "#bcbd22", "#555555"};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* Points sampled along the fitted density. */
#define DENSITY_POINTS 300
/* Histogram bins: about sqrt(n), within these bounds. */
#define MIN_BINS 5
#define MAX_BINS 50
/* Room under a data panel's x label for its legend and notes. */
#define LEGEND_SPACE 64
/* Average glyph width of 11 px text, for placing legend items. */
#define TEXT_GLYPH 5.8

em_plot_data_kind em_plot_data_kind_of(const em_model *m,
                                       const em_table *data)
{
    if (data->ncols == 2 && m->type->components2d)
        return EM_PLOT_DATA_SCATTER;
    if (data->ncols == 1 && m->type->density1d)
        return EM_PLOT_DATA_HISTOGRAM;
    return EM_PLOT_DATA_NONE;
}

void em_plot_impute2(const double *weight, const double *mean,
                     const double *cov, size_t n, const double *xy,
                     double *out)
{
    out[0] = out[1] = NAN;
    size_t o = isnan(xy[0]) ? 1 : 0, mi = 1 - o;
    if (isnan(xy[o]) || !isnan(xy[mi]))
        return;
    /* log responsibility and conditional mean of each component, then
     * their weighted average with the largest log term taken out */
    double top = -INFINITY, sum = 0, acc = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < n; k++) {
            const double *mu = mean + 2 * k, *c = cov + 4 * k;
            double coo = c[3 * o], cmo = c[1];
            if (!(weight[k] > 0 && coo > 0))
                continue;
            double d = xy[o] - mu[o];
            double lr = log(weight[k]) - 0.5 * log(coo) - 0.5 * d * d / coo;
            if (pass == 0) {
                top = fmax(top, lr);
                continue;
            }
            double r = exp(lr - top);
            sum += r;
            acc += r * (mu[mi] + cmo / coo * d);
        }
    if (!(sum > 0))
        return;
    out[o] = xy[o];
    out[mi] = acc / sum;
}

/* ---- scatter plot ------------------------------------------------------ */

typedef struct points {
    double *x, *y;      /* drawn rows, observed ones first */
    size_t nobs, nimp;  /* complete rows, rows with one imputed value */
    size_t used, empty; /* rows with data, rows missing both */
    size_t stride;      /* every stride-th row with data is drawn */
} points;

typedef struct comps {
    size_t n;
    double w[EM_PLOT_MAX_COMPONENTS], mean[2 * EM_PLOT_MAX_COMPONENTS],
        cov[4 * EM_PLOT_MAX_COMPONENTS];
} comps;

/* The rows' imputed position: the model's own, else the components'. */
static void impute_row(const em_model *m, const comps *c, const double *row,
                       size_t i, double *out)
{
    if (m->type->impute)
        m->type->impute(m->state, i, i + 1, out);
    else
        em_plot_impute2(c->w, c->mean, c->cov, c->n, row, out);
}

/* Takes every stride-th row with data, so at most EM_PLOT_MAX_POINTS. */
static em_status sample_points(const em_model *m, const em_table *t,
                               const comps *c, points *p, em_error *err)
{
    *p = (points){.stride = 1};
    for (size_t i = 0; i < t->nrows; i++)
        p->used += !isnan(em_table_at(t, i, 0)) || !isnan(em_table_at(t, i, 1));
    p->empty = t->nrows - p->used;
    if (p->used > EM_PLOT_MAX_POINTS)
        p->stride = (p->used + EM_PLOT_MAX_POINTS - 1) / EM_PLOT_MAX_POINTS;
    size_t cap = p->used / p->stride + 1;
    p->x = malloc(cap * sizeof *p->x);
    p->y = malloc(cap * sizeof *p->y);
    double *ix = malloc(cap * sizeof *ix), *iy = malloc(cap * sizeof *iy);
    if (!p->x || !p->y || !ix || !iy) {
        free(ix), free(iy);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0, k = 0; i < t->nrows; i++) {
        const double *row = t->values + 2 * i;
        int hx = !isnan(row[0]), hy = !isnan(row[1]);
        if ((!hx && !hy) || k++ % p->stride)
            continue;
        if (hx && hy) {
            p->x[p->nobs] = row[0], p->y[p->nobs++] = row[1];
            continue;
        }
        double out[2];
        impute_row(m, c, row, i, out);
        if (isfinite(out[0]) && isfinite(out[1]))
            ix[p->nimp] = out[0], iy[p->nimp++] = out[1];
    }
    memcpy(p->x + p->nobs, ix, p->nimp * sizeof *ix);
    memcpy(p->y + p->nobs, iy, p->nimp * sizeof *iy);
    free(ix), free(iy);
    return EM_OK;
}

/* Ranges over the points and each component's 2-SD box. */
static void scatter_axes(const points *p, const comps *c, em_svg_frame *fr)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < p->nobs + p->nimp; i++) {
        lo[0] = fmin(lo[0], p->x[i]), hi[0] = fmax(hi[0], p->x[i]);
        lo[1] = fmin(lo[1], p->y[i]), hi[1] = fmax(hi[1], p->y[i]);
    }
    for (size_t k = 0; k < c->n; k++)
        for (int j = 0; j < 2; j++) {
            double r = 2 * sqrt(c->cov[4 * k + 3 * j]), mu = c->mean[2 * k + j];
            if (c->w[k] > 0 && isfinite(r) && isfinite(mu))
                lo[j] = fmin(lo[j], mu - r), hi[j] = fmax(hi[j], mu + r);
        }
    em_svg_axis_fit(&fr->ax, lo[0], hi[0], 5, 0);
    em_svg_axis_fit(&fr->ay, lo[1], hi[1], 5, 0);
}

/* The ellipse at r standard deviations of component k.  The covariance is
 * mapped to pixels first (a linear map of an ellipse is the ellipse of the
 * mapped covariance), so unequal axis scales still draw it right. */
static void ellipse(FILE *f, const em_svg_frame *fr, const comps *c, size_t k,
                    double r, const char *cls)
{
    double sx = fr->w / (fr->ax.hi - fr->ax.lo);
    double sy = fr->h / (fr->ay.hi - fr->ay.lo);
    const double *s = c->cov + 4 * k;
    /* y points down in pixels, so the off-diagonal changes sign */
    double a = sx * sx * s[0], b = -sx * sy * s[1], d = sy * sy * s[3];
    double mid = 0.5 * (a + d), half = hypot(0.5 * (a - d), b);
    double l1 = mid + half, l2 = fmax(mid - half, 0);
    double deg = 0.5 * atan2(2 * b, a - d) * 180 / 3.14159265358979323846;
    double cx = em_svg_px(fr, c->mean[2 * k]);
    double cy = em_svg_py(fr, c->mean[2 * k + 1]);
    if (!isfinite(l1) || !isfinite(deg) || !isfinite(cx) || !isfinite(cy))
        return;
    fprintf(f, "<ellipse class=\"%s\" stroke=\"%s\" cx=\"", cls,
            palette[k % NPALETTE]);
    em_svg_coord(f, cx);
    fputs("\" cy=\"", f);
    em_svg_coord(f, cy);
    fputs("\" rx=\"", f);
    em_svg_coord(f, r * sqrt(l1));
    fputs("\" ry=\"", f);
    em_svg_coord(f, r * sqrt(l2));
    fputs("\" transform=\"rotate(", f);
    em_svg_coord(f, deg);
    fputc(' ', f);
    em_svg_coord(f, cx);
    fputc(' ', f);
    em_svg_coord(f, cy);
    fputs(")\"/>\n", f);
}

/* A dot (a zero-length round-capped stroke) or a cross at pixel (x, y). */
static void marker(FILE *f, double x, double y, int cross)
{
    fputc('M', f);
    em_svg_coord(f, x - (cross ? 3 : 0));
    fputc(' ', f);
    em_svg_coord(f, y - (cross ? 3 : 0));
    fputs(cross ? "l6 6m0-6l-6 6" : "h0", f);
}

static void markers(FILE *f, const em_svg_frame *fr, const double *x,
                    const double *y, size_t n, int cross)
{
    fprintf(f, "<path class=\"%s\" d=\"", cross ? "imp" : "obs");
    for (size_t i = 0; i < n; i++)
        marker(f, em_svg_px(fr, x[i]), em_svg_py(fr, y[i]), cross);
    fputs("\"/>\n", f);
}

static void centre(FILE *f, const em_svg_frame *fr, const comps *c, size_t k)
{
    double x = em_svg_px(fr, c->mean[2 * k]);
    double y = em_svg_py(fr, c->mean[2 * k + 1]);
    fprintf(f, "<path class=\"ctr\" stroke=\"%s\" d=\"M", palette[k % NPALETTE]);
    em_svg_coord(f, x - 6);
    fputc(' ', f);
    em_svg_coord(f, y);
    fputs("h12M", f);
    em_svg_coord(f, x);
    fputc(' ', f);
    em_svg_coord(f, y - 6);
    fputs("v12\"/>\n", f);
}

/* A legend item: a symbol drawn by the caller's path d at (x, y), then
 * its label; returns the x after it. */
static double legend_item(FILE *f, double x, double y, const char *cls,
                          const char *d, const char *label)
{
    fprintf(f, "<path class=\"%s\" stroke=\"#555\" d=\"M", cls);
    em_svg_coord(f, x);
    fputc(' ', f);
    em_svg_coord(f, y - 4);
    fprintf(f, "%s\"/>\n", d);
    em_svg_text(f, x + 22, y, "note", "%s", label);
    return x + 40 + TEXT_GLYPH * (double)strlen(label);
}

static void scatter_legend(FILE *f, const em_svg_frame *fr, const points *p)
{
    char buf[96];
    double y = fr->y + fr->h + 45, x = fr->cell_x + 10;
    fputs("<g class=\"legend\">\n", f);
    snprintf(buf, sizeof buf, "observed (%zu)", p->nobs);
    x = legend_item(f, x + 6, y, "obs", "h0", buf);
    snprintf(buf, sizeof buf, "imputed: one value missing (%zu)", p->nimp);
    legend_item(f, x, y, "imp", "m-3-3l6 6m0-6l-6 6", buf);
    y += 15;
    x = legend_item(f, fr->cell_x + 10, y, "sd1", "h16", "1 SD");
    legend_item(f, x, y, "sd2", "h16",
                "2 SD: ellipses of each fitted normal, + its mean");
    if (p->stride > 1) {
        y += 15;
        em_svg_text(f, fr->cell_x + 10, y, "note",
                    "%zu rows: one row in %zu is drawn; the ellipses "
                    "are fitted to all",
                    p->used + p->empty, p->stride);
    }
    if (p->empty)
        em_svg_text(f, fr->cell_x + 10, y + 15, "note",
                    "%zu row(s) missing both values left out", p->empty);
    fputs("</g>\n", f);
}

static em_status scatter(FILE *f, const em_model *m, const em_table *t,
                         const double *theta, double x, double y, double w,
                         double h, em_error *err)
{
    comps c;
    c.n = m->type->components2d(m->state, theta, EM_PLOT_MAX_COMPONENTS, c.w,
                                c.mean, c.cov);
    points p;
    em_status st = sample_points(m, t, &c, &p, err);
    if (st == EM_OK) {
        em_svg_frame fr;
        scatter_axes(&p, &c, &fr);
        em_svg_frame_place(&fr, x, y, w, h, 16, LEGEND_SPACE);
        fputs("<g class=\"panel scatter\">\n", f);
        em_svg_axes(f, &fr, "data and fitted normals", t->names[0],
                    t->names[1]);
        fputs("<clipPath id=\"scatter-clip\"><rect x=\"", f);
        em_svg_coord(f, fr.x);
        fputs("\" y=\"", f);
        em_svg_coord(f, fr.y);
        fputs("\" width=\"", f);
        em_svg_coord(f, fr.w);
        fputs("\" height=\"", f);
        em_svg_coord(f, fr.h);
        fputs("\"/></clipPath>\n<g clip-path=\"url(#scatter-clip)\">\n", f);
        markers(f, &fr, p.x, p.y, p.nobs, 0);
        markers(f, &fr, p.x + p.nobs, p.y + p.nobs, p.nimp, 1);
        for (size_t k = 0; k < c.n; k++)
            if (c.w[k] > 0) {
                ellipse(f, &fr, &c, k, 2, "sd2");
                ellipse(f, &fr, &c, k, 1, "sd1");
                centre(f, &fr, &c, k);
            }
        fputs("</g>\n", f);
        scatter_legend(f, &fr, &p);
        fputs("</g>\n", f);
    }
    free(p.x), free(p.y);
    return st;
}

/* ---- histogram --------------------------------------------------------- */

typedef struct histogram {
    em_svg_axis bins; /* bin edges: bins.lo, + step, ..., bins.hi */
    size_t nbins, n, missing;
    size_t count[MAX_BINS + 2];
} histogram;

static void count_bins(const em_table *t, histogram *hg)
{
    double lo = INFINITY, hi = -INFINITY;
    memset(hg, 0, sizeof *hg);
    for (size_t i = 0; i < t->nrows; i++) {
        double v = t->values[i];
        if (isnan(v)) {
            hg->missing++;
            continue;
        }
        hg->n++;
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    int target = (int)ceil(sqrt((double)hg->n));
    target = target < MIN_BINS ? MIN_BINS : target > MAX_BINS ? MAX_BINS
                                                              : target;
    em_svg_axis_fit(&hg->bins, lo, hi, target, 0);
    /* a nice step at or above the raw one gives at most target + 2 bins */
    size_t edges = em_svg_axis_nticks(&hg->bins);
    hg->nbins = edges < 2 ? 1 : edges - 1 > MAX_BINS + 2 ? MAX_BINS + 2
                                                        : edges - 1;
    for (size_t i = 0; i < t->nrows; i++) {
        double v = t->values[i];
        if (isnan(v))
            continue;
        double b = floor((v - hg->bins.lo) / hg->bins.step);
        size_t j = b < 0 ? 0 : (size_t)b;
        hg->count[j < hg->nbins ? j : hg->nbins - 1]++;
    }
}

static void bars(FILE *f, const em_svg_frame *fr, const histogram *hg)
{
    double scale = 1.0 / ((double)hg->n * hg->bins.step);
    for (size_t j = 0; j < hg->nbins; j++) {
        if (!hg->count[j])
            continue;
        double a = hg->bins.lo + (double)j * hg->bins.step;
        double x0 = em_svg_px(fr, a), x1 = em_svg_px(fr, a + hg->bins.step);
        double top = em_svg_py(fr, (double)hg->count[j] * scale);
        fputs("<rect class=\"bar\" x=\"", f);
        em_svg_coord(f, x0);
        fputs("\" y=\"", f);
        em_svg_coord(f, top);
        fputs("\" width=\"", f);
        em_svg_coord(f, x1 - x0);
        fputs("\" height=\"", f);
        em_svg_coord(f, fr->y + fr->h - top);
        fputs("\"/>\n", f);
    }
}

static void histogram_legend(FILE *f, const em_svg_frame *fr,
                             const histogram *hg)
{
    char buf[96];
    double y = fr->y + fr->h + 45, x = fr->cell_x + 10;
    fputs("<g class=\"legend\">\n", f);
    snprintf(buf, sizeof buf, "observed values (%zu), density scale", hg->n);
    x = legend_item(f, x, y, "bar", "h14v8h-14z", buf);
    legend_item(f, x, y, "dens", "h16", "fitted density");
    if (hg->missing)
        em_svg_text(f, fr->cell_x + 10, y + 15, "note",
                    "%zu missing value(s) left out", hg->missing);
    fputs("</g>\n", f);
}

static em_status histogram_panel(FILE *f, const em_model *m,
                                 const em_table *t, const double *theta,
                                 double x, double y, double w, double h,
                                 em_error *err)
{
    histogram hg;
    double *dx = malloc(DENSITY_POINTS * sizeof *dx);
    double *dy = malloc(DENSITY_POINTS * sizeof *dy);
    if (!dx || !dy) {
        free(dx), free(dy);
        return em_error_set(err, EM_ERR_NOMEM, "out of memory");
    }
    count_bins(t, &hg);
    em_svg_frame fr;
    em_svg_axis_fit(&fr.ax, hg.bins.lo, hg.bins.hi, 6, 0);
    double top = 0;
    for (size_t j = 0; hg.n && j < hg.nbins; j++)
        top = fmax(top, (double)hg.count[j] / ((double)hg.n * hg.bins.step));
    for (size_t i = 0; i < DENSITY_POINTS; i++) {
        dx[i] = fr.ax.lo + (fr.ax.hi - fr.ax.lo) * (double)i /
                               (DENSITY_POINTS - 1);
        dy[i] = m->type->density1d(m->state, theta, dx[i]);
        if (isfinite(dy[i]))
            top = fmax(top, dy[i]);
    }
    em_svg_axis_fit(&fr.ay, 0, top > 0 ? top : 1, 5, 0);
    em_svg_frame_place(&fr, x, y, w, h, 16, LEGEND_SPACE);
    fputs("<g class=\"panel histogram\">\n", f);
    em_svg_axes(f, &fr, "data and fitted density", t->names[0], "density");
    bars(f, &fr, &hg);
    em_svg_line(f, &fr, dx, dy, DENSITY_POINTS, "dens");
    histogram_legend(f, &fr, &hg);
    fputs("</g>\n", f);
    free(dx), free(dy);
    return EM_OK;
}

em_status em_plot_data_panel(FILE *f, em_plot_data_kind kind,
                             const em_model *m, const em_table *data,
                             const double *theta, double x, double y,
                             double w, double h, em_error *err)
{
    if (kind == EM_PLOT_DATA_SCATTER)
        return scatter(f, m, data, theta, x, y, w, h, err);
    if (kind == EM_PLOT_DATA_HISTOGRAM)
        return histogram_panel(f, m, data, theta, x, y, w, h, err);
    return EM_OK;
}
