"""The base of every GAN trainer: per-network optimizers, named noise, and resumable compile."""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf
from keras import ops

from vidgen_tf.losses import get_gan_loss, gradient_penalty

DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_BETAS = (0.5, 0.999)


def default_adam(weight_decay: float | None = None, learning_rate: float = DEFAULT_LEARNING_RATE,
                 betas: tuple[float, float] = DEFAULT_BETAS,
                 ema_decay: float = 0.0) -> keras.optimizers.Optimizer:
    """Adam(2e-4, betas (0.5, 0.999)), the DCGAN/MoCoGAN default; AdamW with `weight_decay`.

    With `ema_decay` > 0 the optimizer also keeps an exponential moving average of the
    weights it trains (Keras' `use_ema`, never written back during training); see
    `GANTrainer.averaged_generator`.
    """
    beta_1, beta_2 = betas
    ema = {"use_ema": True, "ema_momentum": ema_decay} if ema_decay else {}
    if weight_decay:
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay,
                                      beta_1=beta_1, beta_2=beta_2, **ema)
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, **ema)


def sampling_generator(model):
    """Context manager giving the generator to sample or export from: a GAN trainer's
    `averaged_generator()` (its moving-average weights, when it keeps them), else the model's
    `generator`, else the model itself (a bare generator)."""
    averaged = getattr(model, "averaged_generator", None)
    if averaged is not None:
        return averaged()
    return contextlib.nullcontext(getattr(model, "generator", model))


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


class GANTrainer(keras.Model):
    """Base class of the GAN trainers: `fit` trains every network with its own optimizer.

    Subclasses set `self.networks` (name -> sub-model trained by optimizer "<name>_optimizer")
    and `self.loss_names`, and write `train_step`. This base provides:

    - `compile(loss=..., <name>_optimizer=...)`: one optimizer per network, built at once
      so that checkpoints and BackupAndRestore restore every optimizer's state (FACTS: an
      unbuilt optimizer cannot take a saved state);
    - `get_compile_config` / `compile_from_config`, so `keras.models.load_model` returns a
      model ready to `fit` again;
    - `sample_noise`: per-replica, per-step noise from stateless ops seeded by
      (`seed`, step, replica), so it differs across replicas and repeats after a resume;
    - a `keras.metrics.Mean` tracker per loss term.
    """

    optimizer_names: tuple[str, ...] = ()
    # The networks' objectives; their sum is logged as "loss", the key stock Keras callbacks
    # (TerminateOnNaN, EarlyStopping, ModelCheckpoint's default monitor) look for.
    objective_names: tuple[str, ...] = ("d_loss", "g_loss")

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.loss = "bce"
        self.trackers: dict[str, keras.metrics.Mean] = {"loss": keras.metrics.Mean(name="loss")}

    # ------------------------------------------------------------------ compile

    def compile(self, loss: str = "bce", **optimizers):
        """Choose the adversarial loss by name and one optimizer per network.

        Args:
            loss: "bce" (non-saturating), "hinge" or "wgan_gp".
            **optimizers: `<network>_optimizer=keras.optimizers.Optimizer`; missing ones
                default to Adam(2e-4, betas (0.5, 0.999)). Extra keyword arguments that are
                not optimizers go to `keras.Model.compile` (e.g. `jit_compile`).
        """
        get_gan_loss(loss)  # fail early with the valid names
        from vidgen_tf.training.setup import warn_if_onednn_is_off

        warn_if_onednn_is_off()
        unknown = [k for k in optimizers if k.endswith("_optimizer")
                   and k not in self.optimizer_names]
        if unknown:
            raise ValueError(f"unknown optimizer argument(s) {', '.join(unknown)}; this model "
                             f"takes {', '.join(self.optimizer_names)}")
        model_kwargs = {k: v for k, v in optimizers.items() if k not in self.optimizer_names}
        super().compile(optimizer=None, **model_kwargs)
        self.loss = loss
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

    @contextlib.contextmanager
    def averaged_generator(self):
        """Within this block `self.generator` holds the moving average of its weights.

        When the generator's optimizer keeps an exponential moving average of the weights
        (`use_ema`, as with MoCoGAN's `generator_ema`), sampling and export use those averaged
        weights: they give cleaner samples than the last step's (Karras et al. 2018; Yazici et
        al. 2019). The training weights come back on exit, so training and checkpoints are
        unaffected. Without a moving average this changes nothing.
        """
        optimizer = getattr(self, "generator_optimizer", None)
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        averages = getattr(inner, "_model_variables_moving_average", None)
        if not getattr(inner, "use_ema", False) or not averages:
            yield self.generator
            return
        variables = self.generator.trainable_variables
        if len(variables) != len(averages):
            raise ValueError(
                f"the generator has {len(variables)} trainable variables but its optimizer "
                f"averages {len(averages)}; it was built for other variables")
        saved = [ops.convert_to_numpy(v) for v in variables]
        for variable, average in zip(variables, averages, strict=True):
            variable.assign(average)
        try:
            yield self.generator
        finally:
            for variable, value in zip(variables, saved, strict=True):
                variable.assign(value)

    def network_for(self, optimizer_name: str) -> keras.Model:
        """The sub-model that `<network>_optimizer` trains."""
        return getattr(self, optimizer_name.removesuffix("_optimizer"))

    def get_compile_config(self):
        config = {"loss": self.loss}
        for name in self.optimizer_names:
            if hasattr(self, name):
                config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    def compile_from_config(self, config):
        optimizers = {name: keras.saving.deserialize_keras_object(config[name])
                      for name in self.optimizer_names if name in config}
        self.compile(loss=config.get("loss", "bce"), **optimizers)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy, Keras' fit first all-reduces a whole data batch only to
        # learn its shapes, and MultiWorkerMirroredStrategy cannot reduce a dict batch ("Attempt
        # to convert a value ({'video': PerReplica...})"). `compile` has already built every
        # network and optimizer, so there is nothing left to build from data.
        if all(layer.built for layer in self._flatten_layers()):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

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

    # ------------------------------------------------------------------ noise

    def sample_noise(self, spec: dict, batch, salt: int, step) -> dict:
        """Draw every named input of a generator's `noise_spec` for `batch` samples.

        Stateless normal/uniform draws seeded by (seed, step, replica, salt, input index):
        different on every replica and step, identical when a resumed run replays a step.
        """
        step = tf.cast(step, tf.int64)
        noise = {}
        for index, (name, item) in enumerate(sorted(spec.items())):
            if item.get("distribution", "normal") == "categorical":
                continue
            mix = (step * 1009 + tf.cast(replica_id(), tf.int64)) * 97 + salt * 13 + index
            seed = tf.stack([tf.constant(self.seed, tf.int64), mix])
            shape = tf.concat([[batch], tf.constant(item["shape"], tf.int32)], axis=0)
            if item.get("distribution", "normal") == "uniform":
                noise[name] = tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
            else:
                noise[name] = tf.random.stateless_normal(shape, seed)
        return noise

    @staticmethod
    def injected_noise(data) -> dict | None:
        """The generator inputs a batch carries under "noise" (tests inject them), or None."""
        inputs = data[0] if isinstance(data, tuple) else data
        return inputs.get("noise") if isinstance(inputs, dict) else None

    @staticmethod
    def apply_gradients(tape, loss, network, optimizer) -> None:
        """Differentiate `loss` (recorded on `tape`) for `network`'s weights and step."""
        variables = network.trainable_variables
        optimizer.apply(tape.gradient(loss, variables), variables)

    def train_discriminator(self, real, noise, d_loss_fn, step):
        """One step of `self.discriminator` (single-discriminator families): real clips up,
        clips generated from `noise` down, plus the gradient penalty with loss "wgan_gp".

        Returns (d_loss, real_logits, fake_logits).
        """
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = d_loss_fn(real_logits, fake_logits)
            if self.loss == "wgan_gp":
                alpha = tf.random.stateless_uniform(
                    [ops.shape(real)[0], 1, 1, 1, 1],
                    tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64) * 7 + 3]))
                d_loss += self.gp_weight * gradient_penalty(
                    lambda x: self.discriminator(x, training=True), real, fake, alpha)
            scaled_loss = self.for_gradients(d_loss, self.discriminator_optimizer)
        self.apply_gradients(tape, scaled_loss, self.discriminator, self.discriminator_optimizer)
        return d_loss, real_logits, fake_logits

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
