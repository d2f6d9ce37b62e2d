"""What a logged newslab model runs where it predicts: its estimators, its input and output
contract, and the MLflow pyfunc wrapper.

Every logged model ships this package as its code, under this name, which cannot clash with a
user's own ``training`` or ``core``. Nothing here imports newslab's other packages when a model
predicts (``core`` only at fit time, guarded), so ``mlflow.pyfunc.load_model`` works in an
environment without newslab installed.
"""
