"""The judge-child protocol: frames round-trip, and every forged or oversized frame is a BadFrame."""

import io
import json
import time

import pytest

from grader.child import protocol
from grader.child.protocol import BadFrame, CaseStatus, Frame, FrameReader, Kind


def raw(header: bytes, payload: bytes = b"") -> bytes:
    return protocol.PREFIX.pack(len(header), len(payload)) + header + payload


def test_a_case_frame_round_trips_with_its_payload():
    frame = Frame(Kind.CASE, index=2, status=CaseStatus.OK, time=0.25)
    [(got, payload)] = FrameReader().feed(protocol.encode(frame, b"\x93NUMPY"))
    assert got == frame and payload == b"\x93NUMPY"


def test_frames_split_across_reads_come_out_whole_and_in_order():
    frames = [
        Frame(Kind.READY),
        Frame(Kind.IMPORTED),
        Frame(Kind.CASE, index=0, status=CaseStatus.ERROR, message="ValueError: x"),
        Frame(Kind.DONE),
    ]
    data = b"".join(protocol.encode(f) for f in frames)
    reader, got = FrameReader(), []
    for i in range(len(data)):
        got += [f for f, _ in reader.feed(data[i : i + 1])]
    assert got == frames and reader.pending == 0


def test_a_time_of_ten_to_the_400_is_a_bad_frame_not_a_judge_error():
    header = b'{"kind": "case", "index": 0, "status": "ok", "time": 1' + b"0" * 400 + b"}"
    with pytest.raises(BadFrame, match="seconds"):
        FrameReader().feed(raw(header))


@pytest.mark.parametrize("value", [b"Infinity", b"NaN", b"-1", b"1e400", b"true", b'"fast"'])
def test_times_that_are_not_seconds_are_refused(value):
    with pytest.raises(BadFrame):
        FrameReader().feed(raw(b'{"kind": "case", "index": 0, "status": "ok", "time": ' + value + b"}"))


def test_a_header_nested_100000_deep_is_refused_quickly():
    start = time.process_time()
    with pytest.raises(BadFrame, match="deep"):
        FrameReader().feed(raw(b"[" * 100_000 + b"]" * 100_000))
    assert time.process_time() - start < 5  # bounded work, not a recursion to the stack's end


def test_brackets_inside_strings_are_text_not_nesting():
    frame = Frame(Kind.CASE, index=0, status=CaseStatus.ERROR, message="IndexError: [[[[{{{{ ]]")
    [(got, _)] = FrameReader().feed(protocol.encode(frame))
    assert got.message == frame.message


def test_a_frame_announcing_a_huge_header_is_refused_before_it_arrives():
    with pytest.raises(BadFrame, match="announcing"):
        FrameReader().feed(protocol.PREFIX.pack(protocol.MAX_HEADER + 1, 0))


def test_a_payload_past_the_channel_limit_is_refused_unread():
    with pytest.raises(BadFrame):
        FrameReader(max_payload=10).feed(protocol.PREFIX.pack(2, 11) + b"{}")


@pytest.mark.parametrize(
    "header,reason",
    [
        (b'{"kind": "verdict", "passed": true}', "unknown field"),
        (b'{"kind": "verdict"}', "unknown kind"),
        (b'{"kind": "case", "status": "ok"}', "index"),
        (b'{"kind": "case", "index": true, "status": "ok"}', "index"),
        (b'{"kind": "case", "index": 0, "status": "passed"}', "unknown status"),
        (b'{"kind": "load_error"}', "status"),
        (b'{"kind": "done", "index": 3}', "index"),
        (b'{"kind": "case", "index": 0, "status": "error", "message": ["x"]}', "not text"),
        (b"[1, 2]", "not an object"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(header, reason):
    with pytest.raises(BadFrame, match=reason):
        FrameReader().feed(raw(header))


def test_long_messages_are_cut_on_both_sides():
    frame = Frame(Kind.LOAD_ERROR, status=CaseStatus.ERROR, message="m" * 10_000, traceback="t" * 100_000)
    [(got, _)] = FrameReader().feed(protocol.encode(frame))
    assert len(got.message) == protocol.MESSAGE_KEEP and len(got.traceback) == protocol.TRACEBACK_KEEP


def test_a_job_round_trips_through_the_childs_reader():
    job = protocol.Job(
        module="m",
        filename="m.py",
        source="x = 1\n",
        function="f",
        arg_names=["a", "b"],
        cases=[protocol.CaseArgs(scalars={"a": 2}, arrays=["b"])],
    )
    got, payload = protocol.read_job(io.BytesIO(protocol.encode(job, b"npz")))
    assert got == job and payload == b"npz"


def test_the_keepers_report_and_the_spawn_spec_round_trip():
    report = protocol.KeeperReport(exit=-9, maxrss_kb=1234)
    assert protocol.KeeperReport.from_line(report.to_line()) == report
    assert json.loads(report.to_line()) == {"exit": -9, "maxrss_kb": 1234}
    spawn = protocol.Spawn(isolate=True, uid=None, limits={"RLIMIT_AS": 1}, workdir="/tmp", tmp_mb=1, shm_mb=1)
    assert protocol.Spawn.from_bytes(spawn.to_bytes()) == spawn
