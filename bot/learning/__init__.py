"""The knowledge base learning from use: drafts from answered tickets, gaps, live reload."""
