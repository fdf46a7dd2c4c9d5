"""Evaluation experiments for the shipped models: robustness, leave-one-family-out,
calibration, the seed model side by side, and the report (``docs/evaluation.md``).

Every number is measured through the serving path (``Registry`` + ``Detector``) by
``aidetect.evaluation.evaluate`` (metrics from ``compute_metrics``); images are listed
with ``aidetect.datasets.list_samples``. Nothing here preprocesses pixels or computes
a metric of its own: it only writes transformed copies of test images, manifests,
and tables.

    python -m aidetect_training.experiments robustness  --data CORPUS --models-dir models --out DIR
    python -m aidetect_training.experiments lofo        --data CORPUS --arch svm --out DIR
    python -m aidetect_training.experiments lofo        --data CORPUS --like MODEL --out DIR
    python -m aidetect_training.experiments calibration --data CORPUS --models-dir models --out DIR
    python -m aidetect_training.experiments seed        --data CORPUS --seed-model FILE --out DIR
    python -m aidetect_training.experiments report      --data CORPUS --out DIR \
        --doc docs/evaluation.md

One module per experiment (``robustness``, ``lofo``, ``calibration``, ``seed``,
``report``), what they share in ``shared``, the command line in ``cli``. The
report's prose is the template ``docs/templates/evaluation.md``, filled from the
JSON results.

Each command writes ``DIR/results.json``; ``report`` reads ``OUT/{robustness,
calibration,seed,lofo-svm,lofo-cnn}/results.json`` (whichever exist). Reruns are
cheap: a report whose model fingerprint (SHA-256, creation time) is unchanged is
reused, a LOFO model already trained with the same command is kept (``--force``
redoes both). Transformed images and LOFO models belong outside the repository.

``lofo --like MODEL`` retrains a shipped model's own recorded recipe without each
text-to-image family it trained on, and scores each model with
``aidetect_training.heldout`` (``lofo.cmd_lofo_like``); ``--docs FILE`` writes its
section of ``docs/evaluation.md``.
"""
