"""Counting and reporting: stats, the ledger export, the annual report and the registers."""
