"""Data sets: the synthetic benchmark generator and loaders for UCF-101, HMDB-51 and MOT17.

    engine.data.synthetic   generate_clip, write_benchmark, read_benchmark (numpy + cv2, no torch)
    engine.data.actors      articulated figures and their motion programs (ACTIONS)
    engine.data.ucf101 / hmdb51 / mot17   sample lists from the official layouts (no torch)
    engine.data.clips       torch Datasets: clip sampling, augmentation, open_clip_dataset

Nothing is imported here so that ``import engine.data`` stays free of torch and cv2.
"""
