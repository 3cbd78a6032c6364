"""SQLite plumbing both processes use: connections and PRAGMAs, the SQL style, plain sqlite3 reads, the
migrations (the schema), DataFrame helpers.
"""
