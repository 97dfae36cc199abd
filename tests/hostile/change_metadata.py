# Tries what Landlock does not rule: a file's mode, owner, times and attributes outside its sandbox (the path
# is set by the test), and System V IPC and message queues that would outlive it (KEY set by the test).
import ctypes
import os

TARGET = "/nonexistent"
KEY = 0

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]


def shm() -> None:
    segment = libc.shmget(KEY, 64 << 20, 0o1000 | 0o666)  # IPC_CREAT
    if segment < 0:
        raise OSError(ctypes.get_errno(), "shmget")
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, 64 << 20)  # touched: resident, outside any process
    libc.shmdt(ctypes.c_void_p(address))


def queue() -> None:
    if libc.msgget(KEY, 0o1000 | 0o666) < 0:
        raise OSError(ctypes.get_errno(), "msgget")


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    attempts = {
        "chmod": lambda: os.chmod(TARGET, 0o4777),
        "chown": lambda: os.chown(TARGET, 4242, 4242),
        "utime": lambda: os.utime(TARGET, (0, 0)),
        "setxattr": lambda: os.setxattr(TARGET, "user.pwned", b"1"),
        "shm": shm,
        "msg": queue,
    }
    done = []
    for name, attempt in attempts.items():
        try:
            attempt()
            done.append(name)
        except OSError:
            pass
    status = {line.split(":")[0]: line.split()[1:] for line in open("/proc/self/status") if ":" in line}
    raise RuntimeError(f"CHANGED {','.join(done) or 'nothing'} uid={status['Uid'][:3]}")
