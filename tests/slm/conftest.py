from tests.incidents.conftest import *  # noqa: F403
