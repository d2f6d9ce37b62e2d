"""The MLflow pyfunc of every newslab model ("models from code": this file is the model's code,
nothing is pickled). ``mlflow.pyfunc.load_model(uri).predict(texts_or_frame)`` follows
``newslab_model.contract``; ``params={"predict_method": "predict_proba"}`` gives the
probabilities alone."""

from __future__ import annotations

import mlflow
from mlflow.pyfunc import PythonModel

from newslab_model import contract, load


class NewslabModel(PythonModel):
    def load_context(self, context):  # type: ignore[no-untyped-def]  # no hints: MLflow would validate them
        self.card = contract.Card.from_config(context.model_config)
        self.estimator = load.estimator(context.artifacts["estimator"], self.card)

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        method = (params or {}).get(contract.PREDICT_METHOD, "predict")
        return contract.predict_frame(self.estimator, model_input, self.card, method)


mlflow.models.set_model(NewslabModel())
