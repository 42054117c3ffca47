"""Stylezoo benchmarks: FID, LPIPS, ArtFID, content/style losses, CFSD and speed, one command.

* :mod:`benchmarks.metrics` -- the metric implementations (torchmetrics first) and their weights.
* :mod:`benchmarks.protocols` -- which images are stylised and compared (800-pair style protocol,
  CycleGAN test split).
* :mod:`benchmarks.run` -- ``python -m benchmarks.run``: stylise, measure, write a result JSON.
* :mod:`benchmarks.table` -- ``python -m benchmarks.table``: the README zoo table and the per-model
  metrics of the model cards, from ``benchmarks/results/*.json`` and published reference numbers.

See docs/benchmarks.md for the protocols and the files a user needs.
"""
