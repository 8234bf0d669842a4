"""The lesson note above the plots: a preset's lesson (or a session's title and
description), two lines and *More*."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QToolButton

from gd_explorer.ui.support import plain_label, plain_tip


class LessonNote(QFrame):
    """The lesson of a preset (or a session's title and description), kept in view above
    the plots until it is closed or another problem is chosen: two lines, *More* for the
    whole text (also its tool tip)."""

    LINES = 2

    def __init__(self):
        super().__init__()
        self.setObjectName("lessonNote")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#lessonNote { background: #fff8e1; border: 1px solid #e0c068; }"
                           "#lessonNote QLabel, #lessonNote QToolButton { color: #3e2f00; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 3, 4, 3)
        self.text = plain_label()
        self.text.setObjectName("lessonText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.text, 1)
        self.more_button = QToolButton()
        self.more_button.setObjectName("lessonMoreButton")
        self.more_button.setCheckable(True)
        self.more_button.setAutoRaise(True)
        self.more_button.setToolTip("Show the whole lesson, or only its first lines")
        self.more_button.toggled.connect(self._on_more)
        lay.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button = QToolButton()
        self.close_button.setObjectName("lessonCloseButton")
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this note")
        self.close_button.clicked.connect(self.hide)
        lay.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._on_more(False)
        self.hide()

    def _on_more(self, expanded: bool) -> None:
        self.more_button.setText("Less" if expanded else "More")
        if expanded:
            self.text.setMinimumHeight(0)
            self.text.setMaximumHeight(16_777_215)  # QWIDGETSIZE_MAX
        else:
            self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * self.LINES)

    def set_lesson(self, title: str, description: str) -> None:
        """Show ``title — description`` (plain text); nothing to say hides the note."""
        text = " — ".join(t for t in (title.strip(), description.strip()) if t)
        self.text.setText(text)
        self.text.setToolTip(plain_tip(text) if text else "")
        self.more_button.setChecked(False)
        self.setVisible(bool(text))
