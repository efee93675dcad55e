/* A small SVG writer for the plots (internal): escaped text, axes with
 * nice ticks, and lines thinned to what a pixel can show.
 *
 * Coordinates are pixels with y pointing down, written with one decimal
 * and clamped to a sane range, so the file never holds "nan" or "inf"
 * whatever the numbers fed in.
 */
#ifndef EMFIT_IO_SVG_H
#define EMFIT_IO_SVG_H

#include <stddef.h>
#include <stdio.h>

/* An axis from lo to hi with ticks at the multiples of step between them;
 * step is 1, 2 or 5 x 10^k. */
typedef struct em_svg_axis {
    double lo, hi, step;
} em_svg_axis;

/* Fits an axis over [lo, hi] with about target intervals, widening the
 * ends to multiples of the step.  A flat range (hi - lo tiny against the
 * values) is padded and non-finite ends give [0, 1].  With integer set
 * (iteration numbers) the step is at least 1 and the ends are not widened
 * to ticks but inset by 2%. */
void em_svg_axis_fit(em_svg_axis *a, double lo, double hi, int target,
                     int integer);

/* The number of ticks on a (lo, lo + step, ..., hi), and the i-th one
 * (exactly 0 where it should be, not 1e-17). */
size_t em_svg_axis_nticks(const em_svg_axis *a);
double em_svg_axis_tick(const em_svg_axis *a, size_t i);

/* A tick label with as many decimals as the step needs, in exponent form
 * for very large or small values; "0" for zero (never "-0"). */
void em_svg_tick_label(char *buf, size_t size, const em_svg_axis *a,
                       double v);

/* A plot area inside a panel, in pixels, and the axes it maps; cell_x is
 * the panel's left edge, where a y axis label goes. */
typedef struct em_svg_frame {
    double x, y, w, h, cell_x;
    em_svg_axis ax, ay;
} em_svg_frame;

/* Places the plot area of fr (whose axes are set) inside the cell (x, y,
 * w, h): room above for a title, left for the y tick labels (measured)
 * plus `left` pixels, and below for the x tick labels plus `below`. */
void em_svg_frame_place(em_svg_frame *fr, double x, double y, double w,
                        double h, double left, double below);

/* Data to pixels. */
double em_svg_px(const em_svg_frame *fr, double v);
double em_svg_py(const em_svg_frame *fr, double v);

/* A coordinate as written: one decimal, clamped to +-1e5, NaN as 0. */
void em_svg_coord(FILE *f, double v);

/* Opens the document (XML prolog, svg element with the namespace, the
 * style sheet, a white background) and closes it. */
void em_svg_begin(FILE *f, double w, double h);
void em_svg_end(FILE *f);

/* Writes s as XML character data: markup characters escaped, control
 * characters and bytes that are not UTF-8 replaced by '?'. */
void em_svg_escape(FILE *f, const char *s);

/* <text> at (x, y) with class cls (see the style sheet in svg.c), holding
 * the escaped printf-formatted text. */
void em_svg_text(FILE *f, double x, double y, const char *cls,
                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The frame's grid, ticks and tick labels, border, title and axis labels
 * (xlabel, ylabel may be NULL). */
void em_svg_axes(FILE *f, const em_svg_frame *fr, const char *title,
                 const char *xlabel, const char *ylabel);

/* A line through (x[i], y[i]) as one <path> of class cls, x increasing.
 * Non-finite points break the line; where many points share a pixel
 * column only the first, lowest, highest and last are kept, which draws
 * the same picture.  A lone point is drawn as a small plus. */
void em_svg_line(FILE *f, const em_svg_frame *fr, const double *x,
                 const double *y, size_t n, const char *cls);

#endif
