"""Model families, one module each; every module here registers its own (see ``training.registry``)."""
