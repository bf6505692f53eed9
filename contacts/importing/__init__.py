"""Reading contact files: detect the format (detect.py), parse rows (parse.py), plan them (plan.py).

Nothing here writes to the database; ``contacts.services.imports`` does, from a plan.
"""
