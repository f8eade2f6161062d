"""Training helpers: the GAN trainer base, callbacks, run directories, distribution."""
