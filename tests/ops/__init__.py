"""Operations tests: instance configs, real servers (PostgreSQL, webserver, daemon, Redis, Chromium)."""
