"""VideoTrainer: the family-agnostic base of every trainer (GANs, predictors, VAEs, ...).

It holds what every family shares, so that a family writes only its networks and its
`train_step`:

- one optimizer per network, built in `compile` (so checkpoints and BackupAndRestore restore
  every optimizer's state; FACTS: an unbuilt optimizer cannot take a saved state), and the
  compile config that `keras.models.load_model` restores;
- a `keras.metrics.Mean` tracker per loss term, and their summed "loss";
- a moving average of named networks (`averaged`);
- stateless random draws keyed by a name (`keyed_seed`): different on every replica and step,
  identical when a resumed run replays a step;
- `data_keys`: what `train_step` reads from each batch;
- `export_spec()` and `sample(...)`: what an export holds, and samples drawn through the same
  numpy sampler that the runtime uses (`vidgen_tf.runtime.samplers`).

`GANTrainer` (gan_trainer.py) adds the adversarial loss on top.
"""

from __future__ import annotations

import contextlib
import zlib

import keras
import numpy as np
import tensorflow as tf
from keras import ops

DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_BETAS = (0.5, 0.999)


@keras.saving.register_keras_serializable(package="vidgen_tf")
class WarmupEMAAdamW(keras.optimizers.AdamW):
    """AdamW whose moving average of the weights warms up: step t averages with decay
    min(ema_momentum, (1 + t) / (10 + t)), as TensorFlow's ExponentialMovingAverage does with
    `num_updates` (step 0 copies the weights, as Keras' own average does).

    With Keras' fixed decay, 0.999 still gives the random initial weights 0.999^t of the
    average: 45% after 800 steps, 22% after 1500, so the samples and exports of a short run
    are grey. Warmed up, the average follows the weights from the start and reaches the
    full decay after about 9000 steps.

    Example:
        >>> opt = WarmupEMAAdamW(use_ema=True, ema_momentum=0.999)
        >>> [round(float(opt.ema_decay_at(t)), 4) for t in (0, 1, 90, 100000)]
        [0.0, 0.1818, 0.91, 0.999]
    """

    def ema_decay_at(self, step):
        step = ops.cast(step, "float32")
        warm = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))
        return ops.where(step > 0, warm, 0.0)

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        decay = self.ema_decay_at(self.iterations)
        for var, average in zip(trainable_variables, self._model_variables_moving_average,
                                strict=True):
            if average is not None:
                momentum = ops.cast(decay, var.dtype)
                average.assign(momentum * average + (1 - momentum) * var)


def default_adam(weight_decay: float | None = None, learning_rate: float = DEFAULT_LEARNING_RATE,
                 betas: tuple[float, float] = DEFAULT_BETAS,
                 ema_decay: float = 0.0, ema_warmup: bool = False) -> keras.optimizers.Optimizer:
    """Adam(2e-4, betas (0.5, 0.999)), the DCGAN/MoCoGAN default; AdamW with `weight_decay`.

    With `ema_decay` > 0 the optimizer also keeps an exponential moving average of the
    weights it trains (Keras' `use_ema`, never written back during training); see
    `GANTrainer.averaged_generator`. With `ema_warmup` that average warms up
    (`WarmupEMAAdamW`; it needs `weight_decay`).
    """
    beta_1, beta_2 = betas
    ema = {"use_ema": True, "ema_momentum": ema_decay} if ema_decay else {}
    if ema_decay and ema_warmup:
        return WarmupEMAAdamW(learning_rate, weight_decay=weight_decay or 0.0,
                              beta_1=beta_1, beta_2=beta_2, **ema)
    if weight_decay:
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay,
                                      beta_1=beta_1, beta_2=beta_2, **ema)
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, **ema)


def replica_count() -> int:
    """Replicas in sync under the current tf.distribute strategy (1 without one)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def in_multi_worker_mode() -> bool:
    """Whether the current strategy is MultiWorkerMirroredStrategy over more than one worker."""
    strategy = tf.distribute.get_strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


def replica_id() -> tf.Tensor:
    """This replica's index inside `strategy.run` (0 outside a strategy)."""
    context = tf.distribute.get_replica_context()
    if context is None:
        return tf.constant(0, tf.int32)
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


class VideoTrainer(keras.Model):
    """Base class of the trainers: `fit` trains every network with its own optimizer.

    Subclasses list `optimizer_names` ("<network>_optimizer" trains `self.<network>`) and
    `objective_names` (the loss terms summed into "loss"), add their trackers, and write
    `train_step`.

    Args:
        seed: int, default 0. Seed of every stateless draw made in training.
    """

    optimizer_names: tuple[str, ...] = ()
    # The network that samples and exports use (with its moving average, if kept).
    averaged_network = "generator"
    task = "generation"
    # The networks' objectives; their sum is logged as "loss", the key stock Keras callbacks
    # (TerminateOnNaN, EarlyStopping, ModelCheckpoint's default monitor) look for.
    objective_names: tuple[str, ...] = ()

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.trackers: dict[str, keras.metrics.Mean] = {"loss": keras.metrics.Mean(name="loss")}

    # ------------------------------------------------------------------ compile

    def compile(self, **optimizers):
        """One optimizer per network.

        Args:
            **optimizers: `<network>_optimizer=keras.optimizers.Optimizer`; missing ones
                come from `default_optimizer`. Extra keyword arguments that are not
                optimizers go to `keras.Model.compile` (e.g. `jit_compile`).
        """
        from vidgen_tf.training.setup import warn_if_onednn_is_off

        warn_if_onednn_is_off()
        unknown = [k for k in optimizers if k.endswith("_optimizer")
                   and k not in self.optimizer_names]
        if unknown:
            raise ValueError(f"unknown optimizer argument(s) {', '.join(unknown)}; this model "
                             f"takes {', '.join(self.optimizer_names)}")
        model_kwargs = {k: v for k, v in optimizers.items() if k not in self.optimizer_names}
        super().compile(optimizer=None, **model_kwargs)
        for name in self.optimizer_names:
            optimizer = optimizers.get(name) or self.default_optimizer(name)
            if isinstance(optimizer, (str, dict)):
                optimizer = keras.optimizers.get(optimizer)
            if (keras.mixed_precision.dtype_policy().name == "mixed_float16"
                    and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
                # float16 gradients underflow without dynamic loss scaling.
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            network = self.network_for(name)
            if not network.built:
                network.build()
            optimizer.build(network.trainable_variables)
            setattr(self, name, optimizer)
        if not self.built:
            self.build()

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        return default_adam()

    def network_for(self, optimizer_name: str) -> keras.Model:
        """The sub-model that `<network>_optimizer` trains."""
        return getattr(self, optimizer_name.removesuffix("_optimizer"))

    def get_compile_config(self):
        config = {}
        for name in self.optimizer_names:
            if hasattr(self, name):
                config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    def compile_from_config(self, config):
        self.compile(**self._optimizers_from_config(config))

    def _optimizers_from_config(self, config) -> dict:
        return {name: keras.saving.deserialize_keras_object(config[name])
                for name in self.optimizer_names if name in config}

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy, Keras' fit first all-reduces a whole data batch only to
        # learn its shapes, and MultiWorkerMirroredStrategy cannot reduce a dict batch ("Attempt
        # to convert a value ({'video': PerReplica...})"). `compile` has already built every
        # network and optimizer, so there is nothing left to build from data.
        if all(layer.built for layer in self._flatten_layers()):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    # ------------------------------------------------------------------ moving average

    @contextlib.contextmanager
    def averaged(self, network: str = "generator"):
        """Within this block `self.<network>` holds the moving average of its weights.

        When the network's optimizer keeps an exponential moving average of the weights
        (`use_ema`, as with MoCoGAN's `generator_ema`), sampling and export use those averaged
        weights: they give cleaner samples than the last step's (Karras et al. 2018; Yazici et
        al. 2019). The training weights come back on exit, so training and checkpoints are
        unaffected. Without a moving average this changes nothing.
        """
        model = getattr(self, network)
        optimizer = getattr(self, f"{network}_optimizer", None)
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        averages = getattr(inner, "_model_variables_moving_average", None)
        if not getattr(inner, "use_ema", False) or not averages:
            yield model
            return
        variables = model.trainable_variables
        if len(variables) != len(averages):
            raise ValueError(
                f"the {network} has {len(variables)} trainable variables but its optimizer "
                f"averages {len(averages)}; it was built for other variables")
        saved = [ops.convert_to_numpy(v) for v in variables]
        for variable, average in zip(variables, averages, strict=True):
            variable.assign(average)
        try:
            yield model
        finally:
            for variable, value in zip(variables, saved, strict=True):
                variable.assign(value)

    # ------------------------------------------------------------------ metrics

    def add_trackers(self, *names: str) -> None:
        for name in names:
            self.trackers[name] = keras.metrics.Mean(name=name)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def record(self, **values) -> dict:
        """Update the trackers with one step's values (plus "loss", the objectives' sum)."""
        values["loss"] = sum(ops.cast(values[name], "float32") for name in self.objective_names)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if in_multi_worker_mode():
            # Keras reduces step results across workers with `strategy.reduce("MEAN", v,
            # axis=0)`, which refuses scalars (tensorflow#72388): give it vectors of one.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    # ------------------------------------------------------------------ randomness

    def keyed_seed(self, name: str, step) -> tf.Tensor:
        """A stateless seed for the draw called `name` at `step` on this replica: crc32 of the
        name keeps draws of different names independent without a hand-kept salt table."""
        mix = (tf.cast(step, tf.int64) * 1009 + tf.cast(replica_id(), tf.int64)) * 97 + (
            zlib.crc32(name.encode()) % (2**31))
        return tf.stack([tf.constant(self.seed, tf.int64), mix])

    # ------------------------------------------------------------------ data, export, samples

    @property
    def data_keys(self) -> tuple[str, ...]:
        """What `train_step` reads from each batch (a dict of the data pipeline)."""
        return ("video",)

    def export_spec(self, generator=None, class_names=None):
        """What an export of this model holds: inputs with roles, graphs and sampler
        (`vidgen_tf.export.spec.ExportSpec`). `generator` replaces `self.generator` (the
        exporter passes a float32 copy)."""
        from vidgen_tf.export.spec import generator_export_spec

        return generator_export_spec(
            generator or self.generator, class_names=class_names,
            vocabulary=getattr(self, "vocabulary", None),
            max_tokens=getattr(self, "max_tokens", 0))

    def sample(self, num: int, seed: int = 0, frames: int | None = None, labels=None,
               **conditions) -> np.ndarray:
        """`num` videos, float32 in [-1, 1] `(num, frames, height, width, channels)`, drawn
        through the export's numpy sampler with the Keras networks as its graphs (moving
        averages applied), from `seed`: what the export would generate from the same inputs.

        Args:
            conditions: the condition inputs as the networks take them (e.g. "prompt_tokens"
                int32 ids, "first_frame" float in [-1, 1]), `num` rows each.
        """
        from vidgen_tf.noise import sample_noise
        from vidgen_tf.runtime.samplers import get_sampler

        spec = self.export_spec()
        feeds = sample_noise(spec.inputs, num, seed, labels=labels, frames=frames,
                             default_frames=spec.dims["frames"]["default"])
        feeds.update({k: np.asarray(v) for k, v in conditions.items()})
        with self.averaged("generator"):
            sampler = get_sampler({"sampler": spec.sampler},
                                  {name: g.keras_call for name, g in spec.graphs.items()})
            return sampler(feeds)

    # ------------------------------------------------------------------ gradients

    @staticmethod
    def apply_gradients(tape, loss, network, optimizer) -> None:
        """Differentiate `loss` (recorded on `tape`) for `network`'s weights and step."""
        variables = network.trainable_variables
        optimizer.apply(tape.gradient(loss, variables), variables)

    @staticmethod
    def real_videos(data):
        """The real clips of a batch: the "video" entry of a pipeline dict, or the tensor."""
        if isinstance(data, tuple):
            data = data[0]
        return data["video"] if isinstance(data, dict) else data

    @staticmethod
    def per_replica(loss):
        """Scale a per-replica mean loss so that gradients summed over replicas average them."""
        return loss / ops.cast(replica_count(), loss.dtype)

    def for_gradients(self, loss, optimizer):
        """The loss to differentiate (inside the tape): divided by the replica count, then
        multiplied by the optimizer's loss scale (mixed_float16; `apply` unscales)."""
        return optimizer.scale_loss(self.per_replica(loss))
