"""MoCoGAN: trains the motion/content generator against an image and a video discriminator."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from vidgen_tf.layers.condition_encoder import INPUT_NAMES, check_conditions
from vidgen_tf.losses import (
    category_loss,
    get_gan_loss,
    r1_penalty,
    words_loss,
)
from vidgen_tf.models.mocogan.mocogan_conditioning import (
    ConditionalGAN,
    check_arguments,
    mismatched,
    rows,
)
from vidgen_tf.models.mocogan.mocogan_draws import MoCoGANDraws
from vidgen_tf.models.mocogan.mocogan_generator import MoCoGANGenerator
from vidgen_tf.models.mocogan.mocogan_image_discriminator import MoCoGANImageDiscriminator
from vidgen_tf.models.mocogan.mocogan_video_discriminator import MoCoGANVideoDiscriminator
from vidgen_tf.training.diff_augment import check_policy
from vidgen_tf.training.gan_trainer import (
    DEFAULT_BETAS,
    DEFAULT_LEARNING_RATE,
    GANTrainer,
    default_adam,
)

# Salts of the stateless draws made here; `sample_noise` uses salts 0 and 1.
(_REAL_FRAMES, _FAKE_FRAMES, _G_FRAMES, _D_LABELS, _G_LABELS, _GP_IMAGE, _GP_VIDEO,
 _NOISE_REAL_IMAGES, _NOISE_FAKE_IMAGES, _NOISE_REAL_VIDEO, _NOISE_FAKE_VIDEO, _NOISE_G_IMAGES,
 _NOISE_G_VIDEO, _MISMATCH_IMAGE, _MISMATCH_VIDEO) = range(2, 17)
MISMATCHES = ("caption", "one_word")


@keras.saving.register_keras_serializable(package="vidgen_tf")
class MoCoGAN(ConditionalGAN, MoCoGANDraws, GANTrainer):
    """MoCoGAN, trained by `fit` with one optimizer per network (generator, D_I, D_V).

    Follows Tulyakov et al. 2018, "MoCoGAN: Decomposing Motion and Content for Video
    Generation", Algorithm 1: each step trains the image discriminator D_I on single frames
    (real frames against generated ones), the video discriminator D_V on clips, then the
    generator through both. With `num_classes > 0` (the paper's conditional model), D_V also
    learns to classify real clips, and the generator is pushed to make clips that D_V
    classifies as the label they were generated from (InfoGAN-style category loss).

    With `conditions` (any of "label", "text", "first_frame") the model generates what it is
    asked for. The generator encodes each condition into a code that drives both its motion
    GRU and every frame. Both discriminators are projection discriminators (Miyato & Koyama
    2018) for the label and the prompt: real frames and clips are judged together with their
    own label or caption, generated ones with the label or caption they were generated from,
    so a clip that is realistic but does not match is judged fake. The video discriminator
    also has auxiliary classifiers (AC-GAN, Odena et al. 2017), as the paper's category head:
    of the label, and of the caption's words (each word present or absent, which composes to
    captions never seen); both learn on real clips and pull the generator towards clips they
    classify as asked (weight `category_weight`). A first frame is seen
    by the generator only: each frame is that frame moved by a generated flow
    (`MoCoGANGenerator.first_frame_warp`), frame 0 is pulled towards it by an L1 loss
    (`first_frame_weight`), and the video discriminator's realism makes the rest move.

    Args:
        generator: MoCoGANGenerator (built from the other arguments when None).
        image_discriminator: MoCoGANImageDiscriminator (likewise).
        video_discriminator: MoCoGANVideoDiscriminator (likewise).
        frames, size, content_dim, motion_dim, noise_dim, num_classes, base_filters: used
            only when a network is built here; `base_filters` is ngf, and ndf unless
            `discriminator_filters` is given.
        discriminator_filters: int or None, default None. Filters of the discriminators'
            first layer (ndf) when they are built here; None means `base_filters`. A wider
            discriminator than generator keeps a small generator learning sharp edges.
        image_batch_size: int, default 10. Frames per image-discriminator batch, drawn at
            random (with replacement) from the clips of the step's batch.
        category_weight: float >= 0, default 1. Weight of the category loss, for D_V on real
            labels and for the generator on its own labels (unconditioned `num_classes` only).
        conditions: sequence of "label", "text", "first_frame", default (). See above.
            "label" takes `num_classes` classes; "text" takes `vocabulary`.
        condition_dim: int, default 32. Code length per condition, in every network.
        vocabulary: list of str or None. The words of the "text" condition's tokenizer
            (`vidgen_tf.runtime.tokenizer.WordTokenizer`), in id order.
        max_tokens: int, default 0. Token ids per prompt ("text").
        first_frame_weight: float >= 0, default 10. Weight of the L1 loss between the
            generated first frame and the given one ("first_frame").
        image_aux_heads: bool, default True. Used only when the image discriminator is built
            here with a label or text condition: give it auxiliary classifiers too (class
            logits, word logits) that judge each frame's condition with `category_weight`. A
            single frame shows the shape and colour asked for more plainly than a clip.
        image_aux_hidden: int >= 0, default 0. The image discriminator's `aux_hidden`: a
            hidden 1x1 conv of this many channels in its classifiers (0: linear).
        mismatch_weight: float in [0, 1), default 0.5. With a label or text condition, the
            share of each discriminator's "fake" side given to real clips paired with another
            clip's condition (the matching-aware discriminator of GAN-CLS, Reed et al. 2016,
            used for video by TGANs-C): the discriminators must check that a clip matches its
            condition, not only that it looks real. 0 turns it off.
        mismatch: "caption" (default) or "one_word". How a prompt is mismatched: "caption"
            pairs a clip with the next clip's whole caption; "one_word" swaps a single word
            of its own caption for the next caption's word in the same place, a different
            one (`mismatched`), so that colour alone does not give the mismatch away (not
            better so far: docs/conditional.md). Labels are always the next clip's.
        gp_weight: float, default 10. Weight of the gradient penalty with loss "wgan_gp".
        noise_sigma: float >= 0, default 0. Standard deviation of Gaussian noise added to
            every discriminator input (real and generated), as the authors' `--use_noise
            --noise_sigma` option does. It keeps the discriminators from winning outright on
            simple data (the built-in shapes); 0 disables it.
        minibatch_std: bool, default False. Used only when the discriminators are built
            here: give both ProGAN's minibatch standard deviation channel, which shows them
            a collapsed generator's lack of spread.
        spectral_norm: bool, default False. Used only when the discriminators are built
            here: spectral normalization in both instead of BatchNorm (SNGAN).
        discriminator_head: "patch" (default, the paper's) or "global". Used only when the
            discriminators are built here: one logit per patch, or one per frame and per clip
            (see `MoCoGANImageDiscriminator`; "global" is what sparse data such as the
            built-in shapes needs).
        diff_augment: str, default "". DiffAugment's policy (Zhao et al. 2020): any of
            "color", "translation", "cutout", comma-separated. Every input of both
            discriminators, real and generated, in their steps and the generator's, is
            augmented with fresh draws (one transform per clip, for all of its frames), so
            that the discriminators cannot memorise a small dataset. "" disables it.
        r1_weight: float >= 0, default 0. gamma of the R1 penalty (Mescheder et al. 2018):
            both discriminator losses add gamma / 2 times the mean squared norm of their
            gradient on real inputs. 0 disables it.
        upsample: "transpose" (default, the paper's) or "resize". Used only when the generator
            is built here: how its layers double the frame (see `MoCoGANGenerator`).
        generator_learning_rate, discriminator_learning_rate: float, default 2e-4 each. The
            learning rates of the default optimizers (`compile` without optimizers); unequal
            rates are the two time-scale update rule (TTUR, Heusel et al. 2017).
        adam_betas: (beta_1, beta_2), default (0.5, 0.999). Adam's betas in the default
            optimizers.
        generator_ema: float in [0, 1), default 0. With a value > 0 (e.g. 0.999) the default
            generator optimizer keeps an exponential moving average of the generator's
            weights with this decay; samples and exports use it (`averaged_generator`).
        generator_ema_warmup: bool, default False. Warm the average up (`WarmupEMAAdamW`):
            decay min(generator_ema, (1 + t) / (10 + t)) at step t, so that a short run's
            samples are not dominated by the random initial weights.
        seed: int, default 0. Seed of the noise, labels and frame picks drawn in `train_step`.

    `fit` data: batches of real video `(batch, frames, size, size, 3)` in [-1, 1], or dicts
    with a "video" entry (as `vidgen_tf.data.load_dataset` yields). With `num_classes > 0`
    the real labels are int `(batch,)` in [0, num_classes): the dict's "label" entry, or `y`
    of `fit(x=videos, y=labels)`. A dict may also carry "noise" (`{"content", "motion"[,
    "label"]}`) to inject the generator's noise, and "frame_picks" (int `(batch, k)`) to
    choose the image discriminator's frames.

    Example:
        >>> gan = MoCoGAN(frames=8, size=16, content_dim=8, base_filters=8, image_batch_size=4)
        >>> gan.compile(loss="bce")
        >>> history = gan.fit(keras.random.uniform((4, 8, 16, 16, 3), -1, 1), batch_size=2,
        ...                   epochs=1, verbose=0)
    """

    objective_names = ("image_d_loss", "video_d_loss", "g_loss")
    optimizer_names = ("generator_optimizer", "image_discriminator_optimizer",
                       "video_discriminator_optimizer")

    def __init__(self, generator: MoCoGANGenerator | None = None,
                 image_discriminator: MoCoGANImageDiscriminator | None = None,
                 video_discriminator: MoCoGANVideoDiscriminator | None = None, *,
                 frames: int = 16, size: int = 64, content_dim: int = 50, motion_dim: int = 10,
                 noise_dim: int = 10, num_classes: int = 0, base_filters: int = 64,
                 image_batch_size: int = 10, category_weight: float = 1.0,
                 gp_weight: float = 10.0, noise_sigma: float = 0.0, minibatch_std: bool = False,
                 spectral_norm: bool = False, discriminator_filters: int | None = None,
                 discriminator_head: str = "patch", diff_augment: str = "",
                 r1_weight: float = 0.0, upsample: str = "transpose",
                 generator_learning_rate: float = DEFAULT_LEARNING_RATE,
                 discriminator_learning_rate: float = DEFAULT_LEARNING_RATE,
                 adam_betas: tuple[float, float] = DEFAULT_BETAS, generator_ema: float = 0.0,
                 generator_ema_warmup: bool = False, conditions=(), condition_dim: int = 32,
                 vocabulary: list | None = None,
                 max_tokens: int = 0, first_frame_weight: float = 10.0,
                 image_aux_heads: bool = True, image_aux_hidden: int = 0,
                 mismatch_weight: float = 0.5,
                 mismatch: str = "caption", seed: int = 0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_arguments(image_batch_size=image_batch_size, noise_sigma=noise_sigma,
                        generator_learning_rate=generator_learning_rate,
                        discriminator_learning_rate=discriminator_learning_rate,
                        generator_ema=generator_ema, r1_weight=r1_weight,
                        category_weight=category_weight, first_frame_weight=first_frame_weight,
                        mismatch_weight=mismatch_weight)
        conditions = check_conditions(conditions, "MoCoGAN")
        if mismatch not in MISMATCHES:
            raise ValueError(f"mismatch must be one of {', '.join(MISMATCHES)} for MoCoGAN; "
                             f"received mismatch={mismatch!r}")
        self._augment_policy = check_policy(diff_augment, "MoCoGAN")
        vocabulary = list(vocabulary) if vocabulary else None
        if "text" in conditions and (not vocabulary or max_tokens < 1):
            raise ValueError("the text condition needs the tokenizer's vocabulary and "
                             f"max_tokens >= 1; received {len(vocabulary or [])} words and "
                             f"max_tokens={max_tokens}")
        vocab_size = len(vocabulary) + 1 if vocabulary else 0
        # Networks
        self.generator = generator or MoCoGANGenerator(
            frames=frames, size=size, content_dim=content_dim, motion_dim=motion_dim,
            noise_dim=noise_dim, num_classes=num_classes, base_filters=base_filters,
            conditions=conditions, condition_dim=condition_dim, vocab_size=vocab_size,
            upsample=upsample)
        g = self.generator
        ndf = discriminator_filters or base_filters
        judged = tuple(c for c in g.conditions if c in ("label", "text"))
        projected = {"conditions": judged, "condition_dim": g.condition_dim,
                     "vocab_size": g.vocab_size}
        # The category head: the paper's for an unconditioned num_classes, or the label's.
        head_classes = g.num_classes
        self.image_discriminator = image_discriminator or MoCoGANImageDiscriminator(
            size=g.size, base_filters=ndf, channels=g.channels,
            minibatch_std=minibatch_std, spectral_norm=spectral_norm, head=discriminator_head,
            num_classes=g.num_classes if "label" in judged else 0, aux_heads=image_aux_heads,
            aux_hidden=image_aux_hidden, **projected)
        self.video_discriminator = video_discriminator or MoCoGANVideoDiscriminator(
            frames=g.frames, size=g.size, base_filters=ndf,
            num_classes=head_classes, channels=g.channels, minibatch_std=minibatch_std,
            spectral_norm=spectral_norm, head=discriminator_head,
            condition_classes=g.num_classes if "label" in judged else 0,
            word_head="text" in judged, **projected)
        d_i, d_v = self.image_discriminator, self.video_discriminator
        if (d_i.size, d_v.size, d_v.frames, d_v.num_classes) != (
                g.size, g.size, g.frames, head_classes):
            raise ValueError(
                "generator and discriminators must agree on frames, size and num_classes; "
                f"received generator frames={g.frames} size={g.size} "
                f"num_classes={g.num_classes}, image_discriminator size={d_i.size}, "
                f"video_discriminator frames={d_v.frames} size={d_v.size} "
                f"num_classes={d_v.num_classes}")

        # Config
        self.frames, self.size = g.frames, g.size
        self.content_dim, self.motion_dim, self.noise_dim = (
            g.content_dim, g.motion_dim, g.noise_dim)
        self.num_classes = g.num_classes
        self.base_filters = base_filters
        self.image_batch_size = image_batch_size
        self.category_weight = category_weight
        self.gp_weight = gp_weight
        self.noise_sigma = noise_sigma
        self.minibatch_std = minibatch_std
        self.spectral_norm = spectral_norm
        self.discriminator_filters = discriminator_filters
        self.discriminator_head = discriminator_head
        self.diff_augment = diff_augment
        self.r1_weight = r1_weight
        self.upsample = getattr(g, "upsample", upsample)
        self.generator_learning_rate = generator_learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.adam_betas = tuple(adam_betas)
        self.generator_ema = generator_ema
        self.generator_ema_warmup = bool(generator_ema_warmup)
        self.conditions = g.conditions
        self.condition_dim = g.condition_dim
        self.vocabulary = vocabulary
        self.max_tokens = max_tokens
        self.first_frame_weight = first_frame_weight
        self.image_aux_heads = getattr(d_i, "aux_heads", False)
        self.image_aux_hidden = getattr(d_i, "aux_hidden", 0)
        self.mismatch_weight = mismatch_weight
        self.mismatch = mismatch
        self.add_trackers("image_d_loss", "video_d_loss", "g_loss")
        if self.num_classes:
            self.add_trackers("d_category_loss", "g_category_loss")
        if "text" in self.conditions:
            self.add_trackers("d_words_loss", "g_words_loss")
        if self.image_aux_heads:
            self.add_trackers("d_image_aux_loss", "g_image_aux_loss")
        if "first_frame" in self.conditions:
            self.add_trackers("first_frame_l1")
            if getattr(g, "adds_flow_loss", False):
                self.add_trackers("flow_smoothness_loss")

    @property
    def data_keys(self) -> tuple[str, ...]:
        """What `train_step` reads from each batch: the clips and their conditions."""
        return ("video", *(INPUT_NAMES[c] for c in self.conditions))

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        rate = (self.generator_learning_rate if name == "generator_optimizer"
                else self.discriminator_learning_rate)
        # The paper's Adam, weight decay 1e-5.
        ema = self.generator_ema if name == "generator_optimizer" else 0.0
        return default_adam(weight_decay=1e-5, learning_rate=rate, betas=self.adam_betas,
                            ema_decay=ema, ema_warmup=self.generator_ema_warmup)

    def build(self, input_shape=None):
        self.generator.build()
        self.image_discriminator.build()
        self.video_discriminator.build()
        self.built = True

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    # ------------------------------------------------------------------ training

    def train_step(self, data):
        real = self.real_videos(data)
        batch = ops.shape(real)[0]
        step = self.generator_optimizer.iterations
        injected = self.injected_noise(data)
        g_loss_fn, d_loss_fn = get_gan_loss(self.loss)
        d_image, d_video = self.image_discriminator, self.video_discriminator
        logs = {}

        # The conditions of the real clips; generated clips are made for the same ones.
        given = self._given_conditions(data)
        judged = {k: v for k, v in given.items() if k != "first_frame"}

        # Sample one generated batch for both discriminator updates.
        noise = self._noise(injected, batch, 0, _D_LABELS, step)
        fake = self.generator({**noise, **given}, training=True)

        # Train the image discriminator on random frames of real and generated clips.
        picks = self._injected_picks(data)
        real_images, real_ids = self._sample_frames(real, _REAL_FRAMES, step, picks)
        fake_images, fake_ids = self._sample_frames(fake, _FAKE_FRAMES, step, picks)
        real_images = self._noisy(real_images, _NOISE_REAL_IMAGES, step)
        fake_images = self._noisy(fake_images, _NOISE_FAKE_IMAGES, step)
        real_image_cond = rows(judged, real_ids)
        fake_image_cond = rows(judged, fake_ids)
        with tf.GradientTape() as tape:
            real_image_out = d_image(real_images, real_image_cond, training=True, aux=True)
            real_logits = real_image_out["logits"]
            image_d_loss = self._matching_aware(
                d_loss_fn, real_logits, d_image(fake_images, fake_image_cond, training=True),
                lambda: d_image(real_images,
                                self._mismatched(real_image_cond, _MISMATCH_IMAGE, step),
                                training=True))
            if self.loss == "wgan_gp":
                image_d_loss += self._gradient_penalty(
                    lambda x: d_image(x, real_image_cond, training=True), real_images,
                    fake_images, _GP_IMAGE, step)
            if self.r1_weight:
                image_d_loss += self.r1_weight / 2 * r1_penalty(
                    lambda x: d_image(x, real_image_cond, training=True), real_images)
            if self.image_aux_heads:
                logs["d_image_aux_loss"] = self._aux_loss(real_image_out, real_image_cond)
                image_d_loss += self.category_weight * logs["d_image_aux_loss"]
            scaled_loss = self.for_gradients(image_d_loss, self.image_discriminator_optimizer)
        self.apply_gradients(tape, scaled_loss, d_image, self.image_discriminator_optimizer)

        # Train the video discriminator on clips (and, if conditional, to classify real ones).
        real = self._noisy(real, _NOISE_REAL_VIDEO, step)
        fake = self._noisy(fake, _NOISE_FAKE_VIDEO, step)
        video_cond = judged or None
        with tf.GradientTape() as tape:
            real_out = d_video(real, video_cond, training=True)
            video_d_loss = self._matching_aware(
                d_loss_fn, real_out["logits"], d_video(fake, video_cond, training=True)["logits"],
                lambda: d_video(real, self._mismatched(video_cond, _MISMATCH_VIDEO, step),
                                training=True)["logits"])
            if self.loss == "wgan_gp":
                video_d_loss += self._gradient_penalty(
                    lambda x: d_video(x, video_cond, training=True)["logits"], real, fake,
                    _GP_VIDEO, step)
            if self.r1_weight:
                video_d_loss += self.r1_weight / 2 * r1_penalty(
                    lambda x: d_video(x, video_cond, training=True)["logits"], real)
            if self.num_classes:
                logs["d_category_loss"] = category_loss(self._real_labels(data),
                                                        real_out["class_logits"])
                video_d_loss += self.category_weight * logs["d_category_loss"]
            if "text" in self.conditions:
                logs["d_words_loss"] = words_loss(given["prompt_tokens"],
                                                  real_out["word_logits"], d_video.vocab_size)
                video_d_loss += self.category_weight * logs["d_words_loss"]
            scaled_loss = self.for_gradients(video_d_loss, self.video_discriminator_optimizer)
        self.apply_gradients(tape, scaled_loss, d_video, self.video_discriminator_optimizer)

        # Train the generator through both discriminators (and D_V's category head).
        noise = self._noise(injected, batch, 1, _G_LABELS, step)
        with tf.GradientTape() as tape:
            fake = self.generator({**noise, **given}, training=True)
            fake_out = d_video(self._noisy(fake, _NOISE_G_VIDEO, step), video_cond,
                               training=True)
            fake_images, fake_ids = self._sample_frames(fake, _G_FRAMES, step, picks)
            fake_images = self._noisy(fake_images, _NOISE_G_IMAGES, step)
            fake_image_cond = rows(judged, fake_ids)
            fake_image_out = d_image(fake_images, fake_image_cond, training=True, aux=True)
            g_loss = g_loss_fn(fake_image_out["logits"]) + g_loss_fn(fake_out["logits"])
            if self.image_aux_heads:
                logs["g_image_aux_loss"] = self._aux_loss(fake_image_out, fake_image_cond)
                g_loss += self.category_weight * logs["g_image_aux_loss"]
            if self.num_classes:
                labels = given["label"] if "label" in given else noise["label"]
                logs["g_category_loss"] = category_loss(labels, fake_out["class_logits"])
                g_loss += self.category_weight * logs["g_category_loss"]
            if "text" in self.conditions:
                logs["g_words_loss"] = words_loss(given["prompt_tokens"],
                                                  fake_out["word_logits"], d_video.vocab_size)
                g_loss += self.category_weight * logs["g_words_loss"]
            if "first_frame" in given:
                # The clip starts from the given frame.
                logs["first_frame_l1"] = ops.mean(ops.abs(
                    ops.cast(fake[:, 0], "float32") - ops.cast(given["first_frame"], "float32")))
                g_loss += self.first_frame_weight * logs["first_frame_l1"]
            if self.generator.losses:
                # The warp's flow smoothness (MoCoGANGenerator.flow_smoothness), weighted.
                logs["flow_smoothness_loss"] = ops.sum(self.generator.losses)
                g_loss += logs["flow_smoothness_loss"]
            scaled_loss = self.for_gradients(g_loss, self.generator_optimizer)
        self.apply_gradients(tape, scaled_loss, self.generator, self.generator_optimizer)

        return self.record(image_d_loss=image_d_loss, video_d_loss=video_d_loss,
                           g_loss=g_loss, **logs)

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            image_discriminator=keras.saving.serialize_keras_object(self.image_discriminator),
            video_discriminator=keras.saving.serialize_keras_object(self.video_discriminator),
            frames=self.frames, size=self.size, content_dim=self.content_dim,
            motion_dim=self.motion_dim, noise_dim=self.noise_dim, num_classes=self.num_classes,
            base_filters=self.base_filters, image_batch_size=self.image_batch_size,
            category_weight=self.category_weight, gp_weight=self.gp_weight,
            noise_sigma=self.noise_sigma, minibatch_std=self.minibatch_std,
            spectral_norm=self.spectral_norm, discriminator_filters=self.discriminator_filters,
            discriminator_head=self.discriminator_head, diff_augment=self.diff_augment,
            r1_weight=self.r1_weight, upsample=self.upsample,
            generator_learning_rate=self.generator_learning_rate,
            discriminator_learning_rate=self.discriminator_learning_rate,
            adam_betas=list(self.adam_betas), generator_ema=self.generator_ema,
            generator_ema_warmup=self.generator_ema_warmup, conditions=list(self.conditions),
            condition_dim=self.condition_dim,
            vocabulary=self.vocabulary, max_tokens=self.max_tokens,
            first_frame_weight=self.first_frame_weight, image_aux_heads=self.image_aux_heads,
            image_aux_hidden=self.image_aux_hidden,
            mismatch_weight=self.mismatch_weight, mismatch=self.mismatch,
            seed=self.seed)
        return config

    def _mismatched(self, conditions: dict, salt: int, step) -> dict:
        """The matching-aware loss's wrong conditions (`mismatched`), drawn per step."""
        seed = self._seed(salt, step) if self.mismatch == "one_word" else None
        return mismatched(conditions, seed)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator", "image_discriminator", "video_discriminator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
