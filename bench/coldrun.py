"""One cold start: import a contender's module (which builds its handler), answer one event.

    python -m bench.coldrun CONTENDER

Prints one JSON line as soon as the first response exists (the parent times
from before it started this process to that line), then leaves without any
clean-up, as a frozen Lambda sandbox does.
"""

import os
import sys


def main() -> None:
    contender = sys.argv[1]
    if contender == "floor":
        from bench.apps import lambda_floor

        reply = lambda_floor.ping()
        ok = reply.message == "Pong"
    else:
        import importlib

        from bench.events import Context, event

        module = importlib.import_module(
            {
                "grpcgw": "bench.apps.lambda_grpcgw",
                "grpcgw-direct": "bench.apps.lambda_grpcgw_direct",
                "mangum+starlette": "bench.apps.lambda_starlette",
                "mangum+fastapi": "bench.apps.lambda_fastapi",
            }[contender]
        )
        answer = module.handler(event("ping", "v2"), Context())
        ok = answer["statusCode"] == 200 and answer["body"] == '{"message":"Pong"}'
    aiohttp = "aiohttp" in sys.modules
    modules = len(sys.modules)
    import json  # already loaded by protobuf: costs nothing, and only after the response

    report = {"ok": ok, "aiohttp": aiohttp, "modules": modules}
    os.write(1, (json.dumps(report) + "\n").encode())
    os._exit(0)


main()
