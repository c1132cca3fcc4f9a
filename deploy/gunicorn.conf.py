"""gunicorn settings of the production layout (deploy/Procfile passes the address and the workers)."""

import os

# One per layout: the default, under $HOME, is shared by every gunicorn the user runs.
if os.environ.get("PROD_VAR"):
    control_socket = os.path.join(os.environ["PROD_VAR"], "gunicorn.ctl")


def child_exit(server, worker):
    """A worker that exits leaves its metrics files behind (prometheus multiprocess mode)."""
    try:
        from helpdesk.ops.metrics import child_exit as metrics_child_exit
    except ImportError:  # a build without the metrics hook
        return
    metrics_child_exit(server, worker)
