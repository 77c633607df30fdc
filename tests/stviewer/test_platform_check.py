"""Before QApplication: a missing xcb library is named with its package and the install command."""
from __future__ import annotations

from stviewer.platform_check import XCB_LIBRARIES, platform_problem, uses_xcb

X11 = {"DISPLAY": ":0"}


def test_a_missing_xcb_cursor_library_names_the_package_and_the_command():
    missing = {"libxcb-cursor.so.0", "libxcb-icccm.so.4"}
    message = platform_problem(environ=X11, platform="linux", can_load=lambda so: so not in missing)
    assert "libxcb-cursor0, libxcb-icccm4" in message
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in message
    assert "QT_QPA_PLATFORM=offscreen" in message


def test_nothing_to_say_when_qt_does_not_use_xcb_or_everything_loads():
    assert platform_problem(environ=X11, platform="linux", can_load=lambda so: True) is None
    assert platform_problem(environ=X11, platform="darwin", can_load=lambda so: False) is None
    assert platform_problem(environ={"QT_QPA_PLATFORM": "offscreen"}, platform="linux",
                            can_load=lambda so: False) is None
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux") and not uses_xcb({"WAYLAND_DISPLAY": "w"}, "linux")
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= set(XCB_LIBRARIES.values())


def test_stviewer_stops_before_qt_with_the_message(monkeypatch, capsys, tmp_path):
    import stviewer.app as app_module

    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    monkeypatch.setattr(app_module, "platform_problem", lambda: "needs libxcb-cursor0")
    monkeypatch.setattr(app_module, "make_app", lambda *a: (_ for _ in ()).throw(AssertionError("Qt started")))
    assert app_module.main([str(video)]) == 3
    assert "needs libxcb-cursor0" in capsys.readouterr().err
