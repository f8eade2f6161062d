"""MinibatchStd: append the batch's feature spread as one channel, so D can see mode collapse."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="vidgen_tf")
class MinibatchStd(keras.layers.Layer):
    """Append one channel holding the batch's mean feature standard deviation.

    Follows the minibatch standard deviation layer of ProGAN (Karras et al. 2018, section 3):
    the standard deviation of every feature over the batch, averaged to one number and tiled
    as an extra channel. A collapsed generator makes batches with no spread, which the
    discriminator then sees directly. Works on any channels-last rank, e.g. images
    `(batch, height, width, channels)` or video `(batch, frames, height, width, channels)`.
    Under tf.distribute the spread is that of each replica's batch.

    Example:
        >>> x = keras.random.normal((4, 8, 8, 16))
        >>> tuple(MinibatchStd()(x).shape)
        (4, 8, 8, 17)
    """

    def call(self, x):
        x32 = ops.cast(x, "float32")
        spread = ops.sqrt(ops.var(x32, axis=0) + 1e-8)  # per feature, over the batch
        value = ops.cast(ops.mean(spread), x.dtype)
        channel = ops.zeros_like(x[..., :1]) + value
        return ops.concatenate([x, channel], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)
