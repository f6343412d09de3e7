"""Problem sheets: ``dlv solve`` checks many answers in one process, ``dlv generate`` makes new ones.

* :mod:`dlvcli.sheets.checks` — dotted-key lookup in a command's JSON and the
  comparison of an expected value with the one found (``tol``/``rtol``); pure Python.
* :mod:`dlvcli.sheets.model` — a sheet file → :class:`~dlvcli.sheets.model.Problem` objects,
  each problem's own faults recorded (with its YAML line) instead of stopping the others.
* :mod:`dlvcli.sheets.runner` — solve one problem by running its command in this process
  with the same option merge as ``--config`` and capturing the command's JSON.
* :mod:`dlvcli.sheets.generate` — seeded random problems and the byte-stable YAML they are
  printed as.
"""
