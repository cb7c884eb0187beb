"""The web layer outside the admin: sign-in and first login, security, error pages, admission."""
