"""Training toolkit: ``aidetect train`` / ``aidetect ensemble``; see training/README.md.

Modules: ``data`` (splits, augmentation, the streaming loader), ``common`` (the
run: threshold on validation, artifact, report, card), one per architecture
(``svm``, ``cnn``, ``resnet50``, ``ensemble``) and ``cli``.
"""
