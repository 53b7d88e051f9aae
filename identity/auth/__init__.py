"""Who is calling: the session cookie or bearer token resolved once per request, and guards."""
