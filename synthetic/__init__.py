"""Synthetic Home Credit data in Kaggle's format, with a known ground truth (see docs/synthetic.md)."""

from synthetic.generator import Plan, Summary, generate

__all__ = ["Plan", "Summary", "generate"]
