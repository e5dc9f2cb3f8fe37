"""The bottom layer: what every app uses and nothing of the domain. The domain error and its
handler, pagination, the JSON parser, ETags, client time bounds, request context and security
middleware, database helpers, roles, environment guards. core imports no other app of Safe
Harbor (the layer contract in pyproject.toml, checked by import-linter in `make lint`)."""
