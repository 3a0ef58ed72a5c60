"""What the platform's gRPC services share: JSON logs, common flags, binding, and serving until a signal."""

from service_runtime.flags import add_server_flags
from service_runtime.logs import JsonFormatter, setup_logging
from service_runtime.server import bind, new_server, serve_until_signal

__all__ = ["JsonFormatter", "add_server_flags", "bind", "new_server", "serve_until_signal", "setup_logging"]
