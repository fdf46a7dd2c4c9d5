"""Train the self-made ``ae8-selftrained`` generator on the train-split REAL crops of a corpus.

    KERAS_BACKEND=tensorflow nice -n 10 .venv/bin/python \
        aidetect_training/generators/train_autoencoder.py --data /work/data/corpus-v1 --minutes 8

Only ``train`` crops are used, so val/test reconstructions are of photos the model never
saw. Training stops after ``--minutes`` of wall time (CPU-bounded). Writes
``aidetect_training/generators/ae8/ae8.weights.h5`` and ``ae8/training.json`` (loss curve, data).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _reals(data: Path, split: str) -> list[Path]:
    """REAL crops of a split: from manifest.csv, or the folder while a build is still running."""
    if (data / "manifest.csv").exists():
        from aidetect.datasets import read_manifest

        rows = read_manifest(data / "manifest.csv")
        return [s.path for s in rows if s.split == split and s.label == 0]
    return sorted((data / split / "REAL").glob("*.png"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "ae8" / "ae8.weights.h5"))
    args = ap.parse_args()

    import keras
    import tensorflow as tf

    from aidetect.corpus.autoencoder import build_autoencoder

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    data = Path(args.data)
    rows = _reals(data, "train")
    crops = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in rows])
    rng = np.random.default_rng(args.seed)
    model = build_autoencoder()
    opt = keras.optimizers.Adam(args.lr)
    model.compile(optimizer=opt, loss="mean_absolute_error")
    p = args.patch
    history = []
    t0 = time.time()
    step = 0
    while time.time() - t0 < args.minutes * 60:
        idx = rng.integers(0, len(crops), args.batch)
        ys = rng.integers(0, crops.shape[1] - p + 1, args.batch)
        xs = rng.integers(0, crops.shape[2] - p + 1, args.batch)
        batch = np.stack(
            [crops[i, y : y + p, x : x + p] for i, y, x in zip(idx, ys, xs, strict=True)]
        )
        flip = rng.random(args.batch) < 0.5
        batch[flip] = batch[flip, :, ::-1]
        xb = batch.astype(np.float32) / 127.5 - 1.0
        loss = float(model.train_on_batch(xb, xb))
        step += 1
        if step % 50 == 0:
            history.append(
                {"step": step, "seconds": round(time.time() - t0, 1), "l1": round(loss, 4)}
            )
            print(history[-1], flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(out)
    # validation L1 on val crops (full 256 px, fully convolutional)
    val = _reals(data, "val")
    vx = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in val[:64]])
    vx = vx.astype(np.float32) / 127.5 - 1.0
    recon = model.predict(vx, batch_size=8, verbose=0)
    val_l1 = float(np.mean(np.abs(recon - vx)))
    val_mse = float(np.mean((np.clip(recon, -1, 1) - vx) ** 2))
    info = {
        "data": str(data),
        "train_crops": len(rows),
        "steps": step,
        "batch": args.batch,
        "patch": p,
        "minutes": args.minutes,
        "final_train_l1": history[-1]["l1"] if history else None,
        "val_l1_256px": round(val_l1, 4),
        "val_psnr_db": round(10 * np.log10(4 / val_mse), 2),
        "params": int(model.count_params()),
        "history": history,
        "weights_bytes": out.stat().st_size,
    }
    (out.parent / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "history"}, indent=2))


if __name__ == "__main__":
    main()
