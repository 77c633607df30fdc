"""stviewer: the Qt application. Imports engine; engine never imports it."""
__version__ = "0.1.0"
