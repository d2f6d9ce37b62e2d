"""Evaluation stage: metrics from logged predictions, results beside published numbers."""
