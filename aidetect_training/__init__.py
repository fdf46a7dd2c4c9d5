"""Training toolkit: ``aidetect train`` / ``aidetect ensemble``; see aidetect_training/README.md.

Modules: ``run`` (one run from configuration to artifact), ``architectures`` (the
table: name -> module), one module per architecture (``svm``, ``cnn``,
``resnet50``), ``keras_fit`` (the Keras fitting every Keras architecture shares),
``artifact`` (threshold on validation, test report, artifact written once; also
for ``ensemble``), ``config`` and ``options`` (options declared once), ``data``
(splits, augmentation, the streaming loader) and ``cli``.
"""
