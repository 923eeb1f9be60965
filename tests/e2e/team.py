"""Who is who in the end-to-end stack: the site's webhook token, the console's admin token,
the team's group chat and its people (`open_stack` makes Ada the admin, Max a manager and
Иван a manager who chose Russian; the outsider is on no team)."""

TOKEN = "e2e-site-token-0123456789"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
GROUP = -1001000
ADMIN, MANAGER, RUSSIAN, OUTSIDER = 11, 22, 33, 999
