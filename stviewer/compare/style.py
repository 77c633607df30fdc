"""How a comparison looks, defined once: diff colours (agree / only in A / only in B), the line style
that tells run B from run A wherever both are drawn together, and the timeline's lane colours."""
from __future__ import annotations

from PySide6.QtCore import Qt

# Box status codes, as stviewer.compare.analysis returns them per box.
AGREE, ONLY_A, ONLY_B = 0, 1, 2
STATUS_NAMES = {AGREE: "agree", ONLY_A: "only in A", ONLY_B: "only in B"}
STATUS_RGB = {AGREE: (90, 200, 120), ONLY_A: (255, 150, 50), ONLY_B: (80, 170, 255)}

# Run A is drawn with solid lines, run B with dashed ones (boxes in overlay mode, timeline curves).
RUN_PEN_STYLE = {"A": Qt.PenStyle.SolidLine, "B": Qt.PenStyle.DashLine}

ACTION_DISAGREE_RGB = (190, 120, 255)
SWITCH_RGB = (255, 90, 90)
REVIEW_RGB = (255, 215, 0)
A_BETTER_RGB = STATUS_RGB[ONLY_A]  # IDF1-share bars above zero: frames where A gains identity over B
B_BETTER_RGB = STATUS_RGB[ONLY_B]
