"""The knowledge base as written: loading FAQ entries, local services and statutes, and checking them."""
