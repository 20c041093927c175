"""The dev kit (NNDK): trainers, evaluation, export and data converters. Never shipped to the site.

Everything here runs in CPython only and builds on the runtime in `models/`; nothing in
`models/` or `app/` imports it.
"""
