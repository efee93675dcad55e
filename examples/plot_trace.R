# Plot an emfit CSV trace read from standard input: the log-likelihood and
# each parameter against the iteration, one small panel each, written to a
# PNG file (default trace.png).  Base R only.
#
#   emfit --model bvn --trace csv data/efron_hastie_bvn.csv | Rscript examples/plot_trace.R trace.png
#
# In an R session, read the trace from the command itself:
#   trace <- read.csv(pipe("emfit --model bvn --trace csv data/efron_hastie_bvn.csv"))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "trace.png"

trace <- read.csv(file("stdin"))
cols <- names(trace)
if (length(cols) < 3 || cols[1] != "iter" || cols[length(cols)] != "loglik") {
  stop("expected a CSV trace with columns iter, ..., loglik (emfit --trace csv)")
}
panels <- c("loglik", cols[2:(length(cols) - 1)])
ncol <- ceiling(sqrt(length(panels)))
nrow <- ceiling(length(panels) / ncol)

# Without X11 the cairo device still writes PNG files.
png(out, width = 380 * ncol, height = 280 * nrow,
    type = if (capabilities("cairo")) "cairo" else "Xlib")
par(mfrow = c(nrow, ncol))
# mfrow shrinks text in a grid of 3 or more; keep it legible.
par(cex = 1, mar = c(4, 5, 2.5, 1), oma = c(0, 0, 2, 0), las = 1)
for (name in panels) {
  plot(trace$iter, trace[[name]], type = "o", pch = 20, cex = 0.6,
       main = name, xlab = "iteration", ylab = "")
}
mtext("emfit trace", outer = TRUE, cex = 1.2)
invisible(dev.off())
