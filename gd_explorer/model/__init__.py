"""The Qt model layer: application state as QObjects and the descent worker thread."""
