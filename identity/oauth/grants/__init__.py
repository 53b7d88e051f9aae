"""The grants of the token endpoint, one a module as in Authlib's ``rfc6749/grants``:
``authorization_code`` (RFC 6749 §4.1.3 with PKCE), ``refresh_token`` (§6, rotated, reuse detected) and
``client_credentials`` (§4.4). ``base`` holds what they share."""
