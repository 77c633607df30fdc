"""A hidden test hook: ``stviewer --edit-script FILE VIDEO`` performs the edits listed in FILE (one JSON object a
line) through the same public slots the mouse, keys and panels use, one per event-loop pass, and prints
``ack <index> <unix time>`` after each, so a test can kill the app at any moment and know what was done when.

Operations: ``{"op": "create", "how": "run"|"empty", "name": N}``, ``{"op": "open", "name": N}``,
``{"op": "set_box" | "add_box", "track_id", "frame", "box"}``, ``{"op": "delete_box" | "toggle_keyframe" |
"toggle_outside", "track_id", "frame"}``, ``{"op": "split", "track_id", "frame", "new_id"}``, ``{"op": "merge",
"keep", "other"}``, ``{"op": "change_id", "track_id", "new_id"}``, ``{"op": "undo" | "redo" | "save" | "quit"}``;
any command may carry ``"after_ms"``: a pause before the next one.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer


def perform(window, command: dict) -> bool:
    """Do one scripted command; True when the editor accepted it."""
    ed = window.editing
    editor = ed.editor
    op = command["op"]
    args = {k: v for k, v in command.items() if k != "op"}
    if op == "create":
        return ed.create_label_set(args["how"], name=args.get("name"))
    if op == "open":
        return ed.open_label_set(args["name"])
    if op == "undo":
        editor.stack.undo()
        return True
    if op == "redo":
        editor.stack.redo()
        return True
    if op == "save":
        return ed.autosave.save()
    if op == "quit":
        window.close()
        return True
    slots = {"set_box": editor.set_box, "add_box": editor.add_box, "delete_box": editor.delete_box,
             "toggle_keyframe": editor.toggle_keyframe, "toggle_outside": editor.toggle_outside,
             "split": editor.split_track, "merge": editor.merge_tracks, "change_id": editor.change_id}
    if op not in slots:
        raise ValueError(f"unknown scripted edit {op!r}")
    if "frame" in args:
        window.state.set_frame(int(args["frame"]))
    return slots[op](**args)


def run_edit_script(window, path: str | Path, *, interval_ms: int = 0) -> None:
    """Start performing the commands of ``path`` (read now) once the event loop runs."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    commands = [json.loads(ln) for ln in lines]
    position = {"i": 0}
    timer = QTimer(window, singleShot=True)

    def step() -> None:
        i = position["i"]
        if i >= len(commands):
            print("script done", flush=True)
            return
        position["i"] += 1
        command = dict(commands[i])
        pause_ms = int(command.pop("after_ms", interval_ms))  # a pause after this command
        ok = perform(window, command)
        print(f"ack {i} {time.time():.6f} {'ok' if ok else 'refused'}", flush=True)
        timer.start(max(0, pause_ms))

    timer.timeout.connect(step)
    QTimer.singleShot(0, step)
    window._edit_script_timer = timer  # kept alive with the window
    print(f"script loaded {len(commands)}", file=sys.stderr, flush=True)
