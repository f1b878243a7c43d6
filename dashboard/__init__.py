"""Streamlit dashboard for client-relationship officers.

It talks only to the scoring API (``HC_API_URL``, header ``X-API-Key`` from ``HC_API_KEY``); the
response shapes it relies on are those of ``docs/interfaces.md``. Run it with
``streamlit run dashboard/app.py``.
"""
