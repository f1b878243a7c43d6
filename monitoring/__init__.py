"""Weekly drift monitoring: Evidently reports plus the Population Stability Index (PSI).

Entry points: ``python -m monitoring.drift`` (``make drift``) writes a dated report folder under
``$HC_ARTIFACTS/reports/drift/``; ``python -m monitoring.schedule`` prints or installs the weekly cron line.
"""
