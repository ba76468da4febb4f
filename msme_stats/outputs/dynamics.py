"""Figures and tables of exporter dynamics from customs transactions (chart V3).

Outputs are registered here with :func:`msme_stats.build.register_output`; none yet.
"""
