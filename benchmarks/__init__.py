"""Speed benchmarks: a makemore training step on microtorch, the hand-written numpy floor and PyTorch.

Run `python -m benchmarks.bench_step --help`; see benchmarks/README.md.
"""
