"""The admin console: server-rendered pages under `/admin`, part of the web role.

Pages read and change through the same storage queries as the API and the bot. Templates
and static files ship inside this package; nothing is fetched from elsewhere.
"""
