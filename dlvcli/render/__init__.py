"""Result objects → rich renderables, JSON-safe dicts, Markdown text and plots.

The only package that prints.  It knows nothing of files except the atomic writer
used for plots.
"""
