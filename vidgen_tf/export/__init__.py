"""Export trained generators to SavedModel and ONNX with a manifest, verified for parity.

Importing this package does not import TensorFlow; `export_generator` does, when called.
"""


def export_generator(*args, **kwargs):
    from vidgen_tf.export.generator_export import export_generator as export

    return export(*args, **kwargs)


__all__ = ["export_generator"]
