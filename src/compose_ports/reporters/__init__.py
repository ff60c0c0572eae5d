"""Reporters turn the model and findings into text. They format; they never compute."""
