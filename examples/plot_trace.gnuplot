# Plots an emfit CSV trace read from standard input: the log-likelihood and
# each parameter against the iteration, one small panel each.
#
#   emfit --model bvn --trace csv data/efron_hastie_bvn.csv | gnuplot -p examples/plot_trace.gnuplot
#   emfit ... --trace csv data.csv | gnuplot -e "out='trace.png'" examples/plot_trace.gnuplot
#
# Needs gnuplot 5.2 or later.

# A pipe can be read only once, but every panel reads the data again, so
# the whole trace is first kept in a datablock.
trace = system("cat")
set print $TRACE
print trace
unset print
if (|$TRACE| < 2) {
    print "plot_trace.gnuplot: no trace on standard input (use emfit --trace csv)"
    exit status 1
}

# The column names, from the header line: iter, the parameters, loglik.
header = $TRACE[1]
names = ""
do for [i = 1:strlen(header)] {
    c = header[i:i]
    names = names . (c eq "," ? " " : c)
}
ncols = words(names)
if (word(names, 1) ne "iter" || word(names, ncols) ne "loglik") {
    print "plot_trace.gnuplot: expected a CSV trace with columns iter, ..., loglik"
    exit status 1
}

# Panels: loglik first, then the parameters, in a grid about as wide as
# it is tall.
npanels = ncols - 1
gridcols = ceil(sqrt(npanels))
gridrows = ceil(real(npanels) / gridcols)

if (exists("out")) {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 380 * gridcols, 280 * gridrows
    } else {
        set terminal png size 380 * gridcols, 280 * gridrows
    }
    set output out
}
set datafile separator comma
set key off
set format y "%.6g"
set xlabel "iteration"
set multiplot layout gridrows, gridcols title "emfit trace"
do for [p = 1:npanels] {
    col = (p == 1 ? ncols : p)
    set title word(names, col) noenhanced
    # A parameter that never moves (e.g. a mean of a complete column)
    # gets a small range of its own instead of gnuplot's warning.
    # Three labelled tics (first, middle, last value) stay legible in a
    # small panel.
    set autoscale y
    stats $TRACE skip 1 using col nooutput
    lo = STATS_min
    hi = STATS_max
    if (hi == lo) {
        pad = (lo == 0 ? 1 : abs(lo) * 0.01)
        set yrange [lo - pad : hi + pad]
        set ytics (lo)
    } else {
        set ytics lo, (hi - lo) / 2, hi
    }
    plot $TRACE skip 1 using 1:col with linespoints pointtype 7 pointsize 0.4
}
unset multiplot
