"""Garbage collection settings during bulk loads are raised, shared and restored."""

import gc
import threading

from tiktok_pipeline.bulk_gc import BULK_THRESHOLD, fewer_collections


def test_threshold_raised_inside_and_restored_after_nested_blocks():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= BULK_THRESHOLD
        assert gc.get_freeze_count() > 0
        with fewer_collections():
            assert gc.get_threshold()[0] >= BULK_THRESHOLD
        # The inner block's end does not restore the settings while the outer one runs.
        assert gc.get_threshold()[0] >= BULK_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_overlapping_blocks_in_threads_restore_once_the_last_ends():
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_block():
        with fewer_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_block)
    with fewer_collections():
        thread.start()
        inside.wait(10)
    # This thread's block ended first; the other thread's still runs.
    assert gc.get_threshold()[0] >= BULK_THRESHOLD
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before
