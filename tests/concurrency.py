"""Real threads against the real database, for the concurrency tests of every app.

Use with ``pytest.mark.django_db(transaction=True)``: each thread opens its own connection,
which must see what the test committed.
"""

from __future__ import annotations

import threading

from django.db import close_old_connections, connection


def run_in_threads(count: int, work) -> list:
    """Call ``work(index)`` in ``count`` threads released together by a barrier.

    Returns what each call returned, or the exception it raised, in index order; each
    thread closes its database connection when done.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # reported to the test
            results[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
