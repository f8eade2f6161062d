"""Model families, one folder each: generator, discriminator(s), trainer and presets."""
