"""The words of the domain, each defined once: lead and payment statuses, job kinds.

A leaf: it imports nothing of the project, so every layer may use it.
"""
