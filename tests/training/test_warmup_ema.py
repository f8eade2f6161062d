"""The warmed-up moving average of the generator's weights (`WarmupEMAAdamW`)."""

import keras
import numpy as np

from vidgen_tf.models.mocogan import MoCoGAN
from vidgen_tf.training.trainer import WarmupEMAAdamW


def test_the_average_follows_the_recurrence_worked_by_hand():
    # Constant gradients: Adam moves each weight by the learning rate per step (0.9, 0.8,
    # ...). Step 0 copies the weights; step t >= 1 averages with decay (1 + t) / (10 + t)
    # while that is below 0.999. Keras' fixed 0.999 would leave the average near the start.
    v = keras.Variable(np.array([1.0, -2.0], "float32"))
    opt = WarmupEMAAdamW(learning_rate=0.1, weight_decay=0.0, use_ema=True,
                         ema_momentum=0.999)
    opt.build([v])
    seen = []
    for _ in range(5):
        opt.apply([keras.ops.convert_to_tensor(np.array([1.0, -1.0], "float32"))], [v])
        seen.append(v.numpy().copy())
    average = seen[0]
    for t, weights in enumerate(seen[1:], start=1):
        decay = (1 + t) / (10 + t)
        average = decay * average + (1 - decay) * weights
    np.testing.assert_allclose(opt._model_variables_moving_average[0].numpy(), average,
                               rtol=1e-5)
    # By hand for the first weight: 0.9; 2/11 * 0.9 + 9/11 * 0.8 = 0.8182; 3/12 * 0.8182 +
    # 9/12 * 0.7 = 0.7295; 4/13 * 0.7295 + 9/13 * 0.6 = 0.6399; 5/14 * 0.6399 + 9/14 * 0.5
    # = 0.5500. Keras' fixed 0.999 gives 0.8996.
    assert abs(float(average[0]) - 0.5500) < 1e-3


def test_a_trainer_with_warmup_saves_and_loads_it(tmp_path):
    from vidgen_tf.models import load_model

    model = MoCoGAN(frames=8, size=16, content_dim=8, motion_dim=4, noise_dim=4,
                    base_filters=8, image_batch_size=4, generator_ema=0.999,
                    generator_ema_warmup=True)
    model.compile()
    assert isinstance(model.generator_optimizer, WarmupEMAAdamW)
    assert model.get_config()["generator_ema_warmup"] is True
    model.build()
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded.generator_optimizer, WarmupEMAAdamW)
    assert loaded.generator_ema_warmup is True
