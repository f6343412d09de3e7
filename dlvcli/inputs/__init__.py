"""Reading and validating user input (files, YAML, option strings) into plain values.

Everything here raises :class:`dlvcli.errors.InputError` naming the file, line and
column of a fault.  Nothing here imports typer or rich.
"""
