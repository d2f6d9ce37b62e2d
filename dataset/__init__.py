"""Dataset stage: labelled items (Label Studio exports, external sets) to a Hugging Face DatasetDict."""
