"""SVG-LP stochastic frame prediction (Denton & Fergus 2018): the networks and the trainer."""

from vidgen_tf.models.svg.networks import SVGDecoder, SVGEncoder, SVGNetwork, SVGStep
from vidgen_tf.models.svg.svg import SVG

__all__ = ["SVG", "SVGDecoder", "SVGEncoder", "SVGNetwork", "SVGStep"]
