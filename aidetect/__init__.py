"""aidetect: tell AI-generated images from camera photographs.

The core library (decoding, preprocessing, model artifacts, inference, provenance)
lives in this package; ``backend`` (HTTP), ``aidetect.cli`` (command line) and
``training`` are thin layers over it.
"""

__version__ = "0.1.0"
