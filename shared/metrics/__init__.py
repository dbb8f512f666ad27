"""Metric formulas of DESIGN.md section 4, shared by the api (on-demand reports) and the worker
(scheduled and stored reports). Nothing here imports from the services."""
