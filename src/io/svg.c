#include "io/svg.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* Pixel coordinates beyond this are off any page; clamping keeps a huge
 * ellipse or a wild value from printing as 1e300 or inf. */
#define COORD_MAX 1e5
/* Data values beyond this are clamped before any arithmetic on a range,
 * so that hi - lo cannot overflow. */
#define VALUE_MAX 1e300
/* A range narrower than this fraction of its values is drawn as flat. */
#define FLAT_RANGE 1e-9
/* Average glyph width of the 10 px tick labels, for measuring them. */
#define TICK_GLYPH 6.2

static double clamp(double v, double m)
{
    return v > m ? m : v < -m ? -m : v;
}

/* The nice number (1, 2, 5 or 10 x 10^k) at or just above raw > 0. */
static double nice_step(double raw)
{
    double p = pow(10, floor(log10(raw)));
    double r = raw / p;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * p;
}

void em_svg_axis_fit(em_svg_axis *a, double lo, double hi, int target,
                     int integer)
{
    if (!isfinite(lo) || !isfinite(hi))
        lo = 0, hi = 1;
    lo = clamp(lo, VALUE_MAX), hi = clamp(hi, VALUE_MAX);
    if (hi < lo) {
        double t = lo;
        lo = hi, hi = t;
    }
    double mag = fmax(fabs(lo), fabs(hi));
    if (!integer && (hi - lo <= FLAT_RANGE * mag || hi == lo)) {
        /* a constant trace: centre it in a band 10% of its size */
        double pad = mag > 0 ? 0.05 * mag : 0.5;
        lo -= pad, hi += pad;
    }
    if (integer && hi - lo < 1)
        hi = lo + 1;
    double step = nice_step((hi - lo) / (target > 0 ? target : 1));
    if (integer) {
        /* iterations: the ends stay where the data end, inset a little so
         * that the first and last points do not sit on the border */
        a->step = step < 1 ? 1 : step;
        a->lo = lo - 0.02 * (hi - lo);
        a->hi = hi + 0.02 * (hi - lo);
        return;
    }
    a->step = step;
    a->lo = floor(lo / step) * step;
    a->hi = ceil(hi / step) * step;
}

/* The first tick as a multiple of the step.  The slack absorbs the
 * rounding of lo / step when lo is itself a multiple. */
static double first_multiple(const em_svg_axis *a)
{
    return ceil(a->lo / a->step - 1e-6);
}

size_t em_svg_axis_nticks(const em_svg_axis *a)
{
    double n = floor(a->hi / a->step - first_multiple(a) + 1e-6) + 1;
    return n > 0 ? (size_t)n : 0;
}

double em_svg_axis_tick(const em_svg_axis *a, size_t i)
{
    /* from the integer multiple, so ticks do not drift by accumulation */
    double v = (first_multiple(a) + (double)i) * a->step;
    return fabs(v) < 1e-9 * a->step ? 0.0 : v;
}

void em_svg_tick_label(char *buf, size_t size, const em_svg_axis *a,
                       double v)
{
    if (v == 0 || !isfinite(v)) {
        snprintf(buf, size, "0");
        return;
    }
    double mag = fmax(fabs(a->lo), fabs(a->hi));
    int step_exp = (int)floor(log10(a->step) + 1e-9);
    int decimals = step_exp < 0 ? -step_exp : 0;
    if (mag < 1e6 && decimals <= 6) {
        snprintf(buf, size, "%.*f", decimals, v);
        return;
    }
    int digits = (int)floor(log10(mag)) - step_exp + 1;
    digits = digits < 1 ? 1 : digits > 15 ? 15 : digits;
    snprintf(buf, size, "%.*g", digits, v);
}

void em_svg_frame_place(em_svg_frame *fr, double x, double y, double w,
                        double h, double left, double below)
{
    size_t widest = 1;
    char buf[48];
    for (size_t i = 0; i < em_svg_axis_nticks(&fr->ay); i++) {
        em_svg_tick_label(buf, sizeof buf, &fr->ay,
                          em_svg_axis_tick(&fr->ay, i));
        if (strlen(buf) > widest)
            widest = strlen(buf);
    }
    double l = left + 10 + TICK_GLYPH * (double)widest;
    fr->cell_x = x;
    fr->x = x + l;
    fr->y = y + 24;
    fr->w = fmax(w - l - 14, 10);
    fr->h = fmax(h - 24 - 18 - below, 10);
}

double em_svg_px(const em_svg_frame *fr, double v)
{
    return fr->x + (v - fr->ax.lo) / (fr->ax.hi - fr->ax.lo) * fr->w;
}

double em_svg_py(const em_svg_frame *fr, double v)
{
    return fr->y + fr->h - (v - fr->ay.lo) / (fr->ay.hi - fr->ay.lo) * fr->h;
}

void em_svg_coord(FILE *f, double v)
{
    fprintf(f, "%.1f", isnan(v) ? 0.0 : clamp(v, COORD_MAX));
}

void em_svg_begin(FILE *f, double w, double h)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", f);
    em_svg_coord(f, w);
    fputs("\" height=\"", f);
    em_svg_coord(f, h);
    fputs("\" viewBox=\"0 0 ", f);
    em_svg_coord(f, w);
    fputc(' ', f);
    em_svg_coord(f, h);
    fputs("\">\n<style>\n"
          "text{font-family:sans-serif;font-size:11px;fill:#222}\n"
          ".t{font-size:17px;font-weight:bold}\n"
          ".pt{font-size:12px;font-weight:bold;text-anchor:middle}\n"
          ".tx{font-size:10px;text-anchor:middle;fill:#555}\n"
          ".ty{font-size:10px;text-anchor:end;fill:#555}\n"
          ".lab{text-anchor:middle}\n"
          ".note{fill:#444}\n"
          ".grid{stroke:#e6e6e6;fill:none}\n"
          ".box{stroke:#999;fill:none}\n"
          ".ln{stroke:#1f77b4;stroke-width:1.5;fill:none;"
          "stroke-linejoin:round;stroke-linecap:round}\n"
          ".ll{stroke:#222;stroke-width:2;fill:none;"
          "stroke-linejoin:round;stroke-linecap:round}\n"
          ".obs{stroke:#1f77b4;stroke-width:5;stroke-linecap:round;"
          "stroke-opacity:.55;fill:none}\n"
          ".imp{stroke:#ff7f0e;stroke-width:1.6;fill:none}\n"
          ".sd1{fill:none;stroke-width:2}\n"
          ".sd2{fill:none;stroke-width:1.5;stroke-dasharray:6 4}\n"
          ".ctr{stroke-width:2;fill:none}\n"
          ".bar{fill:#a6c8e4;stroke:#fff;stroke-width:.5}\n"
          ".dens{stroke:#d62728;stroke-width:2;fill:none;"
          "stroke-linejoin:round}\n"
          "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
          f);
}

void em_svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

/* The length of the valid UTF-8 sequence at s that is also an XML
 * character, or 0. */
static size_t utf8_char(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c >= 0x20 || c == '\t' || c == '\n' ? 1 : 0;
    size_t n = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    /* the second byte's range rules out overlong forms, surrogates and
     * code points past U+10FFFF */
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (n == 0 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    /* U+FFFE and U+FFFF are not XML characters */
    if (c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
        return 0;
    return n;
}

void em_svg_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_char(p);
        if (n == 0) {
            fputc('?', f);
            p++;
        } else if (*p == '&') {
            fputs("&amp;", f), p++;
        } else if (*p == '<') {
            fputs("&lt;", f), p++;
        } else if (*p == '>') {
            fputs("&gt;", f), p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
}

void em_svg_text(FILE *f, double x, double y, const char *cls,
                 const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(f, "<text class=\"%s\" x=\"", cls);
    em_svg_coord(f, x);
    fputs("\" y=\"", f);
    em_svg_coord(f, y);
    fputs("\">", f);
    em_svg_escape(f, buf);
    fputs("</text>\n", f);
}

static void grid(FILE *f, const em_svg_frame *fr)
{
    fputs("<path class=\"grid\" d=\"", f);
    for (size_t i = 0; i < em_svg_axis_nticks(&fr->ax); i++) {
        fputc('M', f);
        em_svg_coord(f, em_svg_px(fr, em_svg_axis_tick(&fr->ax, i)));
        fputc(' ', f);
        em_svg_coord(f, fr->y);
        fputc('V', f);
        em_svg_coord(f, fr->y + fr->h);
    }
    for (size_t i = 0; i < em_svg_axis_nticks(&fr->ay); i++) {
        fputc('M', f);
        em_svg_coord(f, fr->x);
        fputc(' ', f);
        em_svg_coord(f, em_svg_py(fr, em_svg_axis_tick(&fr->ay, i)));
        fputc('H', f);
        em_svg_coord(f, fr->x + fr->w);
    }
    fputs("\"/>\n<rect class=\"box\" x=\"", f);
    em_svg_coord(f, fr->x);
    fputs("\" y=\"", f);
    em_svg_coord(f, fr->y);
    fputs("\" width=\"", f);
    em_svg_coord(f, fr->w);
    fputs("\" height=\"", f);
    em_svg_coord(f, fr->h);
    fputs("\"/>\n", f);
}

void em_svg_axes(FILE *f, const em_svg_frame *fr, const char *title,
                 const char *xlabel, const char *ylabel)
{
    char buf[48];
    grid(f, fr);
    for (size_t i = 0; i < em_svg_axis_nticks(&fr->ax); i++) {
        double v = em_svg_axis_tick(&fr->ax, i);
        em_svg_tick_label(buf, sizeof buf, &fr->ax, v);
        em_svg_text(f, em_svg_px(fr, v), fr->y + fr->h + 13, "tx", "%s", buf);
    }
    for (size_t i = 0; i < em_svg_axis_nticks(&fr->ay); i++) {
        double v = em_svg_axis_tick(&fr->ay, i);
        em_svg_tick_label(buf, sizeof buf, &fr->ay, v);
        em_svg_text(f, fr->x - 4, em_svg_py(fr, v) + 3.5, "ty", "%s", buf);
    }
    if (title)
        em_svg_text(f, fr->x + fr->w / 2, fr->y - 8, "pt", "%s", title);
    if (xlabel)
        em_svg_text(f, fr->x + fr->w / 2, fr->y + fr->h + 29, "lab", "%s",
                    xlabel);
    if (ylabel) {
        /* rotated about the origin, so x runs up the page and y right */
        fputs("<text class=\"lab\" transform=\"rotate(-90)\" x=\"", f);
        em_svg_coord(f, -(fr->y + fr->h / 2));
        fputs("\" y=\"", f);
        em_svg_coord(f, fr->cell_x + 12);
        fputs("\">", f);
        em_svg_escape(f, ylabel);
        fputs("</text>\n", f);
    }
}

/* The points of one pixel column: the first, lowest, highest and last. */
typedef struct column {
    long px;
    size_t n, first, low, high, last;
} column;

static void put_point(FILE *f, const em_svg_frame *fr, double x, double y,
                      int *pen)
{
    fputc(*pen ? 'L' : 'M', f);
    em_svg_coord(f, em_svg_px(fr, x));
    fputc(' ', f);
    em_svg_coord(f, em_svg_py(fr, y));
    *pen = 1;
}

/* Writes the column's kept points in their order, counting the points of
 * the current segment in *seg. */
static void flush_column(FILE *f, const em_svg_frame *fr, const double *x,
                         const double *y, column *c, int *pen, size_t *seg)
{
    size_t idx[4] = {c->first, c->low, c->high, c->last};
    for (int a = 1; a < 4; a++) /* insertion sort of four */
        for (int b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
            size_t t = idx[b];
            idx[b] = idx[b - 1], idx[b - 1] = t;
        }
    for (int a = 0; c->n && a < 4; a++)
        if (a == 0 || idx[a] != idx[a - 1]) {
            put_point(f, fr, x[idx[a]], y[idx[a]], pen);
            ++*seg;
        }
    c->n = 0;
}

static void end_segment(FILE *f, size_t *seg, int *pen)
{
    if (*seg == 1) /* a lone point: a small plus, as a line would vanish */
        fputs("m-3 0h6m-3-3v6", f);
    *seg = 0;
    *pen = 0;
}

void em_svg_line(FILE *f, const em_svg_frame *fr, const double *x,
                 const double *y, size_t n, const char *cls)
{
    column c = {.n = 0};
    int pen = 0;
    size_t seg = 0;
    fprintf(f, "<path class=\"%s\" d=\"", cls);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            flush_column(f, fr, x, y, &c, &pen, &seg);
            end_segment(f, &seg, &pen);
            continue;
        }
        long px = (long)floor(clamp(em_svg_px(fr, x[i]), COORD_MAX));
        if (c.n && px != c.px)
            flush_column(f, fr, x, y, &c, &pen, &seg);
        if (c.n++ == 0)
            c = (column){.px = px, .n = 1, .first = i, .low = i, .high = i};
        if (y[i] < y[c.low])
            c.low = i;
        if (y[i] > y[c.high])
            c.high = i;
        c.last = i;
    }
    flush_column(f, fr, x, y, &c, &pen, &seg);
    end_segment(f, &seg, &pen);
    fputs("\"/>\n", f);
}
