"""Data sets: the synthetic benchmark generator and loaders for UCF-101, HMDB-51 and MOT17.

    engine.data.synthetic     generate_clip, write_benchmark, read_benchmark, render_action_sheet (numpy + cv2)
    engine.data.actors        articulated figures and their six motion programs (ACTIONS)
    engine.data.backgrounds   procedural backgrounds
    engine.data.ucf101 / hmdb51 / mot17 / splits   sample lists from the official layouts (no torch)
    engine.data.frames        reading a few frames of a video / image sequence (cv2)
    engine.data.clips         torch Datasets: clip sampling, augmentation, open_clip_dataset

Nothing is imported here so that ``import engine.data`` stays free of torch and cv2.
"""
