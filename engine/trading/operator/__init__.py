"""The operator's actions on the desk (flatten, cancel, the manual ticket, a resolution set by hand)
and the positions the operator asked to sell.
"""
