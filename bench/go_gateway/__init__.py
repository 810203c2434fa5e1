"""Go grpc-gateway as a contender of scenario 3: ``build.py`` and the Go sources it builds."""
