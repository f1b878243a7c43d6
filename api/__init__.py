"""FastAPI scoring service: scores, decisions and explanations for known and new applicants."""
