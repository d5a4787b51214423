"""Closing-report use cases (issue 8), one module per stage: form.py (the applicant writes, autosaves and
submits), review.py (the coordinator returns, approves, forwards; the national administrator
acknowledges), reminders.py (due dates and reminders). Callers commit."""
