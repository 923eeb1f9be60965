"""Loopback fakes of the external APIs, test data and the service runner, for tests and bench.

Not part of the service: not installed with it, and no layer of it may import this package
(tools/import_graph.py). Tests and bench import it from the checkout root. See README.md here.
"""
