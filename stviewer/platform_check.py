"""Before QApplication starts: the system libraries Qt's X11 (xcb) platform plugin needs on Linux.

Qt >= 6.5 dies with "no Qt platform plugin could be initialized" when one of them is missing, without
saying which; pip cannot install them. We try to load each one by its soname and name the Debian/Ubuntu
package that provides it, with the one command that installs them all.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable

# soname -> Debian/Ubuntu package (Qt's "Qt for X11 Requirements", the xcb plugin's libraries)
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _can_load(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will try its xcb plugin: Linux, no platform chosen (or xcb), and not a Wayland session."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_packages(*, can_load: Callable[[str], bool] = _can_load) -> list[str]:
    """Debian packages of the xcb plugin's libraries that cannot be loaded, in XCB_LIBRARIES order."""
    return [package for soname, package in XCB_LIBRARIES.items() if not can_load(soname)]


def platform_problem(*, environ: dict[str, str] | None = None, platform: str | None = None,
                     can_load: Callable[[str], bool] = _can_load) -> str | None:
    """A message naming the missing system packages and the install command, or None when Qt can start."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_packages(can_load=can_load)
    if not missing:
        return None
    return (f"Qt's X11 platform plugin needs system libraries that are missing: {', '.join(missing)}.\n"
            f"Install them with:\n    sudo apt-get install {' '.join(missing)}\n"
            f"(or run headless with QT_QPA_PLATFORM=offscreen, e.g. for --screenshot)")
