"""The dashboard's reads, by subject: each returns plain values or DataFrames in human units, bounded
for fast pages.
"""
