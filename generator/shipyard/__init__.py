"""Shipyard: turn a notebook-stage ML repo into a production project.

The library API lives in :mod:`shipyard.adopt` (workflows), :mod:`shipyard.inspect`
(read-only facts), :mod:`shipyard.plan` and :mod:`shipyard.apply`. The CLI in
:mod:`shipyard.cli` is a thin layer over it.
"""

__version__ = "0.1.0"
