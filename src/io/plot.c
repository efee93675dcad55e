/* em_plot_svg: the page layout, the log-likelihood panel and the small
 * multiples of the parameter traces.  The data panels are in plot_data.c
 * and the SVG primitives in svg.c.
 *
 * Layout, top to bottom, 960 pixels wide: a title and a summary line; the
 * log-likelihood and the data panel side by side; the parameter panels in
 * rows of four; a line naming what was left out.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emfit/plot.h"
#include "io/plot_data.h"
#include "io/svg.h"

#define PAGE_W 960.0
#define MARGIN 20.0
#define HEAD_H 64.0  /* title and summary line */
#define TOP_H 380.0  /* the log-likelihood and data panels */
#define GRID_COLS 4
#define CELL_H 170.0 /* a parameter panel */
#define FOOT_H 30.0

typedef struct page {
    const em_model *m;
    const em_table *data;
    const em_plot_trace *tr;
    em_plot_data_kind kind;
    size_t ntraced, npanels; /* parameters traced, panels drawn */
    double *iter;            /* 0, 1, ..., nrows - 1 */
    double *col;             /* one parameter's trace */
} page;

static em_status check_args(FILE *f, const em_model *m, const em_table *data,
                            const double *theta, const em_plot_trace *tr,
                            em_error *err)
{
    if (!f || !m || !m->type || !data || !theta)
        return em_error_set(err, EM_ERR_ARG, "em_plot_svg: a NULL argument");
    if (!tr || tr->nrows == 0)
        return EM_OK;
    if (!tr->loglik || (!tr->params && m->info.nparams > 0))
        return em_error_set(err, EM_ERR_ARG,
                            "em_plot_svg: a trace without its values");
    for (size_t c = 0; tr->cols && c < tr->ncols; c++)
        if (tr->cols[c] >= m->info.nparams)
            return em_error_set(err, EM_ERR_ARG,
                                "em_plot_svg: traced parameter %zu of %zu "
                                "does not exist",
                                tr->cols[c], m->info.nparams);
    return EM_OK;
}

static size_t param_of(const page *pg, size_t c)
{
    return pg->tr->cols ? pg->tr->cols[c] : c;
}

static double page_height(const page *pg)
{
    size_t rows = (pg->npanels + GRID_COLS - 1) / GRID_COLS;
    double h = HEAD_H + MARGIN + FOOT_H + (double)rows * CELL_H;
    if (pg->tr || pg->kind != EM_PLOT_DATA_NONE)
        h += TOP_H;
    return h;
}

/* The title and a line with the model, the rows and the final fit. */
static void heading(FILE *f, const page *pg)
{
    const em_plot_trace *tr = pg->tr;
    em_svg_text(f, MARGIN, 30, "t", "emfit: %s fit of %s", pg->m->type->name,
                pg->data->source ? pg->data->source : "the data");
    char fit[128] = "";
    if (tr && isfinite(tr->loglik[tr->nrows - 1]))
        snprintf(fit, sizeof fit, "; log-likelihood %.6f after %zu iteration%s",
                 tr->loglik[tr->nrows - 1], tr->nrows - 1,
                 tr->nrows == 2 ? "" : "s");
    em_svg_text(f, MARGIN, 52, "note", "%zu rows, %zu column%s, %zu parameters%s",
                pg->data->nrows, pg->data->ncols,
                pg->data->ncols == 1 ? "" : "s", pg->m->info.nparams, fit);
}

/* One trace panel: values against the iteration in the cell. */
static void trace_panel(FILE *f, const page *pg, const double *v,
                        const char *cls, const char *title, double x,
                        double y, double w, double h, int big)
{
    size_t n = pg->tr->nrows;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    em_svg_frame fr;
    em_svg_axis_fit(&fr.ax, 0, (double)(n - 1), big ? 8 : 4, 1);
    em_svg_axis_fit(&fr.ay, lo, hi, big ? 6 : 3, 0);
    em_svg_frame_place(&fr, x, y, w, h, 0, big ? 16 : 0);
    em_svg_axes(f, &fr, title, big ? "iteration" : NULL, NULL);
    em_svg_line(f, &fr, pg->iter, v, n, cls);
}

static void loglik_panel(FILE *f, const page *pg, double w)
{
    fputs("<g class=\"panel loglik\">\n", f);
    trace_panel(f, pg, pg->tr->loglik, "ll", "log-likelihood", MARGIN,
                HEAD_H, w, TOP_H, 1);
    fputs("</g>\n", f);
}

static void param_panels(FILE *f, const page *pg, double top)
{
    const em_plot_trace *tr = pg->tr;
    size_t np = pg->m->info.nparams;
    double cw = (PAGE_W - 2 * MARGIN) / GRID_COLS;
    for (size_t c = 0; c < pg->npanels; c++) {
        size_t p = param_of(pg, c);
        for (size_t i = 0; i < tr->nrows; i++)
            pg->col[i] = tr->params[i * np + p];
        fputs("<g class=\"panel trace\">\n", f);
        trace_panel(f, pg, pg->col, "ln", pg->m->info.param_names[p],
                    MARGIN + (double)(c % GRID_COLS) * cw,
                    top + (double)(c / GRID_COLS) * CELL_H, cw, CELL_H, 0);
        fputs("</g>\n", f);
    }
    if (pg->ntraced > pg->npanels)
        em_svg_text(f, MARGIN,
                    top + (double)((pg->npanels + GRID_COLS - 1) / GRID_COLS) *
                              CELL_H + 16,
                    "note",
                    "%zu more parameter%s not shown: at most %d panels are "
                    "drawn; choose which with --trace-params",
                    pg->ntraced - pg->npanels,
                    pg->ntraced - pg->npanels == 1 ? " is" : "s are",
                    EM_PLOT_MAX_PANELS);
}

static em_status draw(FILE *f, const page *pg, const double *theta,
                      em_error *err)
{
    double full = PAGE_W - 2 * MARGIN, half = (full - MARGIN) / 2;
    em_svg_begin(f, PAGE_W, page_height(pg));
    heading(f, pg);
    em_status st = EM_OK;
    if (pg->tr)
        loglik_panel(f, pg, pg->kind != EM_PLOT_DATA_NONE ? half : full);
    if (pg->kind != EM_PLOT_DATA_NONE)
        st = em_plot_data_panel(f, pg->kind, pg->m, pg->data, theta,
                                pg->tr ? 2 * MARGIN + half : MARGIN, HEAD_H,
                                half, TOP_H, err);
    if (st == EM_OK && pg->tr)
        param_panels(f, pg, HEAD_H + TOP_H + MARGIN);
    em_svg_end(f);
    return st;
}

em_status em_plot_svg(FILE *f, const em_model *m, const em_table *data,
                      const double *theta, const em_plot_trace *trace,
                      em_error *err)
{
    em_status st = check_args(f, m, data, theta, trace, err);
    if (st != EM_OK)
        return st;
    st = m->type->prepare(m->state, theta, err);
    if (st != EM_OK)
        return st;
    page pg = {.m = m, .data = data, .kind = em_plot_data_kind_of(m, data)};
    if (trace && trace->nrows > 0) {
        pg.tr = trace;
        pg.ntraced = trace->cols ? trace->ncols : m->info.nparams;
        pg.npanels = pg.ntraced < EM_PLOT_MAX_PANELS ? pg.ntraced
                                                     : EM_PLOT_MAX_PANELS;
        pg.iter = malloc(trace->nrows * sizeof *pg.iter);
        pg.col = malloc(trace->nrows * sizeof *pg.col);
        if (!pg.iter || !pg.col) {
            free(pg.iter), free(pg.col);
            return em_error_set(err, EM_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < trace->nrows; i++)
            pg.iter[i] = (double)i;
    }
    st = draw(f, &pg, theta, err);
    free(pg.iter), free(pg.col);
    if (st == EM_OK && (fflush(f) != 0 || ferror(f)))
        st = em_error_set(err, EM_ERR_IO, "cannot write the plot: %s",
                          strerror(errno));
    return st;
}
