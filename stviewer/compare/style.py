"""How a comparison looks, defined once: diff colours (agree / only in A / only in B), the line style
that tells run B from run A wherever both are drawn together, and the timeline's lane colours."""
from __future__ import annotations

from PySide6.QtCore import Qt

# Box colours by the engine's status names (engine.compare.diff.STATUS_NAMES); A's colour and B's
# colour are also the runs' colours wherever the two are told apart (titles, IDF1-share bars).
STATUS_RGB = {"agree": (90, 200, 120), "only in A": (255, 150, 50), "only in B": (80, 170, 255)}
A_RGB, B_RGB = STATUS_RGB["only in A"], STATUS_RGB["only in B"]

# Run A is drawn with solid lines, run B with dashed ones (boxes in overlay mode, timeline curves).
RUN_PEN_STYLE = {"A": Qt.PenStyle.SolidLine, "B": Qt.PenStyle.DashLine}

ACTION_DISAGREE_RGB = (190, 120, 255)
SWITCH_RGB = (255, 90, 90)
REVIEW_RGB = (255, 215, 0)
