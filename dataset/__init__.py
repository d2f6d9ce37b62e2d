"""Dataset stage: labelled items (from Label Studio exports or external sets) to a Hugging Face DatasetDict."""
