#!/usr/bin/env python3
"""Plot an emfit CSV trace read from standard input.

The log-likelihood and each parameter against the iteration, one small
panel each.  With a file name the figure is written there (PNG, SVG, PDF:
matplotlib picks by the suffix); without one it is shown in a window.

    emfit --model bvn --trace csv data/efron_hastie_bvn.csv | python3 examples/plot_trace.py
    emfit --model bvn --trace csv data/efron_hastie_bvn.csv | python3 examples/plot_trace.py trace.png

Needs pandas and matplotlib.
"""
import math
import sys

import pandas as pd


def main(argv):
    if len(argv) > 2:
        sys.exit("usage: emfit ... --trace csv FILE | plot_trace.py [OUT.png]")
    out = argv[1] if len(argv) == 2 else None
    import matplotlib

    if out:
        # No display needed when writing a file.
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        trace = pd.read_csv(sys.stdin)
    except pd.errors.EmptyDataError:
        trace = pd.DataFrame()
    cols = list(trace.columns)
    if len(cols) < 3 or cols[0] != "iter" or cols[-1] != "loglik" or trace.empty:
        sys.exit("plot_trace.py: expected a CSV trace with columns iter, ..., loglik "
                 "(emfit --trace csv)")
    names = ["loglik"] + list(trace.columns[1:-1])
    ncols = math.ceil(math.sqrt(len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, sharex=True, squeeze=False,
                             figsize=(3.6 * ncols, 2.6 * nrows))
    for ax, name in zip(axes.flat, names):
        ax.plot(trace["iter"], trace[name], marker=".", linewidth=1)
        ax.set_title(name)
        # Offsets like "+1.8674" hide the values a reader wants to see.
        ax.ticklabel_format(axis="y", useOffset=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    fig.suptitle("emfit trace")
    fig.tight_layout()
    if out:
        fig.savefig(out, dpi=100)
    else:
        plt.show()


if __name__ == "__main__":
    main(sys.argv)
