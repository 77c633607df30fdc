"""Hostile MOT inputs: frame 1e9 / seqLength 1e9 in bounded memory and time, absurd frames and ids
refused with file and line, and `stv eval`'s different-sequence warning (refusal with --strict)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.cli.main import main

# The command runs with its address space capped: a structure sized by a frame number (8 bytes x 1e9)
# cannot be allocated, so passing proves the memory follows the rows present.
LIMIT_BYTES = 1536 * 2**20
RUNNER = """
import atexit, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
def _peak_mb():  # VmHWM: this program's own peak (ru_maxrss would include the forking pytest's, kept over exec)
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) // 1024
atexit.register(lambda: print(f"peak RSS MB {{_peak_mb()}}", file=sys.stderr))
from engine.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def peak_rss_mb(done: subprocess.CompletedProcess) -> int:
    """The command's own peak resident memory (printed at exit by RUNNER)."""
    line = [line for line in done.stderr.splitlines() if line.startswith("peak RSS MB ")][-1]
    return int(line.split()[-1])


def stv_capped(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    env_code = RUNNER.format(limit=LIMIT_BYTES)
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", env_code, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GT = "1,1,10,20,30,40,1,1,1\n2,1,11,20,30,40,1,1,1\n1000000000,1,12,20,30,40,1,1,1\n"
PRED = "1,5,10,20,30,40,0.9,-1,-1,-1\n2,5,11,20,30,40,0.9,-1,-1,-1\n1000000000,5,12,20,30,40,0.9,-1,-1,-1\n"


def test_eval_with_frame_one_billion_in_bounded_memory(tmp_path):
    gt = write(tmp_path / "SEQ" / "gt" / "gt.txt", GT)
    pred = write(tmp_path / "pred.txt", PRED)
    done = stv_capped("eval", "--gt", str(gt), "--pred", str(pred), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["MOTA"] == 1.0 and result["CLR_Frames"] == 1_000_000_000
    print("stv eval, frame 1e9: peak RSS", peak_rss_mb(done), "MB")
    assert peak_rss_mb(done) < 400  # idle python + numpy/scipy is ~100 MB; 1e9 frames x 8 B would be 8 GB


def test_eval_with_seq_length_one_billion_in_bounded_memory(tmp_path):
    gt = write(tmp_path / "SEQ" / "gt" / "gt.txt", GT)
    write(tmp_path / "SEQ" / "seqinfo.ini", "[Sequence]\nname=SEQ\nseqLength=1000000000\n")
    pred = write(tmp_path / "pred.txt", PRED)
    done = stv_capped("eval", "--gt", str(gt), "--pred", str(pred), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["IDF1"] == 1.0


def test_track_and_import_with_frame_one_billion_in_bounded_memory_and_time(tmp_path):
    det = write(tmp_path / "det.txt", "1,-1,10,20,30,40,0.9,-1,-1,-1\n2,-1,11,20,30,40,0.9,-1,-1,-1\n"
                                      "999999999,-1,12,20,30,40,0.9,-1,-1,-1\n1000000000,-1,13,20,30,40,0.9,-1,-1,-1\n")
    done = stv_capped("track", "--det", str(det), "--out", str(tmp_path / "res.txt"), timeout=60)
    assert done.returncode == 0, done.stderr
    frames = [line.split(",")[0] for line in (tmp_path / "res.txt").read_text().splitlines()]
    assert frames == ["1", "2", "999999999", "1000000000"]
    print("stv track, frame 1e9: peak RSS", peak_rss_mb(done), "MB")
    assert peak_rss_mb(done) < 400
    done = stv_capped("validate-mot", str(tmp_path / "res.txt"))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("kind,text,fragment", [
    ("gt", "1000000000000000000,1,10,20,30,40,1,1,1\n", "gt.txt:1: frame 1000000000000000000 is absurd"),
    ("pred", "1e18,1,10,20,30,40,0.9,-1,-1,-1\n", "pred.txt:1: frame 1000000000000000000 is absurd"),
    ("pred", "1,1e20,10,20,30,40,0.9,-1,-1,-1\n", "pred.txt:1: id 1e+20 is not exactly representable"),
    ("seqinfo", "[Sequence]\nname=SEQ\nseqLength=1000000000000000000\n", "seqinfo.ini:3: seqLength=1000000000000000000 is absurd"),
])
def test_absurd_values_are_refused_with_file_and_line(tmp_path, kind, text, fragment):
    gt = write(tmp_path / "SEQ" / "gt" / "gt.txt", text if kind == "gt" else GT[:22])
    pred = write(tmp_path / "pred.txt", text if kind == "pred" else PRED[:29])
    if kind == "seqinfo":
        write(tmp_path / "SEQ" / "seqinfo.ini", text)
    done = stv_capped("eval", "--gt", str(gt), "--pred", str(pred))
    assert done.returncode == 1
    assert fragment in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_track_refuses_an_absurd_det_frame(tmp_path):
    det = write(tmp_path / "det.txt", "1e18,-1,10,20,30,40,0.9,-1,-1,-1\n")
    done = stv_capped("track", "--det", str(det), "--out", str(tmp_path / "res.txt"))
    assert done.returncode == 1 and "det.txt:1: frame 1000000000000000000 is absurd" in done.stderr
    assert not (tmp_path / "res.txt").exists()


def test_eval_warns_on_a_different_sequence_and_strict_refuses(tmp_path, capsys):
    gt = write(tmp_path / "TUD" / "gt" / "gt.txt", "".join(f"{f},1,10,20,30,40,1,1,1\n" for f in range(1, 180)))
    pred = write(tmp_path / "bikes.txt", "".join(f"{f},1,10,20,30,40,0.9,-1,-1,-1\n" for f in range(1, 251)))
    assert main(["eval", "--gt", str(gt), "--pred", str(pred)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "look like different sequences" in err and "reach frame 250" in err
    assert main(["eval", "--gt", str(gt), "--pred", str(pred), "--strict"]) == 1
    captured = capsys.readouterr()
    assert "refused (--strict)" in captured.err and captured.out == ""
    # seqinfo files beside both that name different sequences; boxes outside the gt's image
    write(tmp_path / "TUD" / "seqinfo.ini", "[Sequence]\nname=TUD\nseqLength=300\nimWidth=20\nimHeight=20\n")
    other = write(tmp_path / "other" / "gt" / "pred.txt", "1,1,100,20,30,40,0.9,-1,-1,-1\n")
    write(tmp_path / "other" / "seqinfo.ini", "[Sequence]\nname=bikes\nseqLength=250\n")
    assert main(["eval", "--gt", str(gt), "--pred", str(other), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "names sequence 'bikes', the gt's 'TUD'" in err and "says 250 frames" in err
    assert "lie entirely outside the 20x20 image" in err
    # the same sequence: no warning
    same = write(tmp_path / "same.txt", "".join(f"{f},1,10,20,30,40,0.9,-1,-1,-1\n" for f in range(1, 170)))
    write(tmp_path / "TUD" / "seqinfo.ini", "[Sequence]\nname=TUD\nseqLength=300\n")
    assert main(["eval", "--gt", str(gt), "--pred", str(same), "--strict"]) == 0
    assert capsys.readouterr().err == ""


def test_a_file_beyond_the_size_bound_is_refused_before_parsing(tmp_path, monkeypatch, capsys):
    import engine.io.mot as mot

    monkeypatch.setattr(mot, "MAX_FILE_BYTES", 64)
    big = write(tmp_path / "res.txt", PRED * 3)
    assert main(["eval", "--gt", str(big), "--pred", str(big)]) == 1
    assert "res.txt: larger than 64 bytes" in capsys.readouterr().err


def test_custom_gt_classes_need_distractor_removal_off_as_in_trackeval(tmp_path, capsys):
    gt = write(tmp_path / "SEQ" / "gt" / "gt.txt", "1,1,10,20,30,40,1,42,1\n2,1,11,20,30,40,1,42,1\n")
    pred = write(tmp_path / "pred.txt", PRED[:58])
    assert main(["eval", "--gt", str(gt), "--pred", str(pred)]) == 1
    assert "gt.txt:1: class 42 is not a MOTChallenge class" in capsys.readouterr().err
    assert main(["eval", "--gt", str(gt), "--pred", str(pred), "--keep-distractor-matches", "--json"]) == 0
