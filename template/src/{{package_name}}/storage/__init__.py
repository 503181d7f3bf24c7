"""Storage ports (`protocols.py`), the records they hold, and one adapter per database."""
