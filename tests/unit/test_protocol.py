"""The judge-child protocol: frames round-trip, and every forged or oversized frame is a BadFrame."""

import io
import json
import time

import pytest

from grader.child import protocol
from grader.child.protocol import BadFrame, Fault, Frame, FrameReader, Kind, Trace, Why


def raw(header: bytes, payload: bytes = b"") -> bytes:
    return protocol.PREFIX.pack(len(header), len(payload)) + header + payload


def test_a_case_frame_round_trips_with_its_payload():
    frame = Frame(Kind.CASE, index=2, time=0.25)
    [(got, payload)] = FrameReader().feed(protocol.encode(frame, b"\x93NUMPY"))
    assert got == frame and payload == b"\x93NUMPY"


def test_frames_split_across_reads_come_out_whole_and_in_order():
    frames = [
        Frame(Kind.READY),
        Frame(Kind.IMPORTED),
        Frame(Kind.CASE, index=0, fault=Fault(Why.RAISED, error="ValueError", text="x")),
        Frame(Kind.DONE),
    ]
    data = b"".join(protocol.encode(f) for f in frames)
    reader, got = FrameReader(), []
    for i in range(len(data)):
        got += [f for f, _ in reader.feed(data[i : i + 1])]
    assert got == frames and reader.pending == 0


def test_a_time_of_ten_to_the_400_is_a_bad_frame_not_a_judge_error():
    header = b'{"kind": "case", "index": 0, "time": 1' + b"0" * 400 + b"}"
    with pytest.raises(BadFrame, match="seconds"):
        FrameReader().feed(raw(header))


@pytest.mark.parametrize("value", [b"Infinity", b"NaN", b"-1", b"1e400", b"true", b'"fast"'])
def test_times_that_are_not_seconds_are_refused(value):
    with pytest.raises(BadFrame):
        FrameReader().feed(raw(b'{"kind": "case", "index": 0, "time": ' + value + b"}"))


def test_a_header_nested_100000_deep_is_refused_quickly():
    start = time.process_time()
    with pytest.raises(BadFrame, match="deep"):
        FrameReader().feed(raw(b"[" * 100_000 + b"]" * 100_000))
    assert time.process_time() - start < 5  # bounded work, not a recursion to the stack's end


def test_brackets_inside_strings_are_text_not_nesting():
    frame = Frame(Kind.CASE, index=0, fault=Fault(Why.RAISED, error="IndexError", text="[[[[{{{{ ]]"))
    [(got, _)] = FrameReader().feed(protocol.encode(frame))
    assert got == frame


def test_a_fault_with_its_traceback_round_trips_as_facts():
    trace = Trace(
        frames=('  File "f.py", line 3, in f\n    x @ y\n',),
        raised_inside="jax/x.py",
        shapes=("x (2, 3)",),
        error="E\n",
    )
    frame = Frame(Kind.LOAD_ERROR, fault=Fault(Why.MISSING_FUNCTION, near="fn", defines=("np", "fn"), trace=trace))
    [(got, _)] = FrameReader().feed(protocol.encode(frame))
    assert got == frame
    where = Frame(Kind.WHERE, line=4, text="while True:")
    assert FrameReader().feed(protocol.encode(where))[0][0] == where


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
        (b'{"kind": "case"}', "index"),
        (b'{"kind": "case", "index": true}', "index"),
        (b'{"kind": "case", "index": 0, "why": "passed"}', "unknown why"),
        (b'{"kind": "load_error"}', "why"),
        (b'{"kind": "done", "why": "raised"}', "with a why"),
        (b'{"kind": "done", "index": 3}', "index"),
        (b'{"kind": "case", "index": 0, "why": "raised", "text": ["x"]}', "not text"),
        (b'{"kind": "case", "index": 0, "why": "raised", "defines": "np"}', "list"),
        (b'{"kind": "case", "index": 0, "why": "raised", "trace_frames": [1]}', "not text"),
        (b'{"kind": "where", "line": -3}', "line"),
        (b"[1, 2]", "not an object"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(header, reason):
    with pytest.raises(BadFrame, match=reason):
        FrameReader().feed(raw(header))


def test_long_texts_and_lists_are_cut_on_both_sides():
    fault = Fault(Why.RAISED, error="E", text="m" * 10_000, defines=tuple(f"n{i}" for i in range(500)))
    [(got, _)] = FrameReader().feed(protocol.encode(Frame(Kind.LOAD_ERROR, fault=fault)))
    assert got.fault is not None and len(got.fault.text) == protocol.TEXT_KEEP
    assert len(got.fault.defines) == protocol.NAMES_KEEP
    too_many = raw(json.dumps({"kind": "load_error", "why": "raised", "defines": ["x"] * 1000}).encode())
    with pytest.raises(BadFrame):  # a forged list longer than the learner's side ever sends
        FrameReader().feed(too_many)


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
