"""Modeling layer of the Home Credit scoring platform.

Reads the warehouse's ``training_set``, compares model families under a business cost, calibrates
the selected model, chooses its decision threshold, explains it and writes a versioned artifact that
``models_ml.registry.load_current`` serves to the API and to monitoring.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
