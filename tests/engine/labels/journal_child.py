"""Child process for the journal tests that need a process of their own (SIGKILL, RLIMIT_FSIZE, an
unprivileged user). Usage: python journal_child.py MODE JOURNAL [CACHE]. Prints one line per event."""
from __future__ import annotations

import os
import resource
import signal
import sys

from labels_helpers import edit_sequence, model_set

from engine.labels.journal import JournalError, LabelJournal


def append_edits(journal: LabelJournal, after_each=None) -> None:
    """Snapshot the test set, then append the deterministic edit sequence forever, printing "ok <i>" once
    edit i is durable; ``after_each(ls, i)`` runs after each."""
    ls = model_set()
    journal.enqueue_snapshot(ls)
    journal.flush()
    print("ok 0", flush=True)
    for i, (change, action) in enumerate(edit_sequence(ls, 100000), start=1):
        journal.record(ls.name, change, action=action)
        print(f"ok {i}", flush=True)
        if after_each is not None:
            after_each(ls, i)


def append_forever(path: str) -> None:
    with LabelJournal.open(path) as journal:
        append_edits(journal)


def file_size_limit(path: str, cache_path: str) -> None:
    """Append under a file-size limit until the journal refuses; then try a save into the cache."""
    from engine.cache import ResultsCache
    from engine.labels.journal import save

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    ls = model_set()
    journal = LabelJournal.open(path)
    journal.enqueue_snapshot(ls)
    journal.flush()
    sizes = [os.path.getsize(p) for p in (path, path + "-wal", cache_path) if os.path.exists(p)]
    limit = max(sizes) + 48 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    ok = 0
    for change, action in edit_sequence(ls, 2000):
        try:
            journal.record(ls.name, change, action=action)
            ok += 1
        except JournalError as exc:
            print(f"refused {ok} pending={journal.pending} {exc}", flush=True)
            break
    else:
        print("never refused", flush=True)
    with ResultsCache.open(cache_path, mode="a") as cache:
        try:
            save(cache, ls, journal)
            print("saved", flush=True)
        except OSError as exc:
            print(f"save refused {type(exc).__name__} {exc}", flush=True)
    journal.close()


def read_only(path: str) -> None:
    """Open (or append to) a journal in a folder this process cannot write."""
    ls = model_set()
    if os.geteuid() == 0:  # root ignores permissions: drop to an unprivileged user (after the imports:
        os.setgid(65534)   # the interpreter's own folder may not be readable to that user)
        os.setuid(65534)
    try:
        journal = LabelJournal.open(path)
    except JournalError as exc:
        print(f"open refused {type(exc).__name__} {exc}", flush=True)
        return
    try:
        journal.enqueue_snapshot(ls)
        journal.flush()
        print("flushed", flush=True)
    except JournalError as exc:
        print(f"flush refused pending={journal.pending} {exc}", flush=True)


def edit_and_compact(cache_path: str) -> None:
    """Edit, journal and compact into the cache after every edit, forever: "ok <i>" once edit i is in
    the journal, "saved <i>" once the cache holds it (the parent SIGKILLs us anywhere in between)."""
    from engine.cache import ResultsCache
    from engine.labels.journal import journal_path_for, save

    with ResultsCache.open(cache_path, mode="a") as cache, LabelJournal.open(journal_path_for(cache_path)) as journal:
        def compact(ls, i):
            save(cache, ls, journal)
            print(f"saved {i}", flush=True)
        append_edits(journal, compact)


def read_existing(path: str) -> None:
    """Read a journal in a folder this process cannot write (an export from a read-only place)."""
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    try:
        with LabelJournal.open(path, readonly=True) as journal:
            ls = journal.replay("gt", None)
            print(f"read {ls.num_boxes} {len(ls)}", flush=True)
    except JournalError as exc:
        print(f"read refused {exc}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "kill":
        append_forever(sys.argv[2])
    elif mode == "fsize":
        file_size_limit(sys.argv[2], sys.argv[3])
    elif mode == "readonly":
        read_only(sys.argv[2])
    elif mode == "compact":
        edit_and_compact(sys.argv[2])
    elif mode == "read":
        read_existing(sys.argv[2])
