"""The computations, numpy only: no typer, rich or yaml here.

Each function takes arrays and numbers and returns a frozen result object holding
its inputs, outputs and the intermediate values a worked solution shows.
Arguments that break an invariant raise ``ValueError`` with a message for the user.
"""
