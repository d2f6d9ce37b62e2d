"""The annotation loop: which items annotators should label next (``next``), whether the model is
still changing (``stopping``), and which gold labels a model doubts (``audit``).

Orchestration over the layers below: the corpus store and Label Studio (annotation) give the pool,
a logged model (training) scores it, a query strategy (``training.query``) picks the batch, and
MLflow keeps each round so the annotation history can be replayed.
"""
