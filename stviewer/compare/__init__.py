"""Comparing two runs (or a run and a label set) in the viewer: the comparison model (no widgets),
the sources it compares, the queue that computes missing runs, and the hook into the main window.
The views are stviewer.views.compare_view and stviewer.views.review_dock."""
