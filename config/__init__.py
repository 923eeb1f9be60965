"""Configuration: settings, per-site mappings, secrets' strength, the derived webhook secrets.

The leaf of the project: it imports nothing of it (third-party libraries only), so every
package may read it without pointing back up at the composition root (`leadrelay`).
"""
