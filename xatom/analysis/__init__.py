"""Analyses: pure functions from model outputs to arrays and tables (no plotting, no training)."""
