from tests.qtsupport import (  # noqa: F401
    message_boxes,
    model,
    no_thread_left_running,
    stop_engine,
    window,
)
