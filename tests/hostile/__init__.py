"""Hostile input, property-based: every public repository and service method on both backends.

Each call either raises one of the project's exceptions, with nothing written, or stores what it was
given verbatim.
"""
