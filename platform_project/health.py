"""Load-balancer probes: cheap, unauthenticated, never throttled, never redirected to HTTPS."""

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

_migrations_checked = False


# Outside ATOMIC_REQUESTS: opening the request transaction would need the database.
@transaction.non_atomic_requests
def healthz(request):
    """The process is up and serving. Touches no database."""
    return JsonResponse({"status": "ok"})


@transaction.non_atomic_requests
def readyz(request):
    """Ready for traffic: the database answers and every migration is applied."""
    global _migrations_checked
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_checked:
            # Loading the migration graph is the expensive part; once it matched, it keeps
            # matching for this process (new migrations come with new code, i.e. a restart).
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                return JsonResponse(
                    {"status": "unavailable", "detail": f"{len(pending)} migrations pending."},
                    status=503,
                )
            _migrations_checked = True
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "detail": "Database unreachable."}, status=503
        )
    return JsonResponse({"status": "ready"})
