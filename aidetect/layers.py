"""Custom Keras layers the project's models use, registered for safe loading.

Importing this module registers them; the registry imports it before loading a
``.keras`` file, so models never need ``Lambda`` layers (which safe mode refuses). For plain
scaling use Keras's own ``keras.layers.Rescaling``.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="aidetect")
class ResNetPreprocess(keras.layers.Layer):
    """ResNet50's ``preprocess_input`` ("caffe" mode) inside the model.

    Input: RGB floats in 0..255. Output: BGR with the ImageNet channel means
    subtracted, as the ImageNet weights expect. Keeping this in the model is what
    stops the seed's bug (1/255 scaling fed to ResNet50).
    """

    def call(self, inputs):
        x = inputs[..., ::-1]
        mean = ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=x.dtype)
        return x - mean


@keras.saving.register_keras_serializable(package="aidetect")
class NeighbourResidual(keras.layers.Layer):
    """The neighbouring-pixel residual of NPR (Tan et al., CVPR 2024).

    ``x`` minus its nearest-neighbour 2x down-then-up copy: zero wherever a 2x
    up-sampler copied pixels, the camera's own pixel-to-pixel variation elsewhere.
    Any input size (odd sides are handled by cutting the up-sampled copy back).
    """

    def call(self, inputs):
        down = inputs[:, ::2, ::2, :]
        up = ops.repeat(ops.repeat(down, 2, axis=1), 2, axis=2)
        shape = ops.shape(inputs)
        return inputs - up[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shape):
        return input_shape
