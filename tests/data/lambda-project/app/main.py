"""The Lambda handler: ``Handler: app.main.handler``."""

import grpcgw
from app.service import BookshopServicer

handler = grpcgw.serve_lambda(BookshopServicer())
