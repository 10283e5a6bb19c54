"""Training augmentations: keyed determinism, buffer types, records/replay, the held-out
guard, composition, torch/DLPack without torch, fork safety, DataLoader workers."""

import multiprocessing as mp
import warnings

import numpy as np
import pytest

import imgcorrupt
from imgcorrupt import augment as A

RNG = np.random.RandomState(3)
U8 = RNG.randint(0, 256, (24, 32, 3)).astype(np.uint8)
F32 = RNG.rand(3, 24, 32).astype(np.float32)


def gnt(**kw):
    return A.GaussianNoiseTraining(0.5, p_clean=0.0, allow_benchmark=True, **kw)


def test_keyed_by_seed_epoch_index():
    t = gnt(seed=7)
    a = t(U8, index=5)
    assert a.dtype == np.uint8 and a.shape == U8.shape and not np.array_equal(a, U8)
    assert np.array_equal(a, t(U8, index=5))
    assert not np.array_equal(a, t(U8, index=6))
    assert not np.array_equal(a, t(U8, index=5, epoch=1))
    assert not np.array_equal(a, gnt(seed=8)(U8, index=5))
    t.set_epoch(1)
    assert np.array_equal(t(U8, index=5), gnt(seed=7)(U8, index=5, epoch=1))
    # the input is not modified; inplace writes into it
    y = U8.copy()
    out = gnt(seed=7)(y, index=5, inplace=True)
    assert out is y and np.array_equal(y, a)


def test_f32_chw_and_batches():
    t = gnt(seed=1)
    f = t(F32, index=3)
    assert f.dtype == np.float32 and f.shape == F32.shape
    assert f.min() >= 0 and f.max() <= 1 and not np.array_equal(f, F32)
    batch = np.stack([F32] * 4)
    out, recs = t.apply(batch, index=[10, 11, 3, 12])
    assert len(recs) == 4 and np.array_equal(out[2], f)  # a sample's noise depends on its key only
    ub = np.stack([U8] * 3)
    out = t(ub, index=100)
    assert np.array_equal(out[1], t(U8, index=101))


def test_reference_batch_split():
    """σ = 0.5 GNT, p_clean 0.5: the first round(B/2) samples of a batch stay clean."""
    t = A.GaussianNoiseTraining(0.5, allow_benchmark=True, seed=2)
    batch = np.stack([F32] * 4)
    out, recs = t.apply(batch, index=0)
    assert [all(s.op == "clean" for s in r) for r in recs] == [True, True, False, False]
    assert np.array_equal(out[0], F32) and not np.array_equal(out[3], F32)


def test_multi_sigma_and_speckle():
    m = A.GaussianNoiseTraining(sigmas=A.GAUSSIAN_MULTI_SIGMAS, p_clean=0.0, allow_benchmark=True, seed=3)
    sig = {m.apply(F32, index=i)[1][0].sigma for i in range(60)}
    assert sig == set(A.GAUSSIAN_MULTI_SIGMAS)
    s = A.SpeckleNoiseTraining(p_clean=0.0, seed=3)
    black = np.zeros_like(U8)
    assert np.array_equal(s(black, index=1), black)  # multiplicative
    out, rec = s.apply(U8, index=1)
    assert rec[0].op == "speckle_noise" and rec[0].sigma in A.SPECKLE_SIGMAS


def test_records_replay():
    t = A.Compose([A.RandomCorruption("validation", severities=[2, 3], seed=0), gnt()], seed=4)
    for x in (U8, F32):
        out, rec = t.apply(x, index=9)
        assert [s.op for s in rec][0] in ("corruption", "clean")
        assert np.array_equal(A.replay(rec, x), out)


def test_random_corruption_and_one_of():
    rc = A.RandomCorruption(["fog", "saturate"], severities=[4], seed=5, allow_benchmark=True)
    names = set()
    for i in range(40):
        _, rec = rc.apply(U8, index=i)
        names.add(rec[0].corruption)
        assert rec[0].severity == 4
    assert names <= {"fog", "saturate"} and len(names) == 2
    one = A.OneOf([gnt(), A.SpeckleNoiseTraining(p_clean=0.0)], weights=[0, 1], seed=1)
    assert all(one.apply(U8, index=i)[1][0].op == "speckle_noise" for i in range(10))
    # a corruption on a float CHW image stays in [0, 1]
    out = A.RandomCorruption("validation", seed=2)(F32, index=4)
    assert out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1


def test_held_out_guard_warns():
    with pytest.warns(A.HeldOutWarning, match="Pass allow_benchmark=True to GaussianNoiseTraining"):
        t = A.GaussianNoiseTraining(0.5)
    assert t.warnings == []
    with pytest.warns(A.HeldOutWarning):
        A.RandomCorruption("common")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.RandomCorruption("validation")
        A.GaussianNoiseTraining(0.5, allow_benchmark=True)
        A.SpeckleNoiseTraining()


def test_bad_arguments():
    with pytest.raises(ValueError):
        A.GaussianNoiseTraining(-1.0, allow_benchmark=True)
    with pytest.raises(ValueError):
        A.GaussianNoiseTraining(0.5, p_clean=1.5, allow_benchmark=True)
    with pytest.raises(ValueError):
        A.RandomCorruption("validation", severities=[0])
    with pytest.raises(KeyError):
        A.RandomCorruption("fgo")
    with pytest.raises(ValueError):
        gnt()(U8.astype(np.float64), index=1)
    with pytest.raises(ValueError):
        gnt()(np.zeros((0, 3, 3), np.uint8), index=1)
    with pytest.raises(ValueError):
        gnt()(np.stack([U8] * 2), index=[1])
    with pytest.raises(ValueError):
        gnt()(U8[::-1], index=1, inplace=True)


class _FakeDLPack:
    """Any non-numpy object speaking DLPack."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_objects():
    out = gnt(seed=1)(_FakeDLPack(F32), index=3)
    assert isinstance(out, np.ndarray) and np.array_equal(out, gnt(seed=1)(F32, index=3))


def test_torch_tensors_when_installed():
    torch = pytest.importorskip("torch")
    t = gnt(seed=1)
    x = torch.from_numpy(F32.copy())
    y = t(x, index=3)
    assert isinstance(y, torch.Tensor) and np.array_equal(y.numpy(), t(F32, index=3))
    u = torch.from_numpy(U8.transpose(2, 0, 1).copy())  # uint8 CHW
    v = t(u, index=3)
    assert np.array_equal(v.numpy().transpose(1, 2, 0), t(U8, index=3))


def _child(q):
    try:
        t = gnt(seed=1)
        batch = np.stack([F32] * 8)
        out = t(batch, index=0)
        q.put(("ok", out[3].tobytes(), imgcorrupt.corrupt_batch(np.stack([U8] * 4), "fog", 2, seed=1).tobytes()))
    except Exception as e:  # pragma: no cover - reported to the parent
        q.put(("error", repr(e), b""))


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="no fork on this platform")
def test_fork_after_parallel_use():
    """A parent that used the thread pool forks workers that keep working (no deadlock)."""
    t = gnt(seed=1)
    batch = np.stack([F32] * 8)
    expected = t(batch, index=0)[3].tobytes()
    fog = imgcorrupt.corrupt_batch(np.stack([U8] * 4), "fog", 2, seed=1).tobytes()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(q,)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(r == ("ok", expected, fog) for r in results), results


class _Images:
    def __len__(self):
        return 12

    def __getitem__(self, i):
        return (np.full((3, 8, 8), i / 12, np.float32), i)


def _worker_run(indices, epoch):
    ds = A.AugmentedDataset(_Images(), gnt(seed=9), epoch=epoch)
    return [ds[i][0].tobytes() for i in indices]


def test_worker_count_does_not_matter():
    """Items computed by 1 worker equal those of 2 workers splitting the indices any way."""
    one = _worker_run(range(12), 0)
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(2) as pool:
        halves = pool.starmap(_worker_run, [(range(0, 12, 2), 0), (range(1, 12, 2), 0)])
    two = [None] * 12
    two[0::2], two[1::2] = halves
    assert two == one
    assert _worker_run(range(12), 1) != one  # a new epoch, new noise


def test_torch_dataloader_workers_when_installed():
    torch = pytest.importorskip("torch")
    ds = A.AugmentedDataset(_Images(), gnt(seed=9))
    runs = []
    for workers in (0, 1, 2):
        dl = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=workers)
        runs.append(torch.cat([b[0] for b in dl]).numpy())
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])
