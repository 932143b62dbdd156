"""The benchmark: Greenlight's pages, writes, report and API timed at two data sizes.

``python -m bench`` (``make bench``) builds the data with ``bench.scale``, measures each
operation in process and writes the figures as JSON; ``python -m bench.load`` (``make
load``) drives gunicorn with a crowd of simulated testers. docs/performance.md has the
method and the latest figures.
"""
