from tests.qtsupport import model, no_thread_left_running, window  # noqa: F401
