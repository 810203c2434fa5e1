"""Direct dispatch: the gateway calls in-process servicers' handlers, with no network.

When the servicers live in the gateway's own process (``serve_local``,
``serve_lambda``), :class:`DirectInvoker` learns the ``grpc.RpcMethodHandler``
each generated ``add_…Servicer_to_server`` function registers, runs the user's
server interceptors as grpc does (``intercept_service(continuation,
handler_call_details)``, per call, in order), and calls the handler with a
``ServicerContext`` of grpcgw's own, under the rules of the gRPC server the
same servicers and interceptors would run on. What the gateway sees, replies,
statuses and metadata, is what it would have read from a real server;
docs/dispatch.md lists the differences that remain.

:class:`BlockingDispatch` runs a gateway over it from a thread with no event
loop (how ``serve_lambda`` would use it). Imports grpc (for its status codes,
contexts and handler types), never aiohttp.
"""

from grpcgw.dispatch._blocking import BlockingDispatch
from grpcgw.dispatch._invoker import DirectInvoker
from grpcgw.dispatch._streams import DirectResponseStream, InlineResponseStream

__all__ = ["BlockingDispatch", "DirectInvoker", "DirectResponseStream", "InlineResponseStream"]
