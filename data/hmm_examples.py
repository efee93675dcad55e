"""Writes the hidden Markov model examples: regime_returns.csv (two
regimes of daily returns) and dice_rolls.csv (three players switching
between a fair and a loaded die).  Run from data/: python3 hmm_examples.py
"""
import random

r = random.Random(2026)

# calm: mean 0.05, sd 0.8, stays 0.98; turbulent: mean -0.1, sd 2.5,
# stays 0.95; 1% of the returns missing
to0 = [0.98, 0.05]  # P(next state is 0 | state)
mu, sd = [0.05, -0.1], [0.8, 2.5]
s = 0
with open('regime_returns.csv', 'w') as f:
    f.write('day,ret\n')
    for t in range(2000):
        if t > 0:
            s = 0 if r.random() < to0[s] else 1
        x = r.gauss(mu[s], sd[s])
        f.write('%d,%s\n' % (t + 1, 'NA' if r.random() < 0.01 else '%.4f' % x))

# fair die: stays 0.95; loaded die (a six half the time): stays 0.9
to0 = [0.95, 0.1]
loaded = [0.1] * 5 + [0.5]
with open('dice_rolls.csv', 'w') as f:
    f.write('player,roll\n')
    for p in ['ann', 'bob', 'cy']:
        s = 0
        for t in range(300):
            if t > 0:
                s = 0 if r.random() < to0[s] else 1
            v = r.randint(1, 6) if s == 0 else r.choices(range(1, 7), loaded)[0]
            f.write('%s,%d\n' % (p, v))
