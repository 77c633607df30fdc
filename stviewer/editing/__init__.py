"""Label-set editing in the viewer: mouse/keyboard tools on the video view (tools.py), QUndoCommand wrappers
around engine.labels.edits (commands.py), the editor state (editor.py), autosave into the SQLite journal and
compaction into the cache (autosave.py), keyframe lanes on the timeline (lanes.py), and the window wiring
(install.py: ``install_editing(window)``)."""
from __future__ import annotations


def install_editing(window):
    """Add editing to a MainWindow (imported lazily: the viewer starts without loading it first)."""
    from stviewer.editing.install import install_editing as install

    return install(window)
