"""The drift benchmark's scipy peer: what a Python drift check computes on the raw window.

Per numeric column, as Evidently's default tests do: scipy.stats.ks_2samp (method 'auto'),
scipy.stats.wasserstein_distance, and PSI and Jensen-Shannon distance over numpy histograms
(Sturges bins over reference and current together, empty bins as 0.0001, as Evidently's
get_binned_data); per categorical column, scipy.stats.chi2_contingency on the category counts.
Only the statistics are timed: the data is read from the files bench/drift.ts wrote first.

Usage: /usr/bin/python3 bench/drift_scipy.py <directory> (writes one JSON object to stdout).
The directory holds manifest.json ({"rows": [n_ref, n_cur], "numeric": k, "categorical": c})
and <i>.reference.f64 / <i>.current.f64 (little-endian float64) and c<j>.reference.i32 /
c<j>.current.i32 (category codes).
"""
import json
import os
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def binned(reference, current):
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins='sturges')
    reference_share = np.histogram(reference, edges)[0] / len(reference)
    current_share = np.histogram(current, edges)[0] / len(current)
    np.place(reference_share, reference_share == 0, 0.0001)
    np.place(current_share, current_share == 0, 0.0001)
    return reference_share, current_share


def numeric_statistics(reference, current):
    ks = stats.ks_2samp(reference, current)
    wasserstein = stats.wasserstein_distance(reference, current)
    reference_share, current_share = binned(reference, current)
    psi = float(np.sum((reference_share - current_share) * np.log(reference_share / current_share)))
    js = float(distance.jensenshannon(reference_share, current_share))
    return {'ks': float(ks.statistic), 'ks_p': float(ks.pvalue), 'wasserstein': float(wasserstein), 'psi': psi, 'js': js}


def categorical_statistics(reference, current):
    size = int(max(reference.max(), current.max())) + 1
    table = np.array([np.bincount(reference, minlength=size), np.bincount(current, minlength=size)])
    table = table[:, table.sum(axis=0) > 0]
    statistic, p, dof, _ = stats.chi2_contingency(table)
    return {'chi2': float(statistic), 'chi2_p': float(p), 'dof': int(dof)}


def main(directory):
    with open(os.path.join(directory, 'manifest.json')) as handle:
        manifest = json.load(handle)
    read = lambda name, kind: np.fromfile(os.path.join(directory, name), dtype=kind)
    numeric = [(read(f'{i}.reference.f64', '<f8'), read(f'{i}.current.f64', '<f8')) for i in range(manifest['numeric'])]
    categorical = [(read(f'c{j}.reference.i32', '<i4'), read(f'c{j}.current.i32', '<i4')) for j in range(manifest['categorical'])]
    start = time.perf_counter()
    numeric_results = [numeric_statistics(reference, current) for reference, current in numeric]
    categorical_results = [categorical_statistics(reference, current) for reference, current in categorical]
    seconds = time.perf_counter() - start
    json.dump({'scipy': scipy.__version__, 'numpy': np.__version__, 'seconds': seconds,
               'numeric': numeric_results, 'categorical': categorical_results}, sys.stdout)


if __name__ == '__main__':
    main(sys.argv[1])
