"""Training stage: experiments defined by config files, models tracked in MLflow."""
