"""Annotation stage: Label Studio projects, tasks and exports, all derived from the schema."""
